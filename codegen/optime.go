package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// Each windowed aggregation (tumbling, hopping, sliding, session) and each
// Suppress keeps its own stream time, as Kafka Streams' processors keep their
// observedStreamTime: the largest timestamp of the records that reached it,
// advanced as a record arrives, before the step looks at its windows. The
// task's stream time (the largest timestamp read) moves with records a Filter
// drops or another branch takes, and those must not close the step's windows,
// make its later records late or release its suppressed results.
//
//	t.streamTime5 = max(t.streamTime5, ts5)   // Count at topology.go:31: its own time
//	t.storeX.Expire(t.streamTime5)
//	if start5+size+grace <= t.streamTime5 { closed }
//
// A task starts them at its stream time (runtime.TaskContext.StreamTime), at
// least each of them, as it starts a join's (runtime.JoinTimes). Where windows
// close by the watermark (watermark.go) there are none: the watermark is the
// sub-topology's, whatever reaches a step.

// opTimeField is the task field of node n's own stream time.
func opTimeField(n *ir.Node) string { return fmt.Sprintf("streamTime%d", n.ID) }

// hasOpTime reports whether node n keeps a stream time of its own.
func (t *taskGen) hasOpTime(n *ir.Node) bool {
	if t.byWatermark {
		return false
	}
	if n.Op == ir.OpSuppress {
		return n.Store != nil
	}
	return n.Window != nil && n.Window.Timed()
}

// opTimeFields adds the stream times of the sub-topology's windowed steps and
// Suppress nodes to the task.
func (t *taskGen) opTimeFields(fields *[]jen.Code, ctor jen.Dict) {
	for _, n := range t.st.Nodes {
		if t.hasOpTime(n) {
			*fields = append(*fields, jen.Id(opTimeField(n)).Int64().Commentf("the stream time of %s: the largest timestamp that reached it", n))
			ctor[jen.Id(opTimeField(n))] = jen.Id(t.l("ctx")).Dot("StreamTime")
		}
	}
}

// advance counts a record at ts reaching node n: n's stream time moves to it
// if it is later. Nothing where windows close by the watermark.
func (t *taskGen) advance(n *ir.Node, ts jen.Code) []jen.Code {
	if !t.hasOpTime(n) {
		return nil
	}
	field := jen.Id(t.l("t")).Dot(opTimeField(n))
	return []jen.Code{field.Clone().Op("=").Max(field.Clone(), ts).Comment("its own stream time: only the records that reach it")}
}
