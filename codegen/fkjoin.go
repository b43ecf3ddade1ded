package codegen

// Foreign-key joins in generated code (ir/fkjoin.go): three steps in the tasks
// of the two tables, talking through the subscription and response topics in
// the formats of runtime/fkjoin.go. Both topics are keyed by bytes: the foreign
// key as the right table's store (and topic) holds it, the left key as the
// left table's does, so a key is encoded once and lands on the partition
// holding its row.
//
//	left change ──fkSubscribe──▶ subscription(s) ══▶ fkSubscription: store it, answer with the right row
//	right change ──fkRightChange──▶ one response per subscriber of its key
//	response ══▶ fkResolve: joined with the left row it still hashes to, else dropped

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// fkSubscribe sends a left change's subscriptions, as Kafka Streams'
// SubscriptionSendProcessorSupplier: when the foreign key changed, the old
// one is unsubscribed; a deleted row unsubscribes and asks for a delete; a
// row subscribes to its foreign key with the hash of its value.
func (t *taskGen) fkSubscribe(n *ir.Node, c change, m mode) []jen.Code {
	j := n.FKJoin
	id := n.ID
	fkArgs := func(v string) []jen.Code {
		if j.ExtractorWithKey {
			return []jen.Code{jen.Id(c.k), jen.Id(v)}
		}
		return []jen.Code{jen.Id(v)}
	}
	oldFK, newFK := t.l(fmt.Sprintf("fkOld%d", id)), t.l(fmt.Sprintf("fkNew%d", id))
	lk, hash := t.l(fmt.Sprintf("lk%d", id)), t.l(fmt.Sprintf("hash%d", id))
	oldI, newI := t.l(fmt.Sprintf("oldI%d", id)), t.l(fmt.Sprintf("newI%d", id))
	t.buffers["fkOld"], t.buffers["fkNew"], t.buffers["fkHash"], t.buffers["fkBuf"] = true, true, true, true
	ft := jen.Id(t.l("t"))
	// encodeInto encodes variable v with serde s into the buffer field buf and names the bytes dst.
	encodeInto := func(s *ir.Serde, v, buf, dst, stage string) []jen.Code {
		b := t.l(dst + "_b")
		return []jen.Code{
			jen.List(jen.Id(b), jen.Id(t.l("err"))).Op(":=").Add(t.serde(s)).Dot("Encode").Call(ft.Clone().Dot(buf).Index(jen.Empty(), jen.Lit(0)), jen.Id(v)),
			t.fail(stage),
			ft.Clone().Dot(buf).Op("=").Id(b),
			jen.Id(dst).Op("=").Id(b),
		}
	}
	out := []jen.Code{jen.Commentf("%s: %s", n, j), jen.Var().List(jen.Id(oldFK), jen.Id(newFK), jen.Id(hash)).Index().Byte()}
	// hadFK and hasFK say whether each row has a foreign key: a nil one (a
	// pointer key) subscribes to nothing; an inner join counts it as a null key.
	hadFK, hasFK := c.hasOld, c.hasNew
	nilable := isPointer(j.Right.Key) || j.ExtractorPointer
	if nilable {
		hadFK, hasFK = t.l(fmt.Sprintf("hadFK%d", id)), t.l(fmt.Sprintf("hasFK%d", id))
		out = append(out, jen.List(jen.Id(hadFK), jen.Id(hasFK)).Op(":=").List(jen.Id(c.hasOld), jen.Id(c.hasNew)))
	}
	fkOf := func(v, has, hasFK, dst, buf string, count bool) jen.Code {
		x := t.l(fmt.Sprintf("%s_fk", dst))
		fk := x
		if j.ExtractorPointer {
			fk = "*" + x
		}
		enc := encodeInto(j.Right.KeySerde, fk, buf, dst, "encode foreign key for "+j.Right.Name)
		body := []jen.Code{jen.Id(x).Op(":=").Add(t.call(n.Fns[0], fkArgs(v)...))}
		if !nilable {
			return jen.If(jen.Id(has)).Block(append(body, enc...)...)
		}
		isNil := []jen.Code{jen.Id(hasFK).Op("=").False()}
		if count {
			t.nullKeys = true
			isNil = append(isNil, jen.Id(t.l("t")).Dot("nullKeys").Dot("Inc").Call().Comment("a null foreign key: an inner join drops the row"))
		}
		return jen.If(jen.Id(has)).Block(append(body, jen.If(jen.Id(x).Op("==").Nil()).Block(isNil...).Else().Block(enc...))...)
	}
	out = append(out, fkOf(c.ov, c.hasOld, hadFK, oldFK, "fkOld", false), fkOf(c.nv, c.hasNew, hasFK, newFK, "fkNew", j.Kind != ir.LeftJoin))
	nb := t.l(fmt.Sprintf("nb%d", id))
	hashBody := append([]jen.Code{jen.Var().Id(nb).Index().Byte()}, encodeInto(j.Left.ValueSerde, c.nv, "valueBuf", nb, "encode value for its hash")...)
	hashBody = append(hashBody, jen.Id(hash).Op("=").Qual(runtimePath, "FKHash").Call(ft.Clone().Dot("fkHash").Index(jen.Empty(), jen.Lit(0)), jen.Id(nb)), ft.Clone().Dot("fkHash").Op("=").Id(hash))
	out = append(out, jen.If(jen.Id(c.hasNew)).Block(hashBody...))
	t.buffers["valueBuf"] = true
	lkCode, lkBytes := t.encode(j.Left.KeySerde, c.k, "keyBuf", t.l(fmt.Sprintf("lkb%d", id)), "encode key for "+j.Left.Name)
	out = append(out, lkCode...)
	out = append(out,
		jen.Id(lk).Op(":=").Add(lkBytes),
		jen.List(jen.Id(oldI), jen.Id(newI)).Op(":=").Qual(runtimePath, "FKInstructions").Call(jen.Lit(j.Kind == ir.LeftJoin), jen.Id(c.hasOld), jen.Id(c.hasNew), jen.Id(hadFK), jen.Id(hasFK), jen.Id(oldFK), jen.Id(newFK)),
	)
	send := func(instr, fk string, h jen.Code, what string) jen.Code {
		sub := t.l(fmt.Sprintf("sub%d_%s", id, what))
		body := []jen.Code{
			jen.Id(sub).Op(":=").Qual(runtimePath, "AppendFKSubscription").Call(ft.Clone().Dot("fkBuf").Index(jen.Empty(), jen.Lit(0)), jen.Byte().Call(jen.Id(instr)), h, jen.Id(lk)),
			ft.Clone().Dot("fkBuf").Op("=").Id(sub),
		}
		body = append(body, t.children(n, 0, fk, sub, modeNested)...)
		return jen.If(jen.Id(instr).Op(">=").Lit(0)).Block(body...)
	}
	// The old key's subscription goes first (its topic may be read back out of order: the hash protects the result).
	// Both carry the new row's hash (none if deleted), as Kafka Streams' do: an
	// inner join's row whose key became nil is answered with its delete. A left
	// join's row without a foreign key goes with a nil key (FKNoForeignKey).
	out = append(out, send(oldI, oldFK, jen.Id(hash), "old"), send(newI, newFK, jen.Id(hash), "new"))
	return out
}

// fkSubscription is the right task reading a subscription (k: the foreign
// key's bytes, v: the subscription): it updates the subscription store and
// answers with the right table's row, as Kafka Streams'
// SubscriptionJoinProcessorSupplier, at the later of the subscription's and the
// row's timestamps (a right change answers at its own: fkRightChange).
func (t *taskGen) fkSubscription(n *ir.Node, k, v string, m mode) []jen.Code {
	j := n.FKJoin
	id := n.ID
	instr, hash, lk := t.l(fmt.Sprintf("instr%d", id)), t.l(fmt.Sprintf("hash%d", id)), t.l(fmt.Sprintf("lk%d", id))
	ft := jen.Id(t.l("t"))
	subs := ft.Clone().Dot(t.stores[j.Subscriptions])
	writeFail := func(call jen.Code) jen.Code {
		return jen.If(jen.Id(t.l("err")).Op(":=").Add(call), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("write store "+j.Subscriptions.Name), jen.Id(t.l("err")))))
	}
	out := []jen.Code{
		jen.Commentf("%s: a subscription to foreign key %s", n, k),
		jen.List(jen.Id(instr), jen.Id(hash), jen.Id(lk), jen.Id(t.l("err"))).Op(":=").Qual(runtimePath, "ParseFKSubscription").Call(jen.Id(v)),
		t.fail("decode subscription"),
		jen.If(jen.Id(instr).Op("==").Lit(int(ir.FKDeleteNoPropagate)).Op("||").Id(instr).Op("==").Lit(int(ir.FKDeleteAndPropagate))).Block(
			writeFail(subs.Clone().Dot("Delete").Call(jen.Id(k), jen.Id(lk))),
		).Else().Block(
			writeFail(subs.Clone().Dot("Put").Call(jen.Id(k), jen.Id(lk), jen.Id(hash))),
		),
	}
	rv, rts, found := t.l(fmt.Sprintf("rv%d", id)), t.l(fmt.Sprintf("rts%d", id)), t.l(fmt.Sprintf("found%d", id))
	ts := t.l(fmt.Sprintf("ts%d", id))
	out = append(out, t.lookupTimed(j.Right, jen.Id(k), rv, rts, found)...)
	out = append(out, jen.Id(ts).Op(":=").Max(t.timestamp(), jen.Id(rts)).Comment("the answer's time: the later of the subscription's and the row's (0 without one)"))
	outer := t.resultTime
	t.resultTime = ts
	defer func() { t.resultTime = outer }()
	withRow := t.l(fmt.Sprintf("withRow%d", id))
	answer := append([]jen.Code{jen.Id(withRow).Op(":=").Id(found).Op("&&").Id(instr).Op("!=").Lit(int(ir.FKDeleteAndPropagate)).Comment("a delete is answered without the row")},
		t.fkResponse(n, jen.Id(hash), rv, withRow, "sub")...)
	answer = append(answer, t.children(n, 0, lk, t.l(fmt.Sprintf("resp%d_sub", id)), modeNested)...)
	out = append(out, jen.If(jen.Qual(runtimePath, "FKAnswers").Call(jen.Id(instr), jen.Id(found))).Block(answer...))
	if j.Kind != ir.LeftJoin {
		return out
	}
	// A left row without a foreign key (or deleted) subscribes to nothing: it
	// is answered "no row", as Kafka Streams 3.7+ answers its null-keyed
	// subscription (SubscriptionJoinProcessorSupplier).
	none := t.l(fmt.Sprintf("none%d", id))
	t.buffers["fkBuf"] = true
	t.resultTime = outer // "no row" goes at the subscription's time
	noFK := append([]jen.Code{
		jen.Comment("a left row without a foreign key, or deleted: nothing to keep, answered without a row"),
		jen.Id(none).Op(":=").Qual(runtimePath, "AppendFKResponse").Call(ft.Clone().Dot("fkBuf").Index(jen.Empty(), jen.Lit(0)), jen.Id(hash), jen.False(), jen.Nil()),
		ft.Clone().Dot("fkBuf").Op("=").Id(none),
	}, t.children(n, 0, lk, none, modeNested)...)
	return append(out[:3:3], jen.If(jen.Id(instr).Op("==").Lit(int(ir.FKNoForeignKey))).Block(noFK...).Else().Block(out[3:]...))
}

// fkResponse builds into resp<ID>_<tag> the response carrying hash and the
// right row rv (when found says it exists).
func (t *taskGen) fkResponse(n *ir.Node, hash jen.Code, rv, found, tag string) []jen.Code {
	j := n.FKJoin
	rb := t.l(fmt.Sprintf("rb%d_%s", n.ID, tag))
	resp := t.l(fmt.Sprintf("resp%d_%s", n.ID, tag))
	ft := jen.Id(t.l("t"))
	t.buffers["fkBuf"], t.buffers["valueBuf"] = true, true
	b := t.l(rb + "_b")
	enc := []jen.Code{
		jen.List(jen.Id(b), jen.Id(t.l("err"))).Op(":=").Add(t.serde(j.Right.ValueSerde)).Dot("Encode").Call(ft.Clone().Dot("valueBuf").Index(jen.Empty(), jen.Lit(0)), jen.Id(rv)),
		t.fail("encode value of " + j.Right.Name),
		ft.Clone().Dot("valueBuf").Op("=").Id(b),
		jen.Id(rb).Op("=").Id(b),
	}
	return []jen.Code{
		jen.Var().Id(rb).Index().Byte(),
		jen.If(jen.Id(found)).Block(enc...),
		jen.Id(resp).Op(":=").Qual(runtimePath, "AppendFKResponse").Call(ft.Clone().Dot("fkBuf").Index(jen.Empty(), jen.Lit(0)), hash, jen.Id(found), jen.Id(rb)),
		ft.Clone().Dot("fkBuf").Op("=").Id(resp),
	}
}

// fkRightChange answers every subscriber of a right row's key again when the
// row changes, as Kafka Streams' ForeignTableJoinProcessorSupplier.
func (t *taskGen) fkRightChange(n *ir.Node, c change, m mode) []jen.Code {
	j := n.FKJoin
	id := n.ID
	out, key := t.storeKey(n, j.Right, c.k)
	subs, sub := t.l(fmt.Sprintf("subs%d", id)), t.l(fmt.Sprintf("sub%d", id))
	out = append(out,
		jen.Commentf("%s: the row of %s changed; every left row subscribed to its key is answered again", n, j.Right.Name),
		jen.List(jen.Id(subs), jen.Id(t.l("err"))).Op(":=").Id(t.l("t")).Dot(t.stores[j.Subscriptions]).Dot("Subscribers").Call(key),
		t.fail("read store "+j.Subscriptions.Name),
	)
	has := c.hasNew
	if has == "true" {
		has = t.l(fmt.Sprintf("hasRow%d", id))
		out = append(out, jen.Id(has).Op(":=").True())
	}
	body := t.fkResponse(n, jen.Id(sub).Dot("Hash"), c.nv, has, "row")
	body = append(body, t.children(n, 0, sub+".LeftKey", t.l(fmt.Sprintf("resp%d_row", id)), modeLoop)...)
	loop := jen.For(jen.List(jen.Id("_"), jen.Id(sub)).Op(":=").Range().Id(subs)).Block(body...)
	if c.ov == "" {
		return append(out, loop)
	}
	// A delete of a row the table did not hold changes no result (Kafka Streams skips it too).
	return append(out, jen.Id("_").Op("=").Id(c.ov).Comment("only whether it existed matters"), jen.If(jen.Id(c.hasOld).Op("||").Id(c.hasNew)).Block(loop))
}

// fkResolve is the left task reading a response (k: the left key's bytes, v:
// the response): it is joined with the left row if that row still hashes to
// the response's hash, and dropped otherwise, as Kafka Streams'
// ResponseJoinProcessorSupplier. An inner join without a right row, and a
// deleted left row, give a delete.
func (t *taskGen) fkResolve(n *ir.Node, k, v string, m mode) []jen.Code {
	j := n.FKJoin
	id := n.ID
	ft := jen.Id(t.l("t"))
	hash, hasRight, rb := t.l(fmt.Sprintf("hash%d", id)), t.l(fmt.Sprintf("hasRight%d", id)), t.l(fmt.Sprintf("rb%d", id))
	lv, lfound, cur, lb := t.l(fmt.Sprintf("lv%d", id)), t.l(fmt.Sprintf("lfound%d", id)), t.l(fmt.Sprintf("cur%d", id)), t.l(fmt.Sprintf("lb%d", id))
	t.buffers["fkHash"], t.buffers["valueBuf"] = true, true
	out := []jen.Code{
		jen.Commentf("%s: a response for left key %s", n, k),
		jen.List(jen.Id(hash), jen.Id(hasRight), jen.Id(rb), jen.Id(t.l("err"))).Op(":=").Qual(runtimePath, "ParseFKResponse").Call(jen.Id(v)),
		t.fail("decode response"),
	}
	out = append(out, t.lookup(j.Left, jen.Id(k), lv, lfound)...)
	out = append(out,
		jen.Var().Id(cur).Index().Byte().Comment("the hash of the left row held now; none if deleted"),
		jen.If(jen.Id(lfound)).Block(
			jen.List(jen.Id(lb), jen.Id(t.l("err"))).Op(":=").Add(t.serde(j.Left.ValueSerde)).Dot("Encode").Call(ft.Clone().Dot("valueBuf").Index(jen.Empty(), jen.Lit(0)), jen.Id(lv)),
			t.fail("encode value of "+j.Left.Name),
			ft.Clone().Dot("valueBuf").Op("=").Id(lb),
			jen.Id(cur).Op("=").Qual(runtimePath, "FKHash").Call(ft.Clone().Dot("fkHash").Index(jen.Empty(), jen.Lit(0)), jen.Id(lb)),
			ft.Clone().Dot("fkHash").Op("=").Id(cur),
		),
	)
	kk, rv, p := t.l(fmt.Sprintf("key%d", id)), t.l(fmt.Sprintf("rv%d", id)), t.l(fmt.Sprintf("pr%d", id))
	_, nv := t.vars(n)
	has := t.l(fmt.Sprintf("has%d", id))
	rest := []jen.Code{
		jen.List(jen.Id(kk), jen.Id(t.l("err"))).Op(":=").Add(t.serde(j.Left.KeySerde)).Dot("Decode").Call(jen.Id(k)),
		t.fail("decode key"),
		jen.Var().Id(rv).Add(typ(j.Right.Value)),
		jen.If(jen.Id(hasRight)).Block(
			jen.List(jen.Id(rv), jen.Id(t.l("err"))).Op("=").Add(t.serde(j.Right.ValueSerde)).Dot("Decode").Call(jen.Id(rb)),
			t.fail("decode value of "+j.Right.Name),
		),
	}
	var right jen.Code = jen.Id(rv)
	cond := jen.Id(lfound).Op("&&").Id(hasRight)
	if j.Kind == ir.LeftJoin {
		rest = append(rest, jen.Var().Id(p).Op("*").Add(typ(j.Right.Value)).Comment("nil: the right table holds no row for the foreign key"),
			jen.If(jen.Id(hasRight)).Block(jen.Id(p).Op("=").Op("&").Id(rv)))
		right, cond = jen.Id(p), jen.Id(lfound)
	}
	args := []jen.Code{jen.Id(lv), right}
	if j.JoinerWithKey {
		args = []jen.Code{jen.Id(kk), jen.Id(lv), right}
	}
	rest = append(rest,
		jen.Id(has).Op(":=").Add(cond).Comment("otherwise the joined row is deleted"),
		jen.Var().Id(nv).Add(typ(n.Value)),
		jen.If(jen.Id(has)).Block(jen.Id(nv).Op("=").Add(t.call(n.Fns[0], args...))),
	)
	rest = append(rest, t.tableChildren(n, change{k: kk, nv: nv, hasNew: has}, m)...)
	stale := jen.Qual("bytes", "Equal").Call(jen.Id(hash), jen.Id(cur))
	out = append(out, jen.Comment("a response to an older row of the key is stale: that row's newer subscription is answered too"))
	return append(out, t.skipUnless(stale, m, rest)...)
}
