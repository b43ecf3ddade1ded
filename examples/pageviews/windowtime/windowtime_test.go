package windowtime

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/streamstest"
)

// Not ports of Kafka Streams tests (none pipes a record that a Filter drops
// or a Branch sends elsewhere before a windowed step): the expectations are
// worked out by hand from Kafka Streams 3.9's processors, which each advance
// their own observedStreamTime by the records reaching them
// (KStreamWindowAggregate, KStreamSessionWindowAggregate,
// KStreamSlidingWindowAggregate, KTableSuppressProcessorSupplier), and say
// why in comments. The same topologies and input run once in Kafka Streams
// 3.9.1 on a broker gave the same records, timestamps and late-record logs. The driver has one partition: one task, which reads every
// record, as Kafka's TopologyTestDriver. A step pipes a record, then checks
// what each output topic received since the last step, "key=value@timestamp".

type step struct {
	key, value string
	ts         int64
	want       map[string][]string // output topic: records; topics not named must receive none
	late       int64               // the late records counted so far
}

func run(t *testing.T, p *runtime.Program, input string, outputs []string, steps []step) {
	t.Helper()
	d := streamstest.NewDriver(p)
	t.Cleanup(func() { d.Close() })
	in := streamstest.Input(d, input, streams.String(), streams.String())
	outs := map[string]*streamstest.OutputTopic[string, int64]{}
	for _, o := range outputs {
		outs[o] = streamstest.Output(d, o, streams.String(), streams.Int64())
	}
	for i, s := range steps {
		if err := in.PipeAt(s.key, s.value, s.ts); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for _, o := range outputs {
			recs, err := outs[o].ReadRecords()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, fmt.Sprintf("%s=%d@%d", r.Key, r.Value, r.Timestamp))
			}
			if want := s.want[o]; !slices.Equal(got, want) {
				t.Errorf("step %d (%q@%d): %s received\n %q\nwant\n %q", i, s.value, s.ts, o, got, want)
			}
		}
		if got := d.LateRecords(); got != s.late {
			t.Errorf("step %d (%q@%d): %d late records, want %d", i, s.value, s.ts, got, s.late)
		}
	}
}

// The record "skip" at 1000 is read by the task and dropped by the Filter:
// it reaches none of the windowed steps, so their times stay at 101 and the
// records at 103 and 113 are not late. With the task's stream time (1000)
// they were: every window ending before 998 was closed.
func TestFilteredRecordClosesNoWindow(t *testing.T) {
	run(t, CompiledFiltered(), "views", []string{"tumbling-raw", "tumbling-final", "session-raw", "sliding-raw", "totals-limited"}, []step{
		{key: "k", value: "v", ts: 101, want: map[string][]string{
			"tumbling-raw": {"[k@100/110]=1@101"},
			"session-raw":  {"[k@101/101]=1@101"},
			"sliding-raw":  {"[k@96/101]=1@101"}, // the record's left window [ts-5, ts]
			// totals: k waits in the buffer from 101, due when the suppression's time reaches 106
		}},
		{key: "k", value: "skip", ts: 1000},
		{key: "k", value: "v", ts: 103, want: map[string][]string{
			// [100,110) closes when the window's time reaches 110 + 2
			"tumbling-raw": {"[k@100/110]=2@103"},
			// 103 is within the gap of the session [101,101]: merged
			"session-raw": {"[k@101/103]=2@103"},
			// 101's right window [102,107] (now that 103 falls in it), then 103's left window [98,103] with both
			"sliding-raw": {"[k@102/107]=1@103", "[k@98/103]=2@103"},
			// the suppression's time is 103: k (since 101) is not due before 106
		}},
		{key: "k", value: "v", ts: 113, want: map[string][]string{
			"tumbling-raw": {"[k@110/120]=1@113"},
			// time 113 >= 110 + 2: [100,110) closes, its final count goes out with its time
			"tumbling-final": {"[k@100/110]=2@103"},
			"session-raw":    {"[k@113/113]=1@113"}, // 113 - 103 > gap: a new session
			"sliding-raw":    {"[k@108/113]=1@113"}, // 103's right window [104,109] would not hold 113
			"totals-limited": {"k=3@113"},           // time 113: k, waiting since 101, is due
		}},
		// Each step closes by its own time, 113, whatever the key: 104 is late
		// for the tumbling window [100,110) (closed at 112), the session
		// [104,104] (closed at 104 + 5) and the sliding windows (even its right
		// window [105,110] has closed); one record, counted once per step that
		// drops it. (Another key, as k's count would carry Kafka Streams'
		// timestamp max(104, 113), gofka's 104.)
		{key: "j", value: "v", ts: 104, late: 3, want: map[string][]string{
			"totals-limited": {"j=1@104"}, // 113 - 5 >= 104: due at once
		}},
	})
}

// Both branches read clicks in one task. The "b" records at 1000 and 1001 go to
// the other aggregation: they do not move the "a" aggregation's time, so the
// "a" records at 103 and 113 are counted. With the task's stream time both
// were late.
func TestBranchedRecordClosesNoWindow(t *testing.T) {
	run(t, CompiledBranched(), "clicks", []string{"a-raw", "b-raw"}, []step{
		{key: "k", value: "a", ts: 101, want: map[string][]string{"a-raw": {"[k@100/110]=1@101"}}},
		{key: "k", value: "b", ts: 1000, want: map[string][]string{"b-raw": {"[k@1000/1010]=1@1000"}}},
		{key: "k", value: "a", ts: 103, want: map[string][]string{"a-raw": {"[k@100/110]=2@103"}}},
		{key: "k", value: "b", ts: 1001, want: map[string][]string{"b-raw": {"[k@1000/1010]=2@1001"}}},
		{key: "k", value: "a", ts: 113, want: map[string][]string{"a-raw": {"[k@110/120]=1@113"}}},
		// the "b" aggregation's time is 1001: [100,110) closed for it long ago
		{key: "k", value: "b", ts: 105, late: 1},
		// the "a" aggregation's time is 113: [100,110) is closed (at 112)
		{key: "k", value: "a", ts: 104, late: 2},
	})
}
