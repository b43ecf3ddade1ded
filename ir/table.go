package ir

// Tables in the IR.
//
// A table node emits changes, as Kafka Streams' Change<V>: for a key, the new
// value or its absence (a delete), and, when a later step asks for it, the old
// value or its absence. The producers of changes are Table, ToTable, the
// unwindowed Count, Reduce and Aggregate, the table ops below, and a Source
// reading back a Repartition with Changes set.
//
//	Table ──▶ TableFilter ──▶ TableMapValues ──▶ ToStream ──▶ (stream: deletes as records without a value)
//	  │                                    └──▶ TableGroupBy ──▶ Repartition{Changes} ══▶ Source{Changes} ──▶ TableAggregate
//	  └──(materialized)──▶ StreamTableJoin ◀── stream          (a change as two records, subtract old and add new, or one with both)
//	                       TableJoin ◀── two materialized tables
//
// A Repartition with Changes carries each change as up to two records with the
// new key of each side: the old row (from its old group) marked "subtract", then
// the new row (to its new group) marked "add". The mark is the value's first byte
// (ChangeSubtract or ChangeAdd) followed by the value serde's bytes. A change
// whose rows are in one group goes as one record marked ChangeBoth: the old
// row's length in 4 bytes (big-endian), the old row, the new row; the aggregate
// subtracts and adds in one step and emits once, as Kafka Streams 3.5+ (KIP-904).

// Mark bytes that start a value in a repartition topic carrying changes.
const (
	ChangeAdd      byte = 0
	ChangeSubtract byte = 1
	ChangeBoth     byte = 2
)

// TableJoin describes a StreamTableJoin or TableJoin node (the kinds are
// ir/join.go's). Inputs[0] is the stream or
// the left table, Inputs[1] the right table; the tables are read through their
// stores (Left, Right; Left is nil for a stream-table join).
type TableJoin struct {
	Kind        JoinKind
	Left, Right *Store
	// WithKey reports that the joiner takes the key first.
	WithKey bool
}

func (op Op) tableStateful() bool {
	return op == OpToTable || op == OpTableCount || op == OpTableReduce || op == OpTableAggregate || op == OpTableJoin
}

// EmitsChanges reports whether n's records are table changes rather than stream
// records.
func EmitsChanges(n *Node) bool {
	switch n.Op {
	case OpTable, OpToTable, OpTableFilter, OpTableFilterNot, OpTableMapValues,
		OpTableCount, OpTableReduce, OpTableAggregate, OpTableJoin, OpFKResolve:
		return true
	case OpCount, OpReduce, OpAggregate:
		return n.Window == nil
	case OpSource:
		return n.Changes
	}
	return false
}

// NeedsOld reports whether some step after the table node n reads old values:
// a TableGroupBy (which subtracts them), a foreign-key join's subscription
// (which compares the old row's foreign key with the new one's), or a
// table-table join that keeps rows of n's side without the other's (a left
// join's left side, either side of an outer one: a delete of n's row must
// delete the joined row even when the other side holds none, and only the old
// row says there was one), directly or through steps that derive them (Kafka
// Streams' sendOldValues, which its left and outer table joins enable).
func (g *Graph) NeedsOld(n *Node) bool {
	for _, c := range g.Consumers(n, 0) {
		if c.Op == OpTableJoin && c.TableJoin != nil &&
			(c.TableJoin.Kind == OuterJoin || (c.TableJoin.Kind == LeftJoin && c.Inputs[0].Node == n)) {
			return true
		}
		switch c.Op {
		case OpTableGroupBy, OpFKSubscribe, OpFKRespond: // a foreign-key join unsubscribes the old row's key; ignores deletes of absent right rows
			return true
		case OpTableFilter, OpTableFilterNot, OpTableMapValues, OpTableJoin:
			if g.NeedsOld(c) {
				return true
			}
		}
	}
	return false
}

// InsertTableRepartitions co-partitions the inputs of ToTable and of a
// stream-table join: a stream whose key may have changed since its source is
// written to a repartition topic first (named after the store), as a grouping is.
func InsertTableRepartitions(g *Graph) {
	for _, n := range append([]*Node(nil), g.Nodes...) {
		if (n.Op != OpToTable && n.Op != OpStreamTableJoin) || !n.Inputs[0].Node.KeyChanged {
			continue
		}
		in := n.Inputs[0].Node
		r := g.NewNode(OpRepartition, n.Pos, n.Inputs[0])
		r.Key, r.Value = in.Key, in.Value
		r.KeySerde, r.ValueSerde = n.KeySerde, n.ValueSerde
		r.RepartitionName = n.RepartitionName
		if r.RepartitionName == "" && n.Store != nil {
			r.RepartitionName = n.Store.Name
		} else if r.RepartitionName == "" && n.TableJoin != nil {
			r.RepartitionName = n.TableJoin.Right.Name + "-join"
		}
		n.Inputs[0] = Port{Node: r}
	}
}

// tableTyped reports the table ops whose description shows the types they emit.
func (op Op) tableTyped() bool {
	switch op {
	case OpToTable, OpTableMapValues, OpTableGroupBy, OpTableCount, OpTableReduce, OpTableAggregate, OpStreamTableJoin, OpTableJoin:
		return true
	}
	return false
}

// tableJoinDetail is how describe shows a table join: its kind and the stores
// it reads.
func tableJoinDetail(n *Node) []string {
	j := n.TableJoin
	if j == nil {
		return nil
	}
	out := []string{j.Kind.Word()}
	if j.Left != nil {
		out = append(out, "reads "+j.Left.Name+" and "+j.Right.Name)
	} else {
		out = append(out, "reads "+j.Right.Name)
	}
	return out
}

// MayDelete reports whether the records n emits may lack a value: deletes a
// ToStream forwards, through the steps that pass them on (MapValues and
// repartition topics; codegen drops them elsewhere).
func (g *Graph) MayDelete(n *Node) bool {
	switch n.Op {
	case OpToStream:
		return true
	case OpMapValues, OpRepartition:
		return g.MayDelete(n.Inputs[0].Node)
	case OpSource:
		if n.Changes || len(n.Topics) != 1 || n.Topics[0].Kind != RepartitionTopic {
			return false
		}
		for _, r := range g.Nodes {
			if r.Op == OpRepartition && len(r.Topics) == 1 && r.Topics[0] == n.Topics[0] {
				return g.MayDelete(r)
			}
		}
	}
	return false
}
