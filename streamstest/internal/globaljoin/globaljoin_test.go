package globaljoin

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/streamstest"
)

// The scenarios of Kafka Streams' KStreamGlobalKTableJoinTest and
// KStreamGlobalKTableLeftJoinTest, with their inputs and expected outputs
// ("key:value" as MockProcessor prints them). The stream has 3 partitions
// here (Kafka Streams' test driver has one): a global table is seen whole by
// every task, so the outputs must not depend on it.

var expectedKeys = []int32{0, 1, 2, 3}

type scenario struct {
	*testing.T
	d      *streamstest.Driver
	stream *streamstest.InputTopic[int32, string]
	table  *streamstest.InputTopic[string, string]
	out    *streamstest.OutputTopic[int32, string]
}

func newScenario(t *testing.T, p *runtime.Program) *scenario {
	d := streamstest.NewDriver(p, streamstest.WithPartitions(3))
	t.Cleanup(func() { d.Close() })
	return &scenario{T: t, d: d,
		stream: streamstest.Input(d, "streamTopic", streams.Int32(), streams.String()),
		table:  streamstest.Input(d, "globalTableTopic", streams.String(), streams.String()),
		out:    streamstest.Output(d, "output", streams.Int32(), streams.String()),
	}
}

func (s *scenario) pushToStream(n int, prefix string, includeForeignKey bool) {
	s.Helper()
	for _, k := range expectedKeys[:n] {
		v := fmt.Sprintf("%s%d", prefix, k)
		if includeForeignKey {
			v += fmt.Sprintf(",FKey%d", k)
		}
		if err := s.stream.Pipe(k, v); err != nil {
			s.Fatal(err)
		}
	}
}

func (s *scenario) pushToGlobalTable(n int, prefix string) {
	s.Helper()
	for _, k := range expectedKeys[:n] {
		if err := s.table.Pipe(fmt.Sprintf("FKey%d", k), fmt.Sprintf("%s%d", prefix, k)); err != nil {
			s.Fatal(err)
		}
	}
}

func (s *scenario) pushNullValueToGlobalTable(n int) {
	s.Helper()
	for _, k := range expectedKeys[:n] {
		if err := s.d.PipeRaw("globalTableTopic", []byte(fmt.Sprintf("FKey%d", k)), nil); err != nil {
			s.Fatal(err)
		}
	}
}

// checkAndClearProcessResult compares the output since the last check with
// want, in order (each key is one task's, so the order within a key is kept).
func (s *scenario) checkAndClearProcessResult(want ...string) {
	s.Helper()
	kvs, err := s.out.ReadKeyValues()
	if err != nil {
		s.Fatal(err)
	}
	got := []string{}
	for _, kv := range kvs {
		got = append(got, fmt.Sprintf("%d:%s", kv.Key, kv.Value))
	}
	// Records of different keys may sit on different partitions: compare in
	// key order, which MockProcessor's expectations follow.
	slices.Sort(got)
	want = append([]string{}, want...)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		s.Errorf("output %q, want %q", got, want)
	}
}

func TestJoinShouldNotJoinWithEmptyGlobalTableOnStreamUpdates(t *testing.T) {
	s := newScenario(t, CompiledJoin())
	s.pushToStream(2, "X", true)
	s.checkAndClearProcessResult()
}

func TestJoinShouldNotJoinOnGlobalTableUpdates(t *testing.T) {
	s := newScenario(t, CompiledJoin())
	s.pushToStream(2, "X", true)
	s.checkAndClearProcessResult()
	s.pushToGlobalTable(2, "Y")
	s.checkAndClearProcessResult()
	s.pushToStream(4, "X", true)
	s.checkAndClearProcessResult("0:X0,FKey0+Y0", "1:X1,FKey1+Y1")
	s.pushToGlobalTable(4, "YY")
	s.checkAndClearProcessResult()
	s.pushToStream(4, "X", true)
	s.checkAndClearProcessResult("0:X0,FKey0+YY0", "1:X1,FKey1+YY1", "2:X2,FKey2+YY2", "3:X3,FKey3+YY3")
	s.pushToGlobalTable(4, "YYY")
	s.checkAndClearProcessResult()
}

func TestJoinShouldJoinOnlyIfMatchFoundOnStreamUpdates(t *testing.T) {
	s := newScenario(t, CompiledJoin())
	s.pushToGlobalTable(2, "Y")
	s.checkAndClearProcessResult()
	s.pushToStream(4, "X", true)
	s.checkAndClearProcessResult("0:X0,FKey0+Y0", "1:X1,FKey1+Y1")
}

func TestJoinShouldClearGlobalTableEntryOnNullValueUpdates(t *testing.T) {
	s := newScenario(t, CompiledJoin())
	s.pushToGlobalTable(4, "Y")
	s.checkAndClearProcessResult()
	s.pushToStream(4, "X", true)
	s.checkAndClearProcessResult("0:X0,FKey0+Y0", "1:X1,FKey1+Y1", "2:X2,FKey2+Y2", "3:X3,FKey3+Y3")
	s.pushNullValueToGlobalTable(2)
	s.checkAndClearProcessResult()
	s.pushToStream(4, "XX", true)
	s.checkAndClearProcessResult("2:XX2,FKey2+Y2", "3:XX3,FKey3+Y3")
	if n := s.d.GlobalLen("global-table"); n != 2 {
		t.Errorf("the global table has %d rows after deleting 2 of 4, want 2", n)
	}
}

func TestJoinShouldNotJoinOnNullKeyMapperValues(t *testing.T) {
	s := newScenario(t, CompiledJoin())
	s.pushToGlobalTable(4, "Y")
	s.checkAndClearProcessResult()
	s.pushToStream(4, "XXX", false)
	s.checkAndClearProcessResult()
}

func TestLeftJoinShouldNotJoinWithEmptyGlobalTableOnStreamUpdates(t *testing.T) {
	s := newScenario(t, CompiledLeftJoin())
	s.pushToStream(2, "X", true)
	s.checkAndClearProcessResult("0:X0,FKey0+null", "1:X1,FKey1+null")
}

func TestLeftJoinShouldNotJoinOnGlobalTableUpdates(t *testing.T) {
	s := newScenario(t, CompiledLeftJoin())
	s.pushToStream(2, "X", true)
	s.checkAndClearProcessResult("0:X0,FKey0+null", "1:X1,FKey1+null")
	s.pushToGlobalTable(2, "Y")
	s.checkAndClearProcessResult()
	s.pushToStream(4, "X", true)
	s.checkAndClearProcessResult("0:X0,FKey0+Y0", "1:X1,FKey1+Y1", "2:X2,FKey2+null", "3:X3,FKey3+null")
	s.pushToGlobalTable(4, "YY")
	s.checkAndClearProcessResult()
	s.pushToStream(4, "X", true)
	s.checkAndClearProcessResult("0:X0,FKey0+YY0", "1:X1,FKey1+YY1", "2:X2,FKey2+YY2", "3:X3,FKey3+YY3")
	s.pushToGlobalTable(4, "YYY")
	s.checkAndClearProcessResult()
}

func TestLeftJoinShouldJoinRegardlessIfMatchFoundOnStreamUpdates(t *testing.T) {
	s := newScenario(t, CompiledLeftJoin())
	s.pushToGlobalTable(2, "Y")
	s.checkAndClearProcessResult()
	s.pushToStream(4, "X", true)
	s.checkAndClearProcessResult("0:X0,FKey0+Y0", "1:X1,FKey1+Y1", "2:X2,FKey2+null", "3:X3,FKey3+null")
}

func TestLeftJoinShouldClearGlobalTableEntryOnNullValueUpdates(t *testing.T) {
	s := newScenario(t, CompiledLeftJoin())
	s.pushToGlobalTable(4, "Y")
	s.checkAndClearProcessResult()
	s.pushToStream(4, "X", true)
	s.checkAndClearProcessResult("0:X0,FKey0+Y0", "1:X1,FKey1+Y1", "2:X2,FKey2+Y2", "3:X3,FKey3+Y3")
	s.pushNullValueToGlobalTable(2)
	s.checkAndClearProcessResult()
	s.pushToStream(4, "XX", true)
	s.checkAndClearProcessResult("0:XX0,FKey0+null", "1:XX1,FKey1+null", "2:XX2,FKey2+Y2", "3:XX3,FKey3+Y3")
}

func TestLeftJoinShouldJoinOnNullKeyMapperValues(t *testing.T) {
	s := newScenario(t, CompiledLeftJoin())
	s.pushToGlobalTable(4, "Y")
	s.checkAndClearProcessResult()
	s.pushToStream(4, "XXX", false)
	s.checkAndClearProcessResult("0:XXX0+null", "1:XXX1+null", "2:XXX2+null", "3:XXX3+null")
}

// TestGlobalJoinNeedsNoRepartition checks what Kafka Streams'
// shouldNotRequireCopartitioning checks: the join is one sub-topology that
// reads only the stream, and the global topic is read by no task.
func TestGlobalJoinNeedsNoRepartition(t *testing.T) {
	for _, p := range []*runtime.Program{CompiledJoin(), CompiledLeftJoin()} {
		if len(p.SubTopologies) != 1 || len(p.SubTopologies[0].Sources) != 1 {
			t.Fatalf("%s: %d sub-topologies, want one reading the stream", p.Name, len(p.SubTopologies))
		}
		for _, src := range p.SubTopologies[0].Sources {
			for _, id := range src.Topics {
				if id == p.Globals[0].Topic {
					t.Errorf("%s: a task reads the global topic", p.Name)
				}
			}
		}
		for _, tp := range p.Topics {
			if tp.Kind.Internal() {
				t.Errorf("%s: internal topic %s: a global join needs none", p.Name, tp.Name)
			}
		}
	}
}
