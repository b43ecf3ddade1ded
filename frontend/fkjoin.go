package frontend

// Foreign-key joins: KTable.ForeignKeyJoin and ForeignKeyLeftJoin check the
// extractor against the left table's types and the right table's key, the
// joiner against both values, and add the three nodes of ir/fkjoin.go with the
// two repartitions between them:
//
//	left ─▶ ForeignKeySubscribe ─▶ Repartition(<name>-subscription) ─▶ ForeignKeyRespond ◀─ right
//	      ForeignKeyResolve ◀─ Repartition(<name>-response) ◀──────────────────┘
//	      (also reads left)

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"github.com/gofka/streams/ir"
)

func (e *evaluator) fkJoinOps(ops map[string]opFunc) {
	ops["KTable.ForeignKeyJoin"] = e.opFKJoin(ir.InnerJoin)
	ops["KTable.ForeignKeyLeftJoin"] = e.opFKJoin(ir.LeftJoin)
}

func (e *evaluator) opFKJoin(kind ir.JoinKind) opFunc {
	return func(recv value, call *ast.CallExpr, pos token.Pos) value {
		l := recv.(tableVal)
		r, ok := e.eval(call.Args[0]).(tableVal)
		if !ok {
			return nil
		}
		opName := "KTable.ForeignKeyJoin"
		if kind == ir.LeftJoin {
			opName = "KTable.ForeignKeyLeftJoin"
		}
		ls := e.materialized(opName, "left", l.node, pos)
		rs := e.materialized(opName, "right", r.node, call.Args[0].Pos())
		extractor, exWithKey, exPtr := e.fkExtractor(opName, call.Args[1], l.node, r.node)
		rt := r.node.Value
		if kind == ir.LeftJoin {
			rt = types.NewPointer(rt)
		}
		joiner, out, withKey := e.tableJoiner(opName, call.Args[2], l.node.Key, l.node.Value, rt)
		named, optsOK := e.fkJoinOptions(opName, call.Args[3:])
		if ls == nil || rs == nil || extractor == nil || joiner == nil || !optsOK {
			return nil
		}
		if named == "" {
			named = fmt.Sprintf("fkjoin-%d", e.fkJoinCount())
		}
		j := &ir.FKJoin{Kind: kind, Name: named, Left: ls, Right: rs, ExtractorWithKey: exWithKey, ExtractorPointer: exPtr, JoinerWithKey: withKey}
		rs.Timestamped = true // a subscription's answer takes the later of its and the right row's timestamps

		sub := e.nextTable(ir.OpFKSubscribe, pos, l)
		sub.Fns, sub.FKJoin = []*ir.Func{extractor}, j
		sub.Key, sub.Value, sub.KeyChanged = bytesType, bytesType, true // the foreign key as the right table's store encodes it
		subTopic := e.fkRepartition(sub, named+"-subscription", pos)

		respond := e.g.NewNode(ir.OpFKRespond, e.pos(pos), ir.Port{Node: subTopic}, r.port())
		respond.Key, respond.Value, respond.FKJoin = bytesType, bytesType, j // the left key as the left store encodes it
		if j.Subscriptions = e.fkStore(opName, respond, named+"-subscription-store", pos); j.Subscriptions == nil {
			return nil
		}
		respTopic := e.fkRepartition(respond, named+"-response", pos)

		res := e.g.NewNode(ir.OpFKResolve, e.pos(pos), ir.Port{Node: respTopic}, l.port())
		res.Key, res.Value, res.FKJoin = l.node.Key, out, j
		res.Fns = []*ir.Func{joiner}
		return tableVal{node: res}
	}
}

// fkExtractor checks the foreign-key extractor: func(V) KO or func(K, V) KO,
// where KO is the right table's key type, or *KO (nil: no foreign key, as
// Kafka Streams' null); pointer reports the latter.
func (e *evaluator) fkExtractor(opName string, arg ast.Expr, left, right *ir.Node) (f *ir.Func, withKey, pointer bool) {
	f, sig := e.userFunc(opName, arg)
	if f == nil {
		return nil, false, false
	}
	withKey = e.params(sig, left.Key, left.Value)
	if (!withKey && !e.params(sig, left.Value)) || sig.Results().Len() != 1 {
		v, ko := e.typeString(left.Value), e.typeString(right.Key)
		e.wrongSig(opName, f, fmt.Sprintf("func(%s) %s or func(%s, %s) %s, the foreign-key extractor", v, ko, e.typeString(left.Key), v, ko))
		return nil, false, false
	}
	got := sig.Results().At(0).Type()
	if p, ok := got.(*types.Pointer); ok && !types.Identical(got, right.Key) && types.Identical(p.Elem(), right.Key) {
		return f, withKey, true
	}
	if !types.Identical(got, right.Key) {
		e.errorf(arg.Pos(), "%s: the foreign-key extractor %s returns %s, but the right table is keyed by %s: the foreign key must have the right table's key type (or be a pointer to it, nil for none)",
			opName, f.Display, e.typeString(got), e.typeString(right.Key))
		return nil, false, false
	}
	return f, withKey, false
}

// fkJoinOptions reads a foreign-key join's options: only Named.
func (e *evaluator) fkJoinOptions(opName string, opts []ast.Expr) (string, bool) {
	named, ok := "", true
	for _, o := range opts {
		if tv := e.Info.Types[o]; tv.Type != nil && isStreamsType(tv.Type, "JoinWindowsSpec", false) {
			e.errorf(o.Pos(), "%s: a table join has no window: tables join their current rows", opName)
			ok = false
			continue
		}
		_, n, optOK := e.joinOptions(ir.InnerJoin, []ast.Expr{o})
		if !optOK {
			ok = false // reported
		}
		if n != "" {
			named = n
		}
	}
	return named, ok
}

// fkRepartition adds the Repartition after node n writing one of the join's
// internal topics: keys as the store of the table they key encodes them (so
// they are partitioned alike), values in the formats of runtime/fkjoin.go.
func (e *evaluator) fkRepartition(n *ir.Node, name string, pos token.Pos) *ir.Node {
	r := e.g.NewNode(ir.OpRepartition, e.pos(pos), ir.Port{Node: n})
	r.Key, r.Value = bytesType, bytesType
	r.KeySerde, r.ValueSerde = bytesSerde(), bytesSerde()
	r.RepartitionName = name
	r.FKJoin = n.FKJoin
	return r
}

// fkStore adds the subscription store of the right side: (foreign key, left
// key) → hash of the left row, persistent and changelogged.
func (e *evaluator) fkStore(opName string, n *ir.Node, name string, pos token.Pos) *ir.Store {
	if err := ir.CheckTopicName(name); err != nil {
		e.errorf(pos, "%s: its store name is used in a changelog topic's name: %v", opName, err)
		return nil
	}
	if first, dup := e.stores[name]; dup {
		e.errorf(pos, "%s: its subscription store is named %q, which the store at %s already uses: give the join another streams.Named", opName, name, first)
		return nil
	}
	e.stores[name] = e.pos(pos)
	s := &ir.Store{Name: name, Pos: e.pos(pos), Persistent: true, Key: bytesType, Value: bytesType, KeySerde: bytesSerde(), ValueSerde: bytesSerde(), Node: n}
	n.Store = s
	e.g.Stores = append(e.g.Stores, s)
	return s
}

// fkJoinCount is the number of foreign-key joins built so far, which numbers
// the default names.
func (e *evaluator) fkJoinCount() int {
	c := 0
	for _, n := range e.g.Nodes {
		if n.Op == ir.OpFKSubscribe {
			c++
		}
	}
	return c
}
