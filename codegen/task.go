package codegen

import (
	"fmt"
	"go/types"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// taskGen emits the task type of one sub-topology.
type taskGen struct {
	*topologyGen
	st      *ir.SubTopology
	typ     string
	stores  map[*ir.Store]string // store -> field name
	merges  map[*ir.Node]string  // merge node -> method name
	methods [][]jen.Code
	buffers map[string]bool // buffer fields the code uses
	// resultTime names the variable holding the timestamp of the records being
	// emitted, when it is not the input record's: a window's result time, a
	// table join's (the later row's), an aggregate's that feeds a join.
	resultTime string
	// byWatermark: windows close by the task's watermark, not its stream time (watermark.go).
	byWatermark bool
	procs       map[*ir.Node]procNames
	// present maps a value variable to the variable saying whether the record
	// has a value (a stream after ToStream); nullKeys: a step counts null keys (table.go).
	present  map[string]string
	nullKeys bool
	// from is the port the node being emitted reads: a join runs the method of that side.
	from ir.Port
	// windows maps the variable of a tumbling or hopping window's
	// streams.Windowed key, while its window's code is emitted, to the
	// variables of its plain key and start (ms): a TimeWindowedSerde encodes
	// it from those (window.go).
	windows map[string][2]string
}

// mode says how the code at hand drops a record.
type mode uint8

const (
	modeLoop   mode = iota // directly inside the batch loop or a range loop: continue
	modeMethod             // directly inside a merge method: return nil
	modeNested             // inside a block that others follow: wrap the rest in an if
)

func (t *taskGen) emit() []jen.Code {
	names := t.tasks[t.st.ID]
	t.typ = names.typ
	t.byWatermark = hasWindows(t.st) && watermarked(t.graph, t.st)
	t.stores = map[*ir.Store]string{}
	t.merges = map[*ir.Node]string{}
	local := newNamer(nil)
	for _, m := range []string{"out", "current", "streamTime", "keyBuf", "valueBuf", "storeKey"} {
		local.used[m] = true
	}
	t.buffers = map[string]bool{}
	fields := []jen.Code{
		jen.Id("out").Qual(runtimePath, "Emitter"),
		jen.Id("current").Int().Comment("index in the batch of the record in flight"),
		jen.Id("streamTime").Int64().Comment("the largest timestamp read, before any filter"),
	}
	ctor := jen.Dict{jen.Id("out"): jen.Id(t.l("ctx")).Dot("Out"), jen.Id("streamTime"): jen.Id(t.l("ctx")).Dot("StreamTime")}
	var storeFields []jen.Code
	var flush []jen.Code
	for i, s := range t.st.Stores {
		field := local.name("store" + camel(s.Name))
		t.stores[s] = field
		if ftype, init, ok := t.procStore(s, i); ok {
			storeFields = append(storeFields, jen.Id(field).Add(ftype).Comment(storeRef(s)))
			ctor[jen.Id(field)] = init
		} else {
			fieldType, init := t.storeField(i, s)
			storeFields = append(storeFields, jen.Id(field).Add(fieldType).Comment(storeRef(s)))
			ctor[jen.Id(field)] = init
		}
		flush = append(flush, jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("Flush").Call(), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("store %s: %%w", s.Name)), jen.Id(t.l("err")))),
		))
	}
	for _, n := range t.st.Segments {
		if n.Op == ir.OpMerge {
			t.merges[n] = fmt.Sprintf("merge%d", n.ID)
		}
	}
	procFields, procInit := t.procFields()

	recv := jen.Id(t.l("t")).Op("*").Id(t.typ)
	var cases []jen.Code
	var loops [][]jen.Code
	for i, src := range t.st.Sources() {
		method := local.name("process" + camel(src.Topics[0].Name))
		cases = append(cases, jen.Case(jen.Lit(i)).Block(jen.Return(jen.Id(t.l("t")).Dot(method).Call(jen.Id(t.l("batch"))))))
		loops = append(loops, t.sourceLoop(recv, method, src))
	}
	for _, n := range t.st.Segments {
		if n.Op == ir.OpMerge {
			t.methods = append(t.methods, t.mergeMethod(recv, n))
		}
	}
	for _, n := range t.st.Segments {
		if n.Op == ir.OpJoin {
			t.methods = append(t.methods, t.joinMethods(recv, n)...)
		}
	}

	for _, b := range []struct{ name, doc string }{
		{"keyBuf", "reused for every encoded key"},
		{"valueBuf", "reused for every encoded value"},
		{"storeKey", "reused for every encoded store key"},
		{"timerKey", "reused for every key encoded for a processor's timers"},
		{"joinKey", "reused for every key encoded for a join's stores"},
		{"fkOld", "reused for the old row's foreign key of a foreign-key join"},
		{"fkNew", "reused for the new row's foreign key of a foreign-key join"},
		{"fkHash", "reused for the hash of a foreign-key join's left row"},
		{"fkBuf", "reused for every subscription or response of a foreign-key join"},
	} {
		if t.buffers[b.name] {
			fields = append(fields, jen.Id(b.name).Index().Byte().Comment(b.doc))
		}
	}
	fields = append(append(fields, storeFields...), procFields...)
	t.windowFields(&fields, ctor)
	t.joinFields(&fields, ctor)
	t.opTimeFields(&fields, ctor)
	t.watermarkFields(&fields, ctor)
	t.nullKeyFields(&fields, ctor)
	t.globalFields(&fields, ctor)
	newTask := []jen.Code{jen.Return(jen.Op("&").Id(t.typ).Values(ctor))}
	if len(procInit) > 0 {
		newTask = append(append([]jen.Code{jen.Id(t.l("t")).Op(":=").Op("&").Id(t.typ).Values(ctor)}, procInit...), jen.Return(jen.Id(t.l("t"))))
	}

	out := append(t.doc(),
		jen.Type().Id(t.typ).Struct(fields...),
		jen.Line(),
		jen.Func().Id(names.constructor).Params(jen.Id(t.l("ctx")).Qual(runtimePath, "TaskContext")).Qual(runtimePath, "Task").Block(newTask...),
		jen.Line(),
		jen.Comment("Current implements runtime.Task."),
		jen.Func().Params(recv).Id("Current").Params().Int().Block(jen.Return(jen.Id(t.l("t")).Dot("current"))),
		jen.Line(),
		jen.Comment("StreamTime implements runtime.Task."),
		jen.Func().Params(recv).Id("StreamTime").Params().Int64().Block(jen.Return(jen.Id(t.l("t")).Dot("streamTime"))),
		jen.Line(),
		jen.Comment("Flush implements runtime.Task: it writes the cached state changes to the stores."),
		jen.Func().Params(recv).Id("Flush").Params().Error().Block(append(flush, jen.Return(jen.Nil()))...),
		jen.Line(),
		jen.Comment("Process implements runtime.Task: it runs the fused chain of one source over a batch."),
		jen.Func().Params(recv).Id("Process").Params(jen.Id(t.l("source")).Int(), jen.Id(t.l("batch")).Index().Qual(runtimePath, "Record")).Error().Block(
			jen.Switch(jen.Id(t.l("source"))).Block(cases...),
			jen.Return(jen.Qual(runtimePath, "UnknownSource").Call(jen.Lit(t.typ), jen.Id(t.l("source")))),
		),
		jen.Line(),
	)
	out = append(out, t.punctuateMethod()...)
	out = append(out, t.watermarkMethod()...)
	for _, c := range append(loops, t.methods...) {
		out = append(out, c...)
		out = append(out, jen.Line())
	}
	return out
}

// doc is the task type's doc comment: what it runs, then the outline of the
// sub-topology as a preformatted block.
func (t *taskGen) doc() []jen.Code {
	/*
		// routeTask0 runs sub-topology 0 of Route on one partition:
		//
		//	Source#0 topic "orders"
		//	├─ Branch#1
		//	...
	*/
	out := []jen.Code{
		jen.Commentf("%s runs sub-topology %d of %s on one partition:", t.typ, t.st.ID, t.graph.Name),
		jen.Comment("//"),
	}
	for _, line := range t.outline() {
		if line == "" {
			out = append(out, jen.Comment("//"))
		} else {
			out = append(out, jen.Comment("//\t"+line))
		}
	}
	return out
}

// vars names the variables holding the key and value that node n emits.
func (t *taskGen) vars(n *ir.Node) (k, v string) {
	return t.l(fmt.Sprintf("k%d", n.ID)), t.l(fmt.Sprintf("v%d", n.ID))
}

// fail returns from the generated code with the record's coordinates.
func (t *taskGen) fail(stage string) jen.Code {
	return jen.If(jen.Id(t.l("err")).Op("!=").Nil()).Block(jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit(stage), jen.Id(t.l("err")))))
}

func (t *taskGen) sourceLoop(recv jen.Code, method string, src *ir.Node) []jen.Code {
	k, v := t.vars(src)
	ks, vs := src.KeySerde, src.ValueSerde
	fire := t.fireDue() // timers that the previous record's time reached
	body := append([]jen.Code{jen.Id(t.l("t")).Dot("current").Op("=").Id(t.l("i"))}, fire...)
	body = append(body, jen.Id(t.l("r")).Op(":=").Op("&").Id(t.l("batch")).Index(jen.Id(t.l("i"))))
	if src.Op == ir.OpTable { // before the key serde sees it
		body = append(body, t.dropNullKey(jen.Id(t.l("r")).Dot("Key").Op("==").Nil(), modeLoop, nil)...)
	}
	body = append(body,
		jen.List(jen.Id(k), jen.Id(t.l("err"))).Op(":=").Add(t.serde(ks)).Dot("Decode").Call(jen.Id(t.l("r")).Dot("Key")),
		t.fail("decode key"),
	)
	if len(src.Fns) == 0 {
		body = append(body, t.recordTime(src, k, v)...)
	}
	var rest []jen.Code
	if src.Op != ir.OpTable && !src.Changes && !t.graph.MayDelete(src) {
		rest = t.children(src, 0, k, v, modeLoop)
	}
	if src.Op == ir.OpSource && t.graph.MayDelete(src) && t.graph.ValueUsed(src) {
		body = append(body, t.deletesSource(src, k, v)...)
	} else if src.Op == ir.OpTable {
		body = append(body, t.tableSource(src, k, v)...)
	} else if src.Changes {
		body = append(body, t.changeSource(src, k, v)...)
	} else if t.graph.ValueUsed(src) {
		body = append(body,
			jen.List(jen.Id(v), jen.Id(t.l("err"))).Op(":=").Add(t.serde(vs)).Dot("Decode").Call(jen.Id(t.l("r")).Dot("Value")),
			t.fail("decode value"),
		)
		if len(src.Fns) > 0 {
			body = append(body, t.recordTime(src, k, v)...)
		}
	} else {
		body = append(body, jen.Var().Id(v).Add(typ(src.Value)).Comment("no step reads the value: it is not decoded"))
	}
	body = append(body, rest...)
	return []jen.Code{
		jen.Commentf("%s runs the chain of %s (%s) over one batch.", method, src, topicsRef(src.Topics)),
		jen.Func().Params(recv).Id(method).Params(jen.Id(t.l("batch")).Index().Qual(runtimePath, "Record")).Error().Block(
			append(append([]jen.Code{jen.For(jen.Id(t.l("i")).Op(":=").Range().Id(t.l("batch"))).Block(body...)}, fire...), jen.Return(jen.Nil()))...,
		),
	}
}

// recordTime emits what a source does with the time of a decoded record: take it
// from the source's timestamp extractor if it has one, send a time before the
// epoch to the bad-record policy, and advance the task's stream time.
func (t *taskGen) recordTime(src *ir.Node, k, v string) []jen.Code {
	ts := jen.Id(t.l("r")).Dot("Timestamp")
	var out []jen.Code
	if len(src.Fns) > 0 {
		out = append(out, jen.Id(t.l("r")).Dot("Timestamp").Op("=").Add(t.call(src.Fns[0], jen.Id(k), jen.Id(v))).Dot("UnixMilli").Call().Comment("the source's timestamp extractor"))
	}
	return append(out,
		jen.If(ts.Clone().Op("<").Lit(0)).Block(
			jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("decode timestamp"), jen.Qual(runtimePath, "NegativeTimestamp").Call(ts.Clone()))),
		),
		jen.Id(t.l("t")).Dot("streamTime").Op("=").Max(jen.Id(t.l("t")).Dot("streamTime"), ts.Clone()),
	)
}

func (t *taskGen) mergeMethod(recv jen.Code, n *ir.Node) []jen.Code {
	k, v := t.vars(n)
	body := append(t.children(n, 0, k, v, modeMethod), jen.Return(jen.Nil()))
	return []jen.Code{
		jen.Commentf("%s runs the chain after %s (at %s) for each of its inputs.", t.merges[n], n, posRef(n)),
		jen.Func().Params(recv).Id(t.merges[n]).Params(
			jen.Id(t.l("r")).Op("*").Qual(runtimePath, "Record"), jen.Id(k).Add(typ(n.Key)), jen.Id(v).Add(typ(n.Value)),
		).Error().Block(body...),
	}
}

// children emits the consumers of port of n, given the variables holding the record.
func (t *taskGen) children(n *ir.Node, port int, k, v string, m mode) []jen.Code {
	return t.fanOut(n, port, m, func(c *ir.Node, cm mode) []jen.Code { return t.node(c, k, v, cm) })
}

// fanOut emits each consumer of port of n with gen, in the blocks children describes.
func (t *taskGen) fanOut(n *ir.Node, port int, m mode, gen func(c *ir.Node, m mode) []jen.Code) []jen.Code {
	// A fan-out: every consumer but the last gets its own block, which must not
	// skip what follows it. Each consumer's code starts with a comment naming it.
	/*
		{
			// fan-out 1 of 2 from Source#0: Filter#1 → Sink#2 topic "a-words"
			if isA(k0, v0) { ... }
		}
		// fan-out 2 of 2 from Source#0: Sink#3 topic "all-words"
		t.out.Emit(...)
	*/
	consumers := t.consumers(n, port)
	var out []jen.Code
	for i, c := range consumers {
		if c.Op == ir.OpJoin && i > 0 && consumers[i-1] == c {
			continue // a self-join: its first entry called both sides (joinCall)
		}
		last := i == len(consumers)-1
		cm := m
		if !last {
			cm = modeNested
		}
		var stmts []jen.Code
		if len(consumers) > 1 {
			stmts = append(stmts, jen.Comment(t.fanOutComment(n, c, i, len(consumers))))
		}
		t.from = ir.Port{Node: n, Index: port}
		stmts = append(stmts, gen(c, cm)...)
		if last {
			out = append(out, stmts...)
		} else {
			out = append(out, jen.Block(stmts...))
		}
	}
	return out
}

// node emits node n reading the record in variables k and v, then what follows it.
func (t *taskGen) node(n *ir.Node, k, v string, m mode) []jen.Code {
	return t.dropDeletes(n, v, m, func() []jen.Code { return t.stepNode(n, k, v, m) })
}

// stepNode is node for a record that has a value, or a step deletes pass.
func (t *taskGen) stepNode(n *ir.Node, k, v string, m mode) []jen.Code {
	nk, nv := t.vars(n)
	kv := []jen.Code{jen.Id(k), jen.Id(v)}
	switch n.Op {
	case ir.OpFilter, ir.OpFilterNot:
		cond := t.call(n.Fns[0], kv...)
		keep := cond
		if n.Op == ir.OpFilterNot {
			keep = jen.Op("!").Add(cond)
		}
		rest := t.children(n, 0, k, v, m)
		switch m {
		case modeLoop, modeMethod:
			drop := jen.Op("!").Add(cond)
			if n.Op == ir.OpFilterNot {
				drop = cond
			}
			skip := jen.Continue()
			if m == modeMethod {
				skip = jen.Return(jen.Nil())
			}
			return append([]jen.Code{jen.If(drop).Block(skip)}, rest...)
		default:
			return []jen.Code{jen.If(keep).Block(rest...)}
		}

	case ir.OpMap:
		return append([]jen.Code{jen.List(jen.Id(nk), jen.Id(nv)).Op(":=").Add(t.call(n.Fns[0], kv...))},
			t.children(n, 0, nk, nv, m)...)

	case ir.OpMapValues:
		args := []jen.Code{jen.Id(v)}
		if n.Fns[0].Sig.Params().Len() == 2 {
			args = kv
		}
		if has, ok := t.present[v]; ok { // a delete stays a delete
			return append([]jen.Code{jen.Var().Id(nv).Add(typ(n.Value)), jen.If(jen.Id(has)).Block(jen.Id(nv).Op("=").Add(t.call(n.Fns[0], args...)))},
				t.withPresent(nv, has, func() []jen.Code { return t.children(n, 0, k, nv, m) })...)
		}
		return append([]jen.Code{jen.Id(nv).Op(":=").Add(t.call(n.Fns[0], args...))},
			t.children(n, 0, k, nv, m)...)

	case ir.OpSelectKey:
		return append([]jen.Code{jen.Id(nk).Op(":=").Add(t.call(n.Fns[0], kv...))},
			t.children(n, 0, nk, v, m)...)

	case ir.OpFlatMap:
		item := t.l(fmt.Sprintf("kv%d", n.ID))
		body := append([]jen.Code{jen.List(jen.Id(nk), jen.Id(nv)).Op(":=").List(jen.Id(item).Dot("Key"), jen.Id(item).Dot("Value"))},
			t.children(n, 0, nk, nv, modeLoop)...)
		return []jen.Code{jen.For(jen.List(jen.Id("_"), jen.Id(item)).Op(":=").Range().Add(t.call(n.Fns[0], kv...))).Block(body...)}

	case ir.OpFlatMapValues:
		args := []jen.Code{jen.Id(v)}
		if n.Fns[0].Sig.Params().Len() == 2 {
			args = kv
		}
		return []jen.Code{jen.For(jen.List(jen.Id("_"), jen.Id(nv)).Op(":=").Range().Add(t.call(n.Fns[0], args...))).Block(
			t.children(n, 0, k, nv, modeLoop)...)}

	case ir.OpPeek:
		return append([]jen.Code{t.call(n.Fns[0], kv...)}, t.children(n, 0, k, v, m)...)

	case ir.OpBranch:
		/*
			if isLarge(k0, v0) {
				// branch 0 of Branch#1 at topology.go:25:19: isLarge → Sink#2 topic "large-orders"
				...
			} else if isSmall(k0, v0) {
				// branch 1 of Branch#1 at topology.go:25:19: isSmall → MapValues#3 → ...
				...
			}
		*/
		var chain *jen.Statement
		for i, f := range n.Fns {
			block := append([]jen.Code{jen.Comment(t.branchComment(n, i))}, t.children(n, i, k, v, m)...)
			if chain == nil {
				chain = jen.If(t.call(f, kv...)).Block(block...)
			} else {
				chain = chain.Else().If(t.call(f, kv...)).Block(block...)
			}
		}
		return []jen.Code{chain}

	case ir.OpMerge:
		return []jen.Code{jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(t.merges[n]).Call(jen.Id(t.l("r")), jen.Id(k), jen.Id(v)), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("err"))))}

	case ir.OpGroup, ir.OpToStream:
		return t.children(n, 0, k, v, m)

	case ir.OpSink, ir.OpRepartition:
		return t.emitRecord(n, k, v)

	case ir.OpSuppress:
		return t.suppress(n, k, v)
	case ir.OpProcess:
		return t.process(n, k, v)
	case ir.OpJoin:
		return t.joinCall(n, t.from, k, v)
	case ir.OpJoinGlobal, ir.OpLeftGlobal:
		return t.joinGlobal(n, k, v, m)

	case ir.OpCount, ir.OpReduce, ir.OpAggregate:
		if n.Window != nil {
			return t.guardNullKey(n, k, m, t.windowed(n, k, v, m))
		}
		agg := t.l(fmt.Sprintf("agg%d", n.ID))
		out := t.aggregate(n, k, v)
		stamp, restore := t.aggTime(n)
		defer restore()
		out = append(append(out, stamp...), t.tableChildren(n, t.aggChange(n, k, agg), m)...)
		return t.guardNullKey(n, k, m, out)
	case ir.OpToTable:
		return t.toTable(n, k, v, m)
	case ir.OpStreamTableJoin:
		return t.streamTableJoin(n, k, v, m)
	case ir.OpFKRespond:
		return t.fkSubscription(n, k, v, m)
	case ir.OpFKResolve:
		return t.fkResolve(n, k, v, m)
	}
	panic(fmt.Sprintf("codegen: unexpected %s in a sub-topology", n))
}

// encode returns the statements that encode variable v with serde s into the
// task's buffer field buf, and the expression holding the bytes. A serde that is
// the identity (bytes, or a string lent as bytes) needs neither copy nor buffer.
func (t *taskGen) encode(s *ir.Serde, v, buf, out, stage string) ([]jen.Code, jen.Code) {
	switch s.Builtin {
	case "BytesSerde":
		if identityBytes(s) {
			return nil, jen.Id(v)
		}
		return nil, jen.Index().Byte().Call(jen.Id(v))
	case "StringSerde":
		return nil, jen.Qual(runtimePath, "StringBytes").Call(jen.Id(v))
	case "TimeWindowedSerde":
		if w, ok := t.windows[v]; ok {
			t.buffers[buf] = true
			return []jen.Code{
				jen.List(jen.Id(out), jen.Id(t.l("err"))).Op(":=").Add(t.serde(s)).Dot("EncodeStart").Call(jen.Id(t.l("t")).Dot(buf).Index(jen.Empty(), jen.Lit(0)), jen.Id(w[0]), jen.Id(w[1])),
				t.fail(stage),
				jen.Id(t.l("t")).Dot(buf).Op("=").Id(out),
			}, jen.Id(out)
		}
	}
	t.buffers[buf] = true
	return []jen.Code{
		jen.List(jen.Id(out), jen.Id(t.l("err"))).Op(":=").Add(t.serde(s)).Dot("Encode").Call(jen.Id(t.l("t")).Dot(buf).Index(jen.Empty(), jen.Lit(0)), jen.Id(v)),
		t.fail(stage),
		jen.Id(t.l("t")).Dot(buf).Op("=").Id(out),
	}, jen.Id(out)
}

// emitRecord encodes key and value (into the task's buffers unless the serde is
// the identity) and emits them. A null key (Kafka Streams 3.7+, KIP-962) goes
// no further than a repartition unless a join downstream keeps it
// (ir/nullkeys.go): it is dropped and counted there, as Kafka Streams'
// repartitions filter it, or written as a null key. A sink writing what such
// a join kept writes a null key, as Kafka Streams' serializers do.
func (t *taskGen) emitRecord(n *ir.Node, k, v string) []jen.Code {
	null := t.nullKey(n, k)
	switch {
	case null != nil && n.Op == ir.OpRepartition && !t.graph.NullKeysWanted(n):
		return t.dropNullKey(null, modeNested, t.writeRecord(n, k, v, nil))
	case null != nil && n.Op == ir.OpSink && keptNullKey(n),
		null != nil && n.Op == ir.OpRepartition && !isPointer(n.Key): // a pointer's nil is written as its serde writes it
		return t.writeRecord(n, k, v, null)
	}
	return t.writeRecord(n, k, v, nil)
}

// identityBytes reports a serde of []byte, whose encoding is the value itself
// (a nil key stays nil through it).
func identityBytes(s *ir.Serde) bool {
	b, ok := s.Type.(*types.Slice)
	return s.Builtin == "BytesSerde" && ok && types.Identical(b, types.NewSlice(types.Typ[types.Byte]))
}

// writeRecord writes a record to the topic of sink or repartition n; with a
// nil key when null (if not nil) holds.
func (t *taskGen) writeRecord(n *ir.Node, k, v string, null jen.Code) []jen.Code {
	topic := n.Topics[0]
	id := t.topicIDs[topicKey{topic.Name, topic.Kind != ir.ExternalTopic}]
	name := topic.FullName(t.graph.DefaultAppID) // error messages name it as describe does
	out, key := t.encode(n.KeySerde, k, "keyBuf", t.l(fmt.Sprintf("key%d", n.ID)), "encode key for "+name)
	if null != nil && !identityBytes(n.KeySerde) {
		kb := t.l(fmt.Sprintf("kb%d", n.ID))
		out = append(out, jen.Id(kb).Op(":=").Add(key), jen.If(null).Block(jen.Id(kb).Op("=").Nil().Comment("a null key stays null")))
		key = jen.Id(kb)
	}
	if n.Op == ir.OpRepartition && !t.graph.ValueUsed(n) {
		// Only the key matters to the reader (a count): send no value.
		return append(out, jen.Id("_").Op("=").Id(v), jen.Id(t.l("t")).Dot("out").Dot("Emit").Call(jen.Lit(id), key, jen.Nil(), t.timestamp()).Commentf("to %s; the reader needs only the key", topicRef(topic)))
	}
	vcode, val := t.encode(n.ValueSerde, v, "valueBuf", t.l(fmt.Sprintf("value%d", n.ID)), "encode value for "+name)
	if has, ok := t.present[v]; ok { // a record without a value is written as a tombstone
		ptr := t.l(fmt.Sprintf("bytes%d", n.ID))
		out = append(out, jen.Var().Id(ptr).Index().Byte(), jen.If(jen.Id(has)).Block(append(vcode, jen.Id(ptr).Op("=").Add(val))...))
		return append(out, jen.Id(t.l("t")).Dot("out").Dot("Emit").Call(jen.Lit(id), key, jen.Id(ptr), t.timestamp()).Comment("to "+topicRef(topic)+"; nil: a tombstone"))
	}
	out = append(out, vcode...)
	return append(out, jen.Id(t.l("t")).Dot("out").Dot("Emit").Call(jen.Lit(id), key, val, t.timestamp()).Comment("to "+topicRef(topic)))
}

// timestamp is the time of the record a chain emits: the input record's, as
// Kafka Streams gives it to records derived from one. Under a windowed
// aggregation it is the window's, after a table-table join the later joined
// row's, after an aggregation feeding such a join the aggregate's (resultTime).
func (t *taskGen) timestamp() jen.Code {
	if t.resultTime != "" {
		return jen.Id(t.resultTime)
	}
	return jen.Id(t.l("r")).Dot("Timestamp")
}

// aggregate emits a read-modify-write of the node's store through its typed cache:
// one lookup (Slot) reads the current aggregate, the user's functions compute the
// new one in a local, and Set stores it only when they have all returned, so a
// record that fails leaves the store as it was. The new aggregate is in agg<ID>.
func (t *taskGen) aggregate(n *ir.Node, k, v string) []jen.Code {
	s := n.Store
	out, key := t.encode(s.KeySerde, k, "storeKey", t.l(fmt.Sprintf("sk%d", n.ID)), "encode key for store "+s.Name)
	return append(out, t.update(n, k, v, key, nil)...)
}

// update is the read-modify-write of aggregate's comment, for the store key in
// key; with a window start (a window store), of that window, whose timestamp
// becomes the latest of the records that contributed.
func (t *taskGen) update(n *ir.Node, k, v string, key, start jen.Code) []jen.Code {
	s := n.Store
	field := t.stores[s]
	slot, agg, found := t.l(fmt.Sprintf("slot%d", n.ID)), t.l(fmt.Sprintf("agg%d", n.ID)), t.l(fmt.Sprintf("found%d", n.ID))
	errID := jen.Id(t.l("err"))
	slotArgs, setTime := []jen.Code{key}, []jen.Code(nil)
	if start != nil {
		slotArgs, setTime = append(slotArgs, start), []jen.Code{t.timestamp()}
	} else if s.Timestamped {
		setTime = []jen.Code{t.timestamp()}
	}
	out := []jen.Code{
		jen.List(jen.Id(slot), errID).Op(":=").Id(t.l("t")).Dot(field).Dot("Slot").Call(slotArgs...),
		t.fail("read store " + s.Name),
	}
	foundVar := jen.Id(found)
	needOld := start == nil && t.graph.NeedsOld(n)
	if n.Op == ir.OpCount && !needOld {
		foundVar = jen.Id("_")
	}
	out = append(out, jen.List(jen.Id(agg), foundVar).Op(":=").Id(slot).Dot("Value").Call())
	if needOld {
		c := t.aggChange(n, k, agg)
		out = append(out, jen.List(jen.Id(c.ov), jen.Id(c.hasOld)).Op(":=").List(jen.Id(agg), jen.Id(found)))
	}
	out = append(out, t.fold(n, k, v, jen.Id(agg), jen.Id(found))...)
	return append(out, jen.Id(t.l("t")).Dot(field).Dot("Set").Call(append([]jen.Code{jen.Id(slot), jen.Id(agg)}, setTime...)...))
}

// fold emits the step of Count, Reduce or Aggregate that adds the record in k, v
// to the aggregate agg; found says whether agg held a value before (Count does not
// read it).
func (t *taskGen) fold(n *ir.Node, k, v string, agg, found *jen.Statement) []jen.Code {
	switch n.Op {
	case ir.OpCount:
		return []jen.Code{agg.Clone().Op("++"), jen.Id("_").Op("=").Id(v).Comment("Count reads only the key")}
	case ir.OpReduce:
		return []jen.Code{jen.If(found).Block(
			agg.Clone().Op("=").Add(t.call(n.Fns[0], agg.Clone(), jen.Id(v))),
		).Else().Block(
			agg.Clone().Op("=").Id(v),
		)}
	}
	out := []jen.Code{jen.If(jen.Op("!").Add(found)).Block(agg.Clone().Op("=").Add(t.call(n.Fns[0])))}
	if n.SeedAdder {
		return append(out, agg.Clone().Op("=").Add(t.call(n.Fns[1], agg.Clone(), jen.Id(v))))
	}
	return append(out, agg.Clone().Op("=").Add(t.call(n.Fns[1], jen.Id(k), jen.Id(v), agg.Clone())))
}
