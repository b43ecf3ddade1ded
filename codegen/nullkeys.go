package codegen

// Null keys in generated code (ir/nullkeys.go): a record with a null key is
// dropped and counted before a stateful step and by an inner join
// (guardNullKey); the joins that keep it (Kafka Streams 3.7+, KIP-962) test
// the same condition (nullKey) and join it with nil (join.go, table_ops.go,
// global.go); emitRecord drops it at a repartition no such join follows, and
// writes it as a null key at a sink after such a join.

import (
	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// dropNullKey drops and counts a record whose key is null (cond) before a
// stateful step or a join, as Kafka Streams does; rest follows for the others.
func (t *taskGen) dropNullKey(cond jen.Code, m mode, rest []jen.Code) []jen.Code {
	t.nullKeys = true
	drop := []jen.Code{jen.Id(t.l("t")).Dot("nullKeys").Dot("Inc").Call().Comment("a null key: dropped and counted")}
	switch m {
	case modeLoop:
		return append([]jen.Code{jen.If(cond).Block(append(drop, jen.Continue())...)}, rest...)
	case modeMethod:
		return append([]jen.Code{jen.If(cond).Block(append(drop, jen.Return(jen.Nil()))...)}, rest...)
	}
	return []jen.Code{jen.If(cond).Block(drop...).Else().Block(rest...)}
}

// nullKey is the condition under which the record in k, read by n, has a null
// key: a nil pointer, or nil key bytes at a source the key has not changed since.
// It is nil when the key cannot be null.
func (t *taskGen) nullKey(n *ir.Node, k string) jen.Code {
	return t.nullKeyFrom(n.Inputs[0].Node, k)
}

// nullKeyFrom is nullKey for a record coming from node in.
func (t *taskGen) nullKeyFrom(in *ir.Node, k string) jen.Code {
	if isPointer(in.Key) {
		return jen.Id(k).Op("==").Nil()
	}
	for in.KeyChanged || !(in.Op == ir.OpSource || in.Op == ir.OpTable) {
		if in.KeyChanged || len(in.Inputs) == 0 {
			return nil
		}
		in = in.Inputs[0].Node
	}
	if in.Topics[0].Kind != ir.ExternalTopic {
		// Written by a repartition, which writes a null key only for a join downstream that keeps it.
		if w := t.graph.RepartitionWriter(in.Topics[0]); w != nil && t.graph.NullKeysWanted(w) && t.nullKey(w, k) != nil {
			return jen.Id(t.l("r")).Dot("Key").Op("==").Nil()
		}
		return nil
	}
	if in.Op == ir.OpTable {
		return nil // the table's source dropped it
	}
	return jen.Id(t.l("r")).Dot("Key").Op("==").Nil()
}

// guardNullKey drops the records with a null key before stateful node n.
func (t *taskGen) guardNullKey(n *ir.Node, k string, m mode, rest []jen.Code) []jen.Code {
	cond := t.nullKey(n, k)
	if cond == nil {
		return rest
	}
	return t.dropNullKey(cond, m, rest)
}

// nullKeyFields adds the null-key counter to the task when a step uses it.
func (t *taskGen) nullKeyFields(fields *[]jen.Code, ctor jen.Dict) {
	if !t.nullKeys {
		return
	}
	*fields = append(*fields, jen.Id("nullKeys").Op("*").Qual(runtimePath, "LateCounter").Comment("records dropped for a null key"))
	ctor[jen.Id("nullKeys")] = jen.Id(t.l("ctx")).Dot("NullKeys")
}

// keptNullKey reports that sink n can write a null key, with the key unchanged
// since it was read: from a source through stateless steps (Kafka Streams'
// serdes write null for null, and the producer spreads such records over the
// partitions, where an empty key would hash them all to one), or from a join
// that keeps records with a null key (ir.Node.KeepsNullKeys; and an inner
// global join, which keeps one whose selected key is not nil).
func keptNullKey(n *ir.Node) bool {
	for in := n.Inputs[0].Node; !in.KeyChanged; in = in.Inputs[0].Node {
		switch {
		case in.KeepsNullKeys() || in.Op == ir.OpJoinGlobal:
			return true
		case in.Op.Stateful() || in.Op == ir.OpJoin || in.Op == ir.OpStreamTableJoin: // it dropped them
			return false
		case len(in.Inputs) == 0:
			return true
		}
	}
	return false
}
