package codegen

import (
	"fmt"
	"go/types"
	"path/filepath"
	"time"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// topologyGen emits the code of one topology.
type topologyGen struct {
	*gen
	graph    *ir.Graph
	lower    string // the topology's name, unexported: prefixes its declarations
	compiled string // name of the Compiled<Topology> function
	topics   []topicEntry
	topicIDs map[topicKey]int
	literals map[*ir.Func]string // literal user functions -> declared names
	tasks    []taskNames         // by sub-topology
}

type taskNames struct{ typ, constructor string }

type topicKey struct {
	name     string
	internal bool
}

type topicEntry struct {
	name       string
	kind       string     // runtime.TopicKind constant
	key, value types.Type // of its records, as the serdes of its first user see them
}

func (tg *topologyGen) emit() []jen.Code {
	tg.compiled = tg.names.name(compiledName(tg.graph.Name))
	tg.assignTopics()
	for _, st := range tg.graph.SubTopologies {
		tg.tasks = append(tg.tasks, taskNames{
			typ:         tg.names.name(fmt.Sprintf("%sTask%d", tg.lower, st.ID)),
			constructor: tg.names.name(fmt.Sprintf("new%sTask%d", upperFirst(tg.graph.Name), st.ID)),
		})
	}
	var out []jen.Code
	out = append(out, tg.literalFuncs()...)
	out = append(out, tg.program()...)
	out = append(out, tg.storesClient()...)
	for _, st := range tg.graph.SubTopologies {
		t := &taskGen{topologyGen: tg, st: st}
		out = append(out, t.emit()...)
	}
	return out
}

// topicID numbers a topic in the Program's topic table, adding it on first use
// with the types of the serdes its records are encoded with there.
func (tg *topologyGen) topicID(t *ir.Topic, kind string, key, value *ir.Serde) int {
	k := topicKey{t.Name, t.Kind != ir.ExternalTopic}
	if id, ok := tg.topicIDs[k]; ok {
		return id
	}
	id := len(tg.topics)
	tg.topicIDs[k] = id
	tg.topics = append(tg.topics, topicEntry{t.Name, kind, serdeType(key), serdeType(value)})
	return id
}

func serdeType(s *ir.Serde) types.Type {
	if s == nil {
		return nil
	}
	return s.Type
}

func (tg *topologyGen) assignTopics() {
	tg.topicIDs = map[topicKey]int{}
	for _, n := range tg.graph.Nodes {
		for _, t := range n.Topics {
			switch {
			case t.Kind == ir.RepartitionTopic:
				tg.topicID(t, "RepartitionTopic", n.KeySerde, n.ValueSerde)
			case n.Op == ir.OpSink:
				tg.topicID(t, "SinkTopic", n.KeySerde, n.ValueSerde)
			case n.Window != nil: // late records, as they came in
				tg.topicID(t, "SinkTopic", nil, nil)
			default:
				tg.topicID(t, "SourceTopic", n.KeySerde, n.ValueSerde)
			}
		}
	}
	for _, s := range tg.graph.Stores {
		if s.Node.Window != nil || s.Node.Op == ir.OpSuppress { // the store's own layout: no record types
			tg.topicID(s.Changelog, "ChangelogTopic", nil, nil)
			continue
		}
		tg.topicID(s.Changelog, "ChangelogTopic", s.KeySerde, s.ValueSerde)
	}
	tg.globalTopics()
}

// literalFuncs declares each function literal of the topology as a package-level
// function, so tasks call it directly rather than through a closure.
func (tg *topologyGen) literalFuncs() []jen.Code {
	tg.literals = map[*ir.Func]string{}
	var out []jen.Code
	for _, n := range tg.graph.Nodes {
		for i, f := range n.Fns {
			if !f.Literal {
				tg.pin(f)
				continue
			}
			base := fmt.Sprintf("%s%s%d", tg.lower, n.Op, n.ID)
			if len(n.Fns) > 1 {
				base += fmt.Sprintf("Fn%d", i)
			}
			name := tg.names.name(base)
			tg.literals[f] = name
			body := append(ir.Code(nil), f.Code...)
			body[0].Text = body[0].Text[len("func"):]
			out = append(out,
				jen.Commentf("%s is the function literal at %s:%d:%d.", name, filepath.Base(f.Pos.Filename), f.Pos.Line, f.Pos.Column),
				jen.Func().Id(name).Add(code(body)),
				jen.Line(),
			)
		}
	}
	return out
}

// call renders a call of user function f.
func (tg *topologyGen) call(f *ir.Func, args ...jen.Code) *jen.Statement {
	if name, ok := tg.literals[f]; ok {
		return jen.Id(name).Call(args...)
	}
	return code(f.Code).Call(args...)
}

// program emits the Compiled<Topology> function, and queues its description
// constants for the end of the file.
func (tg *topologyGen) program() []jen.Code {
	g := tg.graph
	describe := tg.names.name(tg.lower + "Description")
	mermaid := tg.names.name(tg.lower + "Mermaid")
	tg.constants(describe, mermaid)

	topics := make([]jen.Code, len(tg.topics))
	for i, t := range tg.topics {
		spec := []jen.Code{jen.Id("Name").Op(":").Lit(t.name), jen.Id("Kind").Op(":").Qual(runtimePath, t.kind)}
		if t.key != nil && t.value != nil {
			spec = append(spec, jen.Id("Types").Op(":").Qual(runtimePath, "TypesOf").Types(typ(t.key), typ(t.value)).Call())
		}
		topics[i] = jen.Values(spec...)
	}
	storeIndex := map[*ir.Store]int{}
	stores := make([]jen.Code, len(g.Stores))
	for i, s := range g.Stores {
		storeIndex[s] = i
		spec := []jen.Code{
			jen.Id("Name").Op(":").Lit(s.Name),
			jen.Id("Changelog").Op(":").Lit(tg.topicIDs[topicKey{s.Changelog.Name, true}]),
			jen.Id("Persistent").Op(":").Lit(s.Persistent),
			jen.Id("SubTopology").Op(":").Lit(s.Node.SubTopology),
		}
		spec = append(spec, storeKind(s)...)
		stores[i] = jen.Values(append(spec, tg.storeQuery(s)...)...)
	}
	subs := make([]jen.Code, len(g.SubTopologies))
	for i, st := range g.SubTopologies {
		var sources []jen.Code
		for _, srcNode := range st.Sources() {
			var ids []jen.Code
			for _, t := range srcNode.Topics {
				ids = append(ids, jen.Lit(tg.topicIDs[topicKey{t.Name, t.Kind != ir.ExternalTopic}]))
			}
			src := []jen.Code{field("Topics", jen.Index().Qual(runtimePath, "TopicID").Values(ids...))}
			if w := srcNode.Watermark; w != nil {
				src = append(src, field("Watermark", jen.Op("&").Qual(runtimePath, "WatermarkSpec").Values(
					field("MaxOutOfOrderness", duration(w.MaxOutOfOrderness)), field("IdleTimeout", duration(w.IdleTimeout)))))
			}
			sources = append(sources, jen.Values(src...))
		}
		var sinks []jen.Code
		for _, n := range st.Nodes {
			if n.Op == ir.OpSink || n.Op == ir.OpRepartition || (n.Window != nil && len(n.Topics) > 0) {
				sinks = append(sinks, jen.Lit(tg.topicIDs[topicKey{n.Topics[0].Name, n.Topics[0].Kind != ir.ExternalTopic}]))
			}
		}
		var storeIDs []jen.Code
		for _, s := range st.Stores {
			storeIDs = append(storeIDs, jen.Lit(storeIndex[s]))
		}
		d := []jen.Code{
			field("ID", jen.Lit(st.ID)),
			field("Sources", jen.Index().Qual(runtimePath, "SourceSpec").Values(sources...)),
		}
		if len(sinks) > 0 {
			d = append(d, field("Sinks", jen.Index().Qual(runtimePath, "TopicID").Values(sinks...)))
		}
		if len(storeIDs) > 0 {
			d = append(d, field("Stores", jen.Index().Int().Values(storeIDs...)))
		}
		d = append(d, field("NewTask", jen.Id(tg.tasks[st.ID].constructor)))
		subs[i] = jen.Values(fieldList(d)...)
	}
	fields := []jen.Code{
		field("Name", jen.Lit(g.Name)),
		field("DefaultAppID", jen.Lit(g.DefaultAppID)),
		field("Topics", jen.Index().Qual(runtimePath, "TopicSpec").Values(fieldList(topics)...)),
	}
	if len(stores) > 0 {
		fields = append(fields, field("Stores", jen.Index().Qual(runtimePath, "StoreSpec").Values(fieldList(stores)...)))
	}
	fields = append(fields,
		field("SubTopologies", jen.Index().Qual(runtimePath, "SubTopologySpec").Values(subs...)),
		field("Description", jen.Id(describe)),
		field("Mermaid", jen.Id(mermaid)),
	)
	fields = append(fields, tg.copartitionFields()...)
	fields = append(fields, tg.globalsField()...)
	pos := g.Pos
	return []jen.Code{
		jen.Commentf("%s returns topology %s (%s:%d) compiled for the Gofka runtime:", tg.compiled, g.Name, filepath.Base(pos.Filename), pos.Line),
		jen.Comment("hand it to runtime.Main, or to streamstest.NewDriver in tests."),
		jen.Func().Id(tg.compiled).Params().Op("*").Qual(runtimePath, "Program").Block(
			jen.Return(jen.Op("&").Qual(runtimePath, "Program").Values(fieldList(fields)...)),
		),
		jen.Line(),
	}
}

// constants adds the topology's description constants to the end of the file,
// after the code of every topology: they are long, and only the describe command
// reads them.
func (tg *topologyGen) constants(describe, mermaid string) {
	g := tg.graph
	/*
		// clickCountDescription is topology ClickCount as gofkagen describe prints it.
		const clickCountDescription = `Topology ClickCount (application id "click-count") ...`
	*/
	tg.tail = append(tg.tail,
		jen.Commentf("%s is topology %s as gofkagen describe prints it.", describe, g.Name),
		jen.Const().Id(describe).Op("=").Add(describeConst(Describe(g, tg.in.Types))),
		jen.Line(),
		jen.Commentf("%s is topology %s as a Mermaid diagram.", mermaid, g.Name),
		jen.Const().Id(mermaid).Op("=").Add(describeConst(ir.Mermaid(g, tg.in.Types))),
		jen.Line(),
	)
}

// field is one "Name: value" of a composite literal; fieldList puts each on its own
// line, in the order given (jen.Dict would sort them).
func field(name string, value jen.Code) jen.Code { return jen.Id(name).Op(":").Add(value) }

func fieldList(fields []jen.Code) []jen.Code {
	out := make([]jen.Code, 0, len(fields)+1)
	for _, f := range fields {
		out = append(out, jen.Line().Add(f))
	}
	return append(out, jen.Line())
}

// duration writes d as a reader would: 0, time.Minute, 5 * time.Second,
// 1500 * time.Millisecond.
func duration(d time.Duration) jen.Code {
	if d == 0 {
		return jen.Lit(0)
	}
	units := []struct {
		name string
		d    time.Duration
	}{{"Hour", time.Hour}, {"Minute", time.Minute}, {"Second", time.Second}, {"Millisecond", time.Millisecond}, {"Microsecond", time.Microsecond}}
	for _, u := range units {
		if d%u.d == 0 {
			if d == u.d {
				return jen.Qual("time", u.name)
			}
			return jen.Lit(int(d/u.d)).Op("*").Qual("time", u.name)
		}
	}
	return jen.Qual("time", "Duration").Call(jen.Lit(int64(d)))
}
