package joinports

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/streamstest"
)

// The scenarios of Kafka Streams' KStreamKStreamJoinTest,
// KStreamKStreamLeftJoinTest and KStreamKStreamOuterJoinTest (3.x semantics:
// left and outer non-matches wait for their window to close), with the same
// input and the same expected output. Kafka's TopologyTestDriver runs one task,
// so the driver here has one partition. A step pipes records, then checks
// everything the join emitted since the last check, as checkAndClearProcessResult
// does: "key:value@timestamp".

// in is one input record: topic1 takes a string value, topic2 v2 (a string, or
// an int64 for the outer joins).
type in struct {
	topic string
	key   int32
	v     string
	n     int64 // topic2's value in the outer joins
	ts    int64
}

type step struct {
	pipe []in
	want []string
}

func run(t *testing.T, p *runtime.Program, steps []step) {
	t.Helper()
	d := streamstest.NewDriver(p)
	t.Cleanup(func() { d.Close() })
	in1 := streamstest.Input(d, "topic1", streams.Int32(), streams.String())
	outer := p.Topics[1].Types.Value.Kind().String() == "int64"
	in2s := streamstest.Input(d, "topic2", streams.Int32(), streams.String())
	in2n := streamstest.Input(d, "topic2", streams.Int32(), streams.Int64())
	out := streamstest.Output(d, "out", streams.Int32(), streams.String())
	for i, s := range steps {
		for _, r := range s.pipe {
			var err error
			switch {
			case r.topic == "topic1":
				err = in1.PipeAt(r.key, r.v, r.ts)
			case outer:
				err = in2n.PipeAt(r.key, r.n, r.ts)
			default:
				err = in2s.PipeAt(r.key, r.v, r.ts)
			}
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		recs, err := out.ReadRecords()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, fmt.Sprintf("%d:%s@%d", r.Key, r.Value, r.Timestamp))
		}
		if !slices.Equal(got, s.want) {
			t.Fatalf("step %d: emitted\n %q\nwant\n %q", i, got, s.want)
		}
	}
}

func t1(key int32, v string, ts int64) in { return in{topic: "topic1", key: key, v: v, ts: ts} }
func t2(key int32, v string, ts int64) in { return in{topic: "topic2", key: key, v: v, ts: ts} }
func t2n(key int32, n, ts int64) in       { return in{topic: "topic2", key: key, n: n, ts: ts} }

// KStreamKStreamJoinTest.testJoin: every record at time 0; each record joins
// all the other side's records of its key.
func TestKafkaJoin(t *testing.T) {
	run(t, CompiledInner100(), []step{
		{pipe: []in{t1(0, "A0", 0), t1(1, "A1", 0)}},
		{pipe: []in{t2(0, "a0", 0), t2(1, "a1", 0)}, want: []string{"0:A0+a0@0", "1:A1+a1@0"}},
		{pipe: []in{t1(0, "B0", 0), t1(1, "B1", 0), t1(2, "B2", 0)}, want: []string{"0:B0+a0@0", "1:B1+a1@0"}},
		{pipe: []in{t2(0, "b0", 0), t2(1, "b1", 0), t2(2, "b2", 0), t2(3, "b3", 0)},
			want: []string{"0:A0+b0@0", "0:B0+b0@0", "1:A1+b1@0", "1:B1+b1@0", "2:B2+b2@0"}},
		{pipe: []in{t1(0, "C0", 0), t1(1, "C1", 0), t1(2, "C2", 0), t1(3, "C3", 0)},
			want: []string{"0:C0+a0@0", "0:C0+b0@0", "1:C1+a1@0", "1:C1+b1@0", "2:C2+b2@0", "3:C3+b3@0"}},
	})
}

// KStreamKStreamLeftJoinTest.testLeftJoinDuplicates.
func TestKafkaLeftJoinDuplicates(t *testing.T) {
	run(t, CompiledLeftGrace(), []step{
		{pipe: []in{t1(0, "A0", 0), t1(0, "A0-0", 0), t2(1, "a0", 111), t2(2, "dummy", 500)},
			want: []string{"0:A0+null@0", "0:A0-0+null@0"}},
		{pipe: []in{t1(2, "A2", 1000), t1(2, "A2-0", 1000), t2(2, "a2", 1001)},
			want: []string{"2:A2+a2@1001", "2:A2-0+a2@1001"}},
		{pipe: []in{t2(3, "a3", 315)}},
	})
}

// KStreamKStreamLeftJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor.
func TestKafkaLeftExpiredEmittedByTheLeftProcessor(t *testing.T) {
	run(t, CompiledLeft100(), []step{
		{pipe: []in{t1(0, "A0", 1), t1(1, "A1", 2), t1(0, "A0-0", 3)}},
		{pipe: []in{t2(1, "a1", 3)}, want: []string{"1:A1+a1@3"}},
		{pipe: []in{t1(2, "dummy", 401)}, want: []string{"0:A0+null@1", "0:A0-0+null@3"}},
		{pipe: []in{t2(2, "dummy", 401)}, want: []string{"2:dummy+dummy@401"}},
	})
}

// KStreamKStreamLeftJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheRightProcessor.
func TestKafkaLeftExpiredEmittedByTheRightProcessor(t *testing.T) {
	run(t, CompiledLeft100(), []step{
		{pipe: []in{t1(0, "A0", 1), t1(1, "A1", 2), t1(0, "A0-0", 3)}},
		{pipe: []in{t2(1, "a1", 3)}, want: []string{"1:A1+a1@3"}},
		{pipe: []in{t2(2, "dummy", 401)}, want: []string{"0:A0+null@1", "0:A0-0+null@3"}},
		{pipe: []in{t1(2, "dummy", 402)}, want: []string{"2:dummy+dummy@402"}},
	})
}

// KStreamKStreamLeftJoinTest.testRightNonJoinedRecordsAreNeverEmittedByTheLeftProcessor.
func TestKafkaLeftRightNonJoinedNeverEmitted(t *testing.T) {
	run(t, CompiledLeft100(), []step{
		{pipe: []in{t2(0, "A0", 1), t2(1, "A1", 2), t2(0, "A0-0", 3)}},
		{pipe: []in{t1(1, "a1", 3)}, want: []string{"1:a1+A1@3"}},
		{pipe: []in{t1(2, "dummy", 401)}},
		{pipe: []in{t2(2, "dummy", 402)}, want: []string{"2:dummy+dummy@402"}},
	})
}

// KStreamKStreamOuterJoinTest.testOuterJoinDuplicates: at equal times, the
// right side's non-matches come first, as in Kafka Streams' outer join store.
func TestKafkaOuterJoinDuplicates(t *testing.T) {
	run(t, CompiledOuterGrace(), []step{
		{pipe: []in{t1(0, "A0", 0), t1(0, "A0-0", 0), t2n(1, 11, 0), t2n(1, 12, 0), t2n(1, 10, 111), t2n(3, 100, 211)},
			want: []string{"1:null+11@0", "1:null+12@0", "0:A0+null@0", "0:A0-0+null@0"}},
		{pipe: []in{t1(2, "A2", 200), t1(2, "A2-0", 200), t2n(2, 13, 201), t2n(2, 14, 201)},
			want: []string{"2:A2+13@201", "2:A2-0+13@201", "2:A2+14@201", "2:A2-0+14@201"}},
		{pipe: []in{t2n(3, 100, 1500)}, want: []string{"1:null+10@111", "3:null+100@211"}},
	})
}

// KStreamKStreamOuterJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor.
func TestKafkaOuterLeftExpiredEmittedByTheLeftProcessor(t *testing.T) {
	run(t, CompiledOuter100(), []step{
		{pipe: []in{t1(0, "A0", 1), t1(1, "A1", 2), t1(0, "A0-0", 3)}},
		{pipe: []in{t2n(1, 11, 3)}, want: []string{"1:A1+11@3"}},
		{pipe: []in{t1(2, "dummy", 401)}, want: []string{"0:A0+null@1", "0:A0-0+null@3"}},
		{pipe: []in{t2n(2, 100, 401)}, want: []string{"2:dummy+100@401"}},
	})
}

// KStreamKStreamOuterJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheRightProcessor.
func TestKafkaOuterLeftExpiredEmittedByTheRightProcessor(t *testing.T) {
	run(t, CompiledOuter100(), []step{
		{pipe: []in{t1(0, "A0", 1), t1(1, "A1", 2), t1(0, "A0-0", 3)}},
		{pipe: []in{t2n(1, 11, 3)}, want: []string{"1:A1+11@3"}},
		{pipe: []in{t2n(2, 100, 401)}, want: []string{"0:A0+null@1", "0:A0-0+null@3"}},
		{pipe: []in{t1(2, "dummy", 402)}, want: []string{"2:dummy+100@402"}},
	})
}

// KStreamKStreamOuterJoinTest.testRightExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor.
func TestKafkaOuterRightExpiredEmittedByTheLeftProcessor(t *testing.T) {
	run(t, CompiledOuter100(), []step{
		{pipe: []in{t2n(0, 10, 1), t2n(1, 11, 2), t2n(0, 12, 3)}},
		{pipe: []in{t1(1, "A1", 3)}, want: []string{"1:A1+11@3"}},
		{pipe: []in{t1(2, "dummy", 401)}, want: []string{"0:null+10@1", "0:null+12@3"}},
		{pipe: []in{t2n(2, 100, 402)}, want: []string{"2:dummy+100@402"}},
	})
}

// KStreamKStreamOuterJoinTest.testEmitAllNonJoinedResultsForAsymmetricWindow
// (Kafka 3.8+, KAFKA-15417), with topic2's values a2..a5 as 2..5: a right
// record whose window has closed is emitted although a left record before it
// is still open.
func TestKafkaOuterEmitAllNonJoinedForAsymmetricWindow(t *testing.T) {
	run(t, CompiledOuterAsymmetric(), []step{
		{pipe: []in{t1(0, "A0", 29), t1(1, "A1", 30), t2n(2, 2, 31), t2n(3, 3, 36)}},
		{pipe: []in{t2n(4, 4, 37)}, want: []string{"2:null+2@31"}},
		{pipe: []in{t2n(5, 5, 50)}, want: []string{"0:A0+null@29", "3:null+3@36", "4:null+4@37"}},
	})
}

// Not a Kafka Streams test: a record a filter drops before a join never
// reaches it (KStreamKStreamJoin's shared time tracker and its window stores'
// observed stream time only see what reaches them), so a record 1 s later
// that is dropped neither expires A0 nor closes its window, and a0 joins it.
func TestKafkaJoinTimeIgnoresFilteredRecords(t *testing.T) {
	run(t, CompiledInnerFiltered(), []step{
		{pipe: []in{t1(0, "A0", 0), t1(1, "skip", 1000)}},
		{pipe: []in{t2(0, "a0", 50)}, want: []string{"0:A0+a0@50"}},
	})
	run(t, CompiledOuterFiltered(), []step{
		{pipe: []in{t1(0, "A0", 0), t1(1, "skip", 1000)}},
		{pipe: []in{t2n(0, 5, 50)}, want: []string{"0:A0+5@50"}},
		{pipe: []in{t1(2, "B2", 300)}, want: []string{}},
	})
}
