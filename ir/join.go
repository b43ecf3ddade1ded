package ir

import (
	"fmt"
	"time"
)

// Stream-stream joins. A Join node (OpJoin) has two inputs, the left stream
// (Inputs[0]) and the right one (Inputs[1]), with equal key types; Fns[0] is the
// joiner and Join says the kind, the window and the stores. The frontend puts a
// Repartition in front of a side whose key changed, so after Split both sides
// are sources of one sub-topology, whose topics must be co-partitioned
// (copartition.go). Codegen makes the join a segment, like a merge: each side's
// chain calls its method, and both emit through one method running the rest.
//
//	left chain ──▶ Join#n: put in This, fetch Other ──┐
//	                                                  ├─▶ joined records ──▶ rest of the chain
//	right chain ─▶ Join#n: put in Other, fetch This ──┘
//	                 no partner (left, outer) ──▶ Outer, emitted with nil once the window closed

// JoinKind is the kind of a join.
type JoinKind uint8

const (
	InnerJoin JoinKind = iota + 1 // Join
	LeftJoin                      // LeftJoin: left records that join nothing are emitted with nil
	OuterJoin                     // OuterJoin: records of either side that join nothing are emitted with nil
)

var joinKindNames = [...]string{InnerJoin: "Join", LeftJoin: "LeftJoin", OuterJoin: "OuterJoin"}

func (k JoinKind) String() string {
	if int(k) < len(joinKindNames) && joinKindNames[k] != "" {
		return joinKindNames[k]
	}
	return fmt.Sprintf("JoinKind(%d)", k)
}

// Word is the kind as one lower-case word: inner, left or outer.
func (k JoinKind) Word() string {
	switch k {
	case LeftJoin:
		return "left"
	case OuterJoin:
		return "outer"
	}
	return "inner"
}

// Join is what a Join node joins: its kind, window and stores.
type Join struct {
	Kind JoinKind
	// A right record at time r joins a left record at time l when
	// l-Before <= r <= l+After; Grace is how long after that a window closes.
	Before, After, Grace time.Duration
	// This and Other buffer the left and right records; Outer (left and outer
	// joins) holds the records that joined nothing yet.
	This, Other, Outer *Store
	// KeySerde encodes the key for the stores; LeftSerde and RightSerde the
	// values (Outer holds them encoded).
	KeySerde, LeftSerde, RightSerde *Serde
}

// Retention is how long a side's store keeps a record: before + after + grace.
func (j *Join) Retention() time.Duration { return j.Before + j.After + j.Grace }

// String describes the join as describe prints it.
func (j *Join) String() string {
	return fmt.Sprintf("%s window before %v after %v, grace %v", j.Kind, j.Before, j.After, j.Grace)
}

// Stores are the join's stores: This, Other, then Outer if any.
func (j *Join) Stores() []*Store {
	if j.Outer == nil {
		return []*Store{j.This, j.Other}
	}
	return []*Store{j.This, j.Other, j.Outer}
}

// Meets reports whether two chains meet at a node of this op (a merge or a
// join), which codegen then runs as a segment of its own.
func (op Op) Meets() bool { return op == OpMerge || op == OpJoin }

// joinDetail is the part of a node's description that concerns joins.
func joinDetail(n *Node) []string {
	if n.Join == nil {
		return nil
	}
	return []string{"[" + n.Join.String() + "]"}
}

// SideSerde is the value serde of side 0 (left) or 1 (right).
func (j *Join) SideSerde(side int) *Serde {
	if side == 0 {
		return j.LeftSerde
	}
	return j.RightSerde
}
