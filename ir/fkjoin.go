package ir

import "fmt"

// Foreign-key table-table joins (Kafka Streams' KIP-213). The left table (key
// K, value V) is joined with the right table (key KO, value VO) on the foreign
// key fk(V) of each left row; the result is keyed by the left key. Two
// internal topics carry it between the tasks that own each side:
//
//	left table ──▶ ForeignKeySubscribe ──▶ Repartition "<name>-subscription"   (key fk, value: instruction, hash(V), K)
//	                                             ══▶ Source ──▶ ForeignKeyRespond ◀── right table
//	                                                               │ store "<name>-subscription-store": (fk, K) → hash
//	                                     Repartition "<name>-response" ◀┘   (key K, value: hash, VO or none)
//	                                             ══▶ Source ──▶ ForeignKeyResolve ──▶ (table of K → joiner(V, VO))
//	                                                               └ reads the left table's store
//
// ForeignKeySubscribe sees each left change with its old value: when the
// foreign key changed it unsubscribes the old one (DeleteNoPropagate), and it
// subscribes the new one with the hash of the new value's bytes. The right
// task keeps the subscriptions per foreign key and answers each one with the
// right row it holds, and answers every subscriber of a key again when that
// row changes. The left task joins a response with its current row, and drops
// a response whose hash is not that of the row it holds now: the row changed
// since the subscription, and a later response will carry the right answer.
// A left join's row without a foreign key (a nil one) or deleted row sends
// FKNoForeignKey with a nil key instead, which the right task answers "no
// row" without keeping it (Kafka Streams 3.7+, KIP-962).
//
// The subscription topic is co-partitioned with the right table's topic, the
// response topic with the left table's (CopartitionGroups), and both carry
// their values in the formats of runtime/fkjoin.go.

// Subscription instructions, as Kafka Streams' SubscriptionWrapper.Instruction.
const (
	// FKDeleteNoPropagate removes a subscription: the left row moved to
	// another foreign key, whose response answers it.
	FKDeleteNoPropagate byte = 0
	// FKDeleteAndPropagate removes a subscription and answers it: the left row
	// was deleted, and the answer deletes the joined row.
	FKDeleteAndPropagate byte = 1
	// FKPropagateNullIfNoValue answers even when the right table holds no row
	// for the key (the joined row must be deleted, or joined with nothing).
	FKPropagateNullIfNoValue byte = 2
	// FKPropagateOnlyIfValue answers only when the right table holds a row: a
	// new left row of an inner join that nothing joins yet emits nothing.
	FKPropagateOnlyIfValue byte = 3
	// FKNoForeignKey is a left join's row without a foreign key (a nil one, or
	// a deleted row): nothing is subscribed, and the right task answers "no
	// row", so the row is joined with nil or its result deleted. Kafka Streams
	// 3.7+ (KIP-962) sends FKPropagateNullIfNoValue with a null key for it;
	// gofka names it, so that a key that encodes to no bytes stays a key.
	FKNoForeignKey byte = 4
)

// FKJoin describes a foreign-key join; its three nodes share it.
type FKJoin struct {
	Kind        JoinKind // InnerJoin or LeftJoin
	Name        string   // names the internal topics and the subscription store
	Left, Right *Store   // the tables' stores
	// Subscriptions is the right task's store of (foreign key, left key) → hash.
	Subscriptions *Store
	// ExtractorWithKey and JoinerWithKey report functions that take the left key first.
	ExtractorWithKey, JoinerWithKey bool
	// ExtractorPointer reports an extractor returning a pointer to the right
	// table's key: nil is a null foreign key.
	ExtractorPointer bool
}

func (j *FKJoin) String() string {
	return fmt.Sprintf("%s foreign-key join %s of %s with %s", j.Kind.Word(), j.Name, j.Left.Name, j.Right.Name)
}

// IsFKJoin reports the ops of a foreign-key join.
func (op Op) IsFKJoin() bool { return op == OpFKSubscribe || op == OpFKRespond || op == OpFKResolve }

// fkJoinDetail is how describe shows a node of a foreign-key join.
func fkJoinDetail(n *Node) []string {
	j := n.FKJoin
	if j == nil {
		return nil
	}
	switch n.Op {
	case OpFKSubscribe:
		return []string{"[" + j.String() + ": subscribes each row of " + j.Left.Name + " to its foreign key]"}
	case OpFKRespond:
		return []string{"[answers the subscriptions with the rows of " + j.Right.Name + "]"}
	case OpRepartition:
		if n.Inputs[0].Node.Op == OpFKSubscribe {
			return []string{"[subscriptions: foreign key -> instruction, hash, key of " + j.Left.Name + "]"}
		}
		return []string{"[responses: key of " + j.Left.Name + " -> hash, row of " + j.Right.Name + "]"}
	}
	return []string{"[joins each response with the current row of " + j.Left.Name + "; a stale one (hash of another row) is dropped]"}
}

// CheckFKJoins reports steps after a foreign-key join that would need the old
// values of its result, which it does not keep.
func CheckFKJoins(g *Graph) []error {
	var errs []error
	for _, n := range g.Nodes {
		if n.Op == OpFKResolve && g.NeedsOld(n) {
			errs = append(errs, Errorf(n.Pos, "the result of a foreign-key join carries no old values, which a table GroupBy after it needs: materialize it first with ToStream().ToTable(store)"))
		}
	}
	return errs
}
