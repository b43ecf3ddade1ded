package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// Windows close by the watermark when the sub-topology has one: a source of
// its own with WithWatermark, or a repartition topic written by a
// sub-topology that has one (the runner carries the watermark through it).
// Otherwise they close by stream time, each windowed step and Suppress by its
// own (optime.go), as in Kafka Streams. The task keeps the watermark the
// runner hands it (runtime.WatermarkTask) and, when it moves, emits the
// suppressed results it closed:
//
//	func (t *pageViewsTask1) AdvanceWatermark(ms int64) error {
//		t.watermark = ms
//		r := &runtime.Record{Topic: "(watermark)", Offset: -1, Timestamp: ms}
//		return t.storeX.EvictUntil(t.watermark, func(key, value []byte, ts int64) error { return t.final5(r, key, value, ts) })
//	}

// watermarked reports whether sub-topology st closes windows by a watermark.
func watermarked(g *ir.Graph, st *ir.SubTopology) bool {
	return watermarkedFrom(g, st, map[int]bool{})
}

func watermarkedFrom(g *ir.Graph, st *ir.SubTopology, seen map[int]bool) bool {
	if seen[st.ID] {
		return false
	}
	seen[st.ID] = true
	for _, src := range st.Sources() {
		if src.Watermark != nil {
			return true
		}
		for _, topic := range src.Topics {
			for _, n := range g.Nodes {
				if n.Op != ir.OpRepartition || len(n.Topics) != 1 || n.Topics[0] != topic {
					continue
				}
				for _, up := range g.SubTopologies {
					if up.ID == n.SubTopology && watermarkedFrom(g, up, seen) {
						return true
					}
				}
			}
		}
	}
	return false
}

// clock is the time windows close by at windowed step or Suppress n: the
// task's watermark, or n's own stream time (opTime).
func (t *taskGen) clock(n *ir.Node) *jen.Statement {
	if t.byWatermark {
		return jen.Id(t.l("t")).Dot("watermark")
	}
	return jen.Id(t.l("t")).Dot(opTimeField(n))
}

// watermarkFields adds the watermark field of a task whose windows close by it.
func (t *taskGen) watermarkFields(fields *[]jen.Code, ctor jen.Dict) {
	if !t.byWatermark {
		return
	}
	*fields = append(*fields, jen.Id("watermark").Int64().Comment("windows close by it: the smallest over the inputs (runtime.WatermarkTask)"))
	ctor[jen.Id("watermark")] = jen.Id(t.l("ctx")).Dot("Watermark")
}

// watermarkMethod is AdvanceWatermark, for a task whose windows close by the
// watermark: the suppressed results the new watermark closes go out at once,
// not with the next record.
func (t *taskGen) watermarkMethod() []jen.Code {
	if !t.byWatermark {
		return nil
	}
	ms := jen.Id(t.l("ms"))
	body := []jen.Code{jen.Id(t.l("t")).Dot("watermark").Op("=").Add(ms)}
	var evict []jen.Code
	for _, n := range t.st.Nodes {
		if n.Op != ir.OpSuppress || n.Store == nil {
			continue
		}
		final := jen.Func().Params(jen.Id(t.l("key")).Index().Byte(), jen.Id(t.l("value")).Index().Byte(), jen.Id(t.l("ts")).Int64()).Error().Block(
			jen.Return(jen.Id(t.l("t")).Dot(fmt.Sprintf("final%d", n.ID)).Call(jen.Id(t.l("r")), jen.Id(t.l("key")), jen.Id(t.l("value")), jen.Id(t.l("ts")))),
		)
		evict = append(evict, jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(t.stores[n.Store]).Dot("EvictUntil").Call(t.clock(n), final), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("err"))),
		))
	}
	if len(evict) > 0 {
		body = append(body, jen.Id(t.l("r")).Op(":=").Op("&").Qual(runtimePath, "Record").Values(jen.Dict{
			jen.Id("Topic"): jen.Lit("(watermark)"), jen.Id("Offset"): jen.Lit(-1), jen.Id("Timestamp"): ms,
		}).Comment("no input record: errors name the watermark"))
		body = append(body, evict...)
	}
	return []jen.Code{
		jen.Comment("AdvanceWatermark implements runtime.WatermarkTask: windows close by the watermark."),
		jen.Func().Params(jen.Id(t.l("t")).Op("*").Id(t.typ)).Id("AdvanceWatermark").Params(ms.Clone().Int64()).Error().Block(append(body, jen.Return(jen.Nil()))...),
		jen.Line(),
	}
}
