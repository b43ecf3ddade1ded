package codegen

import (
	"fmt"
	"go/types"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// Windowed aggregations over tumbling and hopping windows. For each record the
// generated code walks the windows the record falls in, oldest first, and for each
// window that is still open (end + grace > stream time) reads, updates and writes
// the aggregate of (key, window start), then passes the update on with the key
// streams.Windowed[K]. A record that falls in no open window is late: it is
// counted (runtime.LateCounter) and, with LateRecordsTo, written unchanged to the
// late topic. As in Kafka Streams' KStreamWindowAggregate, a record partly late
// (a hopping window closed, a later one open) updates only the open windows.
//
// The store is the aggregation's typed cache keyed by the plain key's bytes and
// the window start (8 bytes big-endian), the layout of Kafka Streams' windowed
// keys, so one key's windows sort by start.
//
//	start5 := max(0, ts5-size+advance) / advance * advance   // the oldest window
//	for ; start5 <= ts5; start5 += advance {
//		if start5+size+grace <= t.streamTime { continue }      // closed
//		... read-modify-write of sk5 = key | start5 ...
//		w5 := streams.Windowed[K]{Key: k, Start: ..., End: ...}
//		... what follows the aggregation, with w5 and agg5 ...
//	}

// unsupported reports the windowed steps this version cannot generate yet, at
// their DSL call, so that no topology compiles into code that does something else.
func unsupported(pkg *ir.Package) []error {
	var errs []error
	for _, g := range pkg.Graphs {
		for _, n := range g.Nodes {
			switch {
			case n.Window != nil && n.Window.Kind != ir.TumblingWindow && n.Window.Kind != ir.HoppingWindow:
				errs = append(errs, ir.Errorf(n.Pos, "%s over %s windows: gofkagen does not generate this yet (only tumbling and hopping windows)", n.Op, n.Window.Kind))
			case n.Op == ir.OpSuppress:
				errs = append(errs, ir.Errorf(n.Pos, "Suppress: gofkagen does not generate suppression yet (it waits for the suppression buffer store)"))
			}
		}
	}
	return errs
}

// hasWindows reports whether a sub-topology keeps stream time for windows.
func hasWindows(st *ir.SubTopology) bool {
	for _, n := range st.Nodes {
		if n.Window != nil {
			return true
		}
	}
	return false
}

// windowed emits a tumbling or hopping windowed aggregation of the record in k, v
// and what follows it, once per open window.
func (t *taskGen) windowed(n *ir.Node, k, v string) []jen.Code {
	w := n.Window
	size, advance, grace := int(w.Size.Milliseconds()), int(w.Advance.Milliseconds()), int(w.Grace.Milliseconds())
	ts, start, open := t.l(fmt.Sprintf("ts%d", n.ID)), t.l(fmt.Sprintf("start%d", n.ID)), t.l(fmt.Sprintf("open%d", n.ID))
	sk, skLen := t.l(fmt.Sprintf("sk%d", n.ID)), t.l(fmt.Sprintf("skLen%d", n.ID))
	wk := t.l(fmt.Sprintf("w%d", n.ID))
	s := n.Store
	t.buffers["storeKey"] = true

	out := []jen.Code{
		jen.Commentf("%s over %s windows of %s: every window the record falls in, oldest first.", n, w.Kind, w.Size),
		jen.Id(ts).Op(":=").Id(t.l("r")).Dot("Timestamp"),
	}
	// The store key: the plain key's bytes, then the window start. The key is
	// encoded once; each window rewrites the last 8 bytes.
	enc, key := t.encode(s.KeySerde, k, "storeKey", sk, "encode key for store "+s.Name)
	if len(enc) == 0 {
		out = append(out, jen.Id(sk).Op(":=").Append(jen.Id(t.l("t")).Dot("storeKey").Index(jen.Empty(), jen.Lit(0)), jen.Add(key).Op("...")))
	} else {
		out = append(out, enc...)
	}
	out = append(out,
		jen.Id(skLen).Op(":=").Len(jen.Id(sk)),
		jen.Id(open).Op(":=").False().Comment("whether some window was still open"),
		jen.For(
			jen.Id(start).Op(":=").Max(jen.Lit(0), jen.Id(ts).Op("-").Lit(size).Op("+").Lit(advance)).Op("/").Lit(advance).Op("*").Lit(advance),
			jen.Id(start).Op("<=").Id(ts),
			jen.Id(start).Op("+=").Lit(advance),
		).Block(t.windowBody(n, k, v, start, sk, skLen, wk, size, grace)...),
	)
	return append(out, t.late(n, open)...)
}

// windowBody is one window's step: skip it if closed, else update its aggregate
// and run what follows.
func (t *taskGen) windowBody(n *ir.Node, k, v, start, sk, skLen, wk string, size, grace int) []jen.Code {
	body := []jen.Code{
		jen.If(jen.Id(start).Op("+").Lit(size + grace).Op("<=").Id(t.l("t")).Dot("streamTime")).Block(
			jen.Continue().Comment("closed: its end plus grace has passed"),
		),
		jen.Id(t.l(fmt.Sprintf("open%d", n.ID))).Op("=").True(),
		jen.Id(sk).Op("=").Qual("encoding/binary", "BigEndian").Dot("AppendUint64").Call(jen.Id(sk).Index(jen.Empty(), jen.Id(skLen)), jen.Uint64().Call(jen.Id(start))),
		jen.Id(t.l("t")).Dot("storeKey").Op("=").Id(sk),
	}
	body = append(body, t.update(n, k, v, jen.Id(sk))...)
	body = append(body, jen.Id(wk).Op(":=").Qual(streamsPath, "Windowed").Types(typ(n.Inputs[0].Node.Key)).Values(
		jen.Id("Key").Op(":").Id(k),
		jen.Id("Start").Op(":").Qual("time", "UnixMilli").Call(jen.Id(start)).Dot("UTC").Call(),
		jen.Id("End").Op(":").Qual("time", "UnixMilli").Call(jen.Id(start).Op("+").Lit(size)).Dot("UTC").Call(),
	))
	return append(body, t.children(n, 0, wk, t.l(fmt.Sprintf("agg%d", n.ID)), modeLoop)...)
}

// late emits what happens to a record that fell in no open window.
func (t *taskGen) late(n *ir.Node, open string) []jen.Code {
	stmts := []jen.Code{jen.Id(t.l("t")).Dot("late").Dot("Inc").Call()}
	if len(n.Topics) > 0 {
		topic := n.Topics[0]
		id := t.topicIDs[topicKey{topic.Name, false}]
		stmts = append(stmts, jen.Id(t.l("t")).Dot("out").Dot("Emit").Call(jen.Lit(id), jen.Id(t.l("r")).Dot("Key"), jen.Id(t.l("r")).Dot("Value"), jen.Id(t.l("r")).Dot("Timestamp")).
			Commentf("unchanged, to the late records' %s", topicRef(topic)))
	}
	return []jen.Code{jen.If(jen.Op("!").Id(open)).Block(append([]jen.Code{jen.Comment("late: every window it falls in has closed")}, stmts...)...)}
}

// windowedSerde is the identity and the value of a Windowed[K] key serde: Kafka
// Streams' windowed layout around the plain key's serde, e.g.
//
//	streams.TimeWindowedSerde[string, streams.StringSerde[string]]{Inner: gofkaSerdeString, Size: 60000 * time.Millisecond}
func windowedSerde(g *gen, s *ir.Serde) (string, jen.Code) {
	inner := s.Inner
	var innerType jen.Code
	if inner.Builtin != "" {
		innerType = jen.Qual(streamsPath, inner.Builtin).Types(typ(inner.Type))
	} else {
		innerType = typ(inner.SerdeType)
	}
	fields := jen.Dict{jen.Id("Inner"): g.serde(inner)}
	if s.Builtin == "TimeWindowedSerde" {
		fields[jen.Id("Size")] = jen.Lit(int(s.WindowSize.Milliseconds())).Op("*").Qual("time", "Millisecond")
	}
	id := fmt.Sprintf("%s[%s] of %s, %d", s.Builtin, types.TypeString(s.Type, nil), g.serdeVar(inner), s.WindowSize)
	return id, jen.Qual(streamsPath, s.Builtin).Types(typ(inner.Type), innerType).Values(fields)
}
