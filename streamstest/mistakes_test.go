package streamstest_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	streams "github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

// The driver fails loudly on a test's mistakes: topics and stores the program does
// not have, serdes for other types than it records.

func TestPipeToUnknownTopic(t *testing.T) {
	f := newFixture(t, 1)
	err := f.d.PipeRaw("no-such-topic", []byte("k"), []byte("v"))
	if err == nil || !strings.Contains(err.Error(), `"no-such-topic"`) {
		t.Errorf("PipeRaw to unknown topic = %v, want an error naming it", err)
	}
	if f.d.Now() != 0 {
		t.Errorf("a failed pipe moved the clock to %d", f.d.Now())
	}
	// A sink is a topic too, but nothing reads it.
	if err := f.d.PipeRaw("word-counts", []byte("k"), []byte("v")); err == nil {
		t.Error("PipeRaw to a sink nobody reads succeeded")
	}
}

func TestOutputOfUnwrittenTopic(t *testing.T) {
	f := newFixture(t, 1)
	for _, topic := range []string{"no-such-topic", "words", "word-repartition"} {
		out := streamstest.Output(f.d, topic, streams.String(), streams.String())
		_, err := out.ReadKeyValues()
		want := fmt.Sprintf(`streamstest: output topic %q: program WordCount never writes this topic (it writes ["word-count-counts-changelog" "word-count-word-repartition" "word-counts"])`, topic)
		if err == nil || err.Error() != want {
			t.Errorf("ReadKeyValues of %s:\n got %v\nwant %s", topic, err, want)
		}
		if _, err := out.ReadRecords(); err == nil {
			t.Errorf("ReadRecords of %s succeeded", topic)
		}
		func() {
			defer func() {
				if p := recover(); p == nil || fmt.Sprint(p) != want {
					t.Errorf("QueueSize of %s: panic %v, want %s", topic, p, want)
				}
			}()
			out.QueueSize()
		}()
	}
	// Internal topics are written under their full names.
	out := streamstest.Output(f.d, appID+"-counts-changelog", streams.String(), streams.Int64())
	if err := f.words.Pipe("s", "a a"); err != nil {
		t.Fatal(err)
	}
	if got, err := out.ReadKeyValues(); err != nil || !slices.Equal(got, []streams.KeyValue[string, int64]{count("a", 2)}) {
		t.Errorf("changelog = %v, %v; want [a:2]", got, err)
	}
}

func TestSerdesOfOtherTypes(t *testing.T) {
	f := newFixture(t, 1)
	if err := f.words.Pipe("s", "a"); err != nil {
		t.Fatal(err)
	}
	out := streamstest.Output(f.d, "word-counts", streams.String(), streams.String())
	_, err := out.ReadKeyValues()
	want := `streamstest: output topic "word-counts" has values of type int64, but the value serde given (streams.StringSerde[string]) is for string`
	if err == nil || err.Error() != want {
		t.Errorf("ReadKeyValues with a string serde for int64 values:\n got %v\nwant %s", err, want)
	}
	// The failed read left the records for a read with the right serdes.
	if got, err := f.counts.ReadKeyValues(); err != nil || len(got) != 1 {
		t.Errorf("read with the right serdes after a failed one = %v, %v", got, err)
	}

	in := streamstest.Input(f.d, "words", streams.Int64(), streams.String())
	want = `streamstest: input topic "words" has keys of type string, but the key serde given (streams.IntSerde[int64]) is for int64`
	if err := in.Pipe(1, "a"); err == nil || err.Error() != want {
		t.Errorf("Pipe with an int64 key serde for string keys:\n got %v\nwant %s", err, want)
	}
	if err := in.PipeAll([]streams.KeyValue[int64, string]{{Key: 1, Value: "a"}}); err == nil || err.Error() != want {
		t.Errorf("PipeAll with an int64 key serde for string keys:\n got %v\nwant %s", err, want)
	}

	store := streamstest.Store(f.d, "counts", streams.Bytes(), streams.Float64())
	_, err = store.All()
	for _, want := range []string{
		`streamstest: store "counts" has keys of type string, but the key serde given (streams.BytesSerde[[]uint8]) is for []uint8`,
		`streamstest: store "counts" has values of type int64, but the value serde given (streams.FloatSerde[float64]) is for float64`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("All with serdes of other types = %v, want an error containing %s", err, want)
		}
	}

	// RawStore reads any store as bytes.
	if raw, err := streamstest.RawStore(f.d, "counts").All(); err != nil || len(raw) != 1 || string(raw[0].Key) != "a" {
		t.Errorf("RawStore = %q, %v; want the one entry of a", raw, err)
	}

	// A topic whose types the program does not record is read as the test says.
	rep := streamstest.Output(f.d, appID+"-word-repartition", streams.String(), streams.String())
	if _, err := rep.ReadKeyValues(); err != nil {
		t.Errorf("read of a topic without recorded types: %v", err)
	}
}

func TestUnknownStore(t *testing.T) {
	f := newFixture(t, 1)
	s := streamstest.Store(f.d, "nope", streams.String(), streams.Int64())
	if _, _, err := s.Get("a"); err == nil || !strings.Contains(err.Error(), `"counts"`) {
		t.Errorf("Get on unknown store: %v, want an error listing the stores", err)
	}
	if _, err := s.All(); err == nil {
		t.Error("All on unknown store succeeded")
	}
}
