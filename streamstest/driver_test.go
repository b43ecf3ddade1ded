package streamstest_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	streams "github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/streamstest"
)

// A word count written by hand the way gofkagen would generate it:
//
//	sub-topology 0: words ─split─▶ key by word ─▶ <app>-word-repartition
//	sub-topology 1: <app>-word-repartition ─count (store "counts")─▶ word-counts
//
// A word "-w" deletes w's count (and emits a tombstone); "boom" panics in split and
// "crash" in count; "bad" makes split fail without a panic.
const (
	topicWords runtime.TopicID = iota
	topicRepartition
	topicCounts
	topicChangelog
)

const appID = "word-count"

// wordCount builds the program for a driver with the given number of partitions;
// violations collects the records a count task saw on a partition other than
// runtime.Partition(key, partitions).
func wordCount(violations *[]string, partitions int32) *runtime.Program {
	return &runtime.Program{
		Name:         "WordCount",
		DefaultAppID: appID,
		Topics: []runtime.TopicSpec{
			topicWords:       {Name: "words", Kind: runtime.SourceTopic, Types: runtime.TypesOf[string, string]()},
			topicRepartition: {Name: "word-repartition", Kind: runtime.RepartitionTopic}, // types not recorded
			topicCounts:      {Name: "word-counts", Kind: runtime.SinkTopic, Types: runtime.TypesOf[string, int64]()},
			topicChangelog:   {Name: "counts-changelog", Kind: runtime.ChangelogTopic, Types: runtime.TypesOf[string, int64]()},
		},
		Stores: []runtime.StoreSpec{{Name: "counts", Changelog: topicChangelog, SubTopology: 1}},
		SubTopologies: []runtime.SubTopologySpec{
			{
				ID:      0,
				Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{topicWords}}},
				Sinks:   []runtime.TopicID{topicRepartition},
				NewTask: func(ctx runtime.TaskContext) runtime.Task { return &splitTask{out: ctx.Out} },
			},
			{
				ID:      1,
				Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{topicRepartition}}},
				Sinks:   []runtime.TopicID{topicCounts},
				Stores:  []int{0},
				NewTask: func(ctx runtime.TaskContext) runtime.Task {
					return &countTask{
						ctx:        ctx,
						cache:      state.NewCache(ctx.Stores[0], streams.Int64().Encode, streams.Int64().Decode, ctx.CacheEntries),
						violations: violations,
						partitions: partitions,
					}
				},
			},
		},
	}
}

type splitTask struct {
	out     runtime.Emitter
	cur     int
	key, op []byte // reused for every record, as generated code does
}

func (t *splitTask) Current() int      { return t.cur }
func (t *splitTask) Flush() error      { return nil }
func (t *splitTask) StreamTime() int64 { return runtime.NoTimestamp }

func (t *splitTask) Process(source int, batch []runtime.Record) error {
	for i := range batch {
		t.cur = i
		rec := &batch[i]
		for _, w := range strings.Fields(string(rec.Value)) {
			switch w {
			case "boom":
				panic("boom in split")
			case "bad":
				return rec.Fail("split", errors.New("bad word"))
			}
			t.op = append(t.op[:0], '+')
			if name, ok := strings.CutPrefix(w, "-"); ok {
				w, t.op[0] = name, '-'
			}
			t.key = append(t.key[:0], w...)
			t.out.Emit(topicRepartition, t.key, t.op, batch[i].Timestamp)
			// Scribble over the buffers: the emitter must have copied them.
			for j := range t.key {
				t.key[j] = '#'
			}
			t.op[0] = '#'
		}
	}
	return nil
}

type countTask struct {
	ctx        runtime.TaskContext
	cache      *state.Cache[int64]
	violations *[]string
	partitions int32
	cur        int
	buf        []byte
}

func (t *countTask) Current() int      { return t.cur }
func (t *countTask) Flush() error      { return t.cache.Flush() }
func (t *countTask) StreamTime() int64 { return runtime.NoTimestamp }

func (t *countTask) Process(source int, batch []runtime.Record) error {
	for i := range batch {
		t.cur = i
		rec := &batch[i]
		if string(rec.Key) == "crash" {
			panic("crash in count")
		}
		if rec.Partition != t.ctx.Partition {
			*t.violations = append(*t.violations, fmt.Sprintf("task %d got record of partition %d", t.ctx.Partition, rec.Partition))
		}
		if want := runtime.Partition(rec.Key, t.partitions); want != t.ctx.Partition {
			*t.violations = append(*t.violations, fmt.Sprintf("task %d got key %q, which belongs to partition %d", t.ctx.Partition, rec.Key, want))
		}
		if string(rec.Value) == "-" {
			if err := t.cache.Delete(rec.Key); err != nil {
				return rec.Fail("delete count", err)
			}
			t.ctx.Out.Emit(topicCounts, rec.Key, nil, rec.Timestamp)
			continue
		}
		c, _, err := t.cache.Get(rec.Key)
		if err != nil {
			return rec.Fail("get count", err)
		}
		c++
		if err := t.cache.Put(rec.Key, c); err != nil {
			return rec.Fail("put count", err)
		}
		t.buf, _ = streams.Int64().Encode(t.buf[:0], c)
		t.ctx.Out.Emit(topicCounts, rec.Key, t.buf, rec.Timestamp)
	}
	return nil
}

type fixture struct {
	d          *streamstest.Driver
	words      *streamstest.InputTopic[string, string]
	counts     *streamstest.OutputTopic[string, int64]
	store      *streamstest.StoreView[string, int64]
	violations []string
}

func newFixture(t *testing.T, partitions int32, opts ...streamstest.Option) *fixture {
	t.Helper()
	f := &fixture{}
	opts = append(opts, streamstest.WithPartitions(partitions))
	f.d = streamstest.NewDriver(wordCount(&f.violations, partitions), opts...)
	t.Cleanup(func() {
		if err := f.d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if len(f.violations) > 0 {
			t.Errorf("records processed on the wrong partition: %v", f.violations)
		}
	})
	f.words = streamstest.Input(f.d, "words", streams.String(), streams.String())
	f.counts = streamstest.Output(f.d, "word-counts", streams.String(), streams.Int64())
	f.store = streamstest.Store(f.d, "counts", streams.String(), streams.Int64())
	return f
}

var sentences = []streams.KeyValue[string, string]{
	{Key: "s1", Value: "the quick brown fox"},
	{Key: "s2", Value: "jumps over the lazy dog"},
	{Key: "s3", Value: "the dog barks"},
	{Key: "s4", Value: "quick quick fox"},
}

// wantCounts is the output for sentences: one count per word, in the order the
// words are read, since the driver processes repartitioned records FIFO.
var wantCounts = []streams.KeyValue[string, int64]{
	count("the", 1), count("quick", 1), count("brown", 1), count("fox", 1),
	count("jumps", 1), count("over", 1), count("the", 2), count("lazy", 1), count("dog", 1),
	count("the", 3), count("dog", 2), count("barks", 1),
	count("quick", 2), count("quick", 3), count("fox", 2),
}

func count(word string, n int64) streams.KeyValue[string, int64] { return streams.KV(word, n) }

var wantStore = []streams.KeyValue[string, int64]{
	count("barks", 1), count("brown", 1), count("dog", 2), count("fox", 2), count("jumps", 1),
	count("lazy", 1), count("over", 1), count("quick", 3), count("the", 3),
}

func TestWordCount(t *testing.T) {
	for _, n := range []int32{1, 4} {
		t.Run(fmt.Sprintf("partitions=%d", n), func(t *testing.T) {
			f := newFixture(t, n)
			if err := f.words.PipeAll(sentences); err != nil {
				t.Fatal(err)
			}
			if f.counts.IsEmpty() {
				t.Fatal("IsEmpty before reading")
			}
			got, err := f.counts.ReadKeyValues()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, wantCounts) {
				t.Errorf("counts\n got %v\nwant %v", got, wantCounts)
			}
			if !f.counts.IsEmpty() {
				t.Error("not IsEmpty after reading")
			}
			if again, _ := f.counts.ReadKeyValues(); len(again) != 0 {
				t.Errorf("second read = %v, want nothing", again)
			}

			all, err := f.store.All()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(all, wantStore) {
				t.Errorf("store\n got %v\nwant %v", all, wantStore)
			}
			if v, ok, err := f.store.Get("quick"); err != nil || !ok || v != 3 {
				t.Errorf("Get(quick) = %d, %v, %v; want 3, true, nil", v, ok, err)
			}
			if v, ok, err := f.store.Get("cat"); err != nil || ok || v != 0 {
				t.Errorf("Get(cat) = %d, %v, %v; want 0, false, nil", v, ok, err)
			}
		})
	}
}

func TestRecordsLandOnKeyPartition(t *testing.T) {
	const n = 4
	f := newFixture(t, n)
	if err := f.words.PipeAll(sentences); err != nil {
		t.Fatal(err)
	}
	repartition := f.d.ReadRaw(appID + "-word-repartition")
	if len(repartition) != len(wantCounts) {
		t.Fatalf("%d repartitioned records, want %d", len(repartition), len(wantCounts))
	}
	used := map[int32]bool{}
	next := map[int32]int64{}
	for _, r := range repartition {
		if want := runtime.Partition(r.Key, n); r.Partition != want {
			t.Errorf("repartitioned %q on partition %d, want %d", r.Key, r.Partition, want)
		}
		if r.Offset != next[r.Partition] {
			t.Errorf("repartitioned %q at offset %d of partition %d, want %d", r.Key, r.Offset, r.Partition, next[r.Partition])
		}
		next[r.Partition]++
		if string(r.Value) != "+" {
			t.Errorf("repartitioned %q with value %q, want %q", r.Key, r.Value, "+")
		}
		used[r.Partition] = true
	}
	if len(used) < 2 {
		t.Errorf("all words landed on partitions %v; the test needs words on several", slices.Collect(maps.Keys(used)))
	}
	recs, err := f.counts.ReadRecords()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if want := runtime.Partition([]byte(r.Key), n); r.Partition != want {
			t.Errorf("count of %q on partition %d, want %d", r.Key, r.Partition, want)
		}
	}
}

func TestChangelog(t *testing.T) {
	const n = 4
	f := newFixture(t, n)
	changelog := f.d.TopicName(topicChangelog)
	if changelog != "word-count-counts-changelog" {
		t.Fatalf("changelog topic %q", changelog)
	}
	type entry struct {
		key   string
		value string // "" for a tombstone
		part  int32
	}
	read := func() []entry {
		var es []entry
		for _, r := range f.d.ReadRaw(changelog) {
			e := entry{key: string(r.Key), part: r.Partition}
			if r.Value != nil {
				v, err := streams.Int64().Decode(r.Value)
				if err != nil {
					t.Fatalf("changelog value of %q: %v", r.Key, err)
				}
				e.value = fmt.Sprint(v)
			}
			es = append(es, e)
		}
		return es
	}
	p := func(k string) int32 { return runtime.Partition([]byte(k), n) }

	// One flush per pipe: each key changed by the record appears once, with its last value.
	if err := f.words.Pipe("s1", "b a b"); err != nil {
		t.Fatal(err)
	}
	got := read()
	want := []entry{{"a", "1", p("a")}, {"b", "2", p("b")}}
	slices.SortFunc(want, func(x, y entry) int { return int(x.part - y.part) })
	if !slices.Equal(got, want) {
		t.Errorf("changelog after first pipe\n got %v\nwant %v", got, want)
	}

	// A delete is a tombstone in the changelog and in the output, and leaves the store.
	if err := f.words.Pipe("s2", "-a"); err != nil {
		t.Fatal(err)
	}
	if got, want := read(), []entry{{"a", "", p("a")}}; !slices.Equal(got, want) {
		t.Errorf("changelog after delete\n got %v\nwant %v", got, want)
	}
	recs, err := f.counts.ReadRecords()
	if err != nil {
		t.Fatal(err)
	}
	if last := recs[len(recs)-1]; last.Key != "a" || !last.NilValue || last.Value != 0 {
		t.Errorf("last output %+v, want a tombstone for a", last)
	}
	if _, ok, _ := f.store.Get("a"); ok {
		t.Error("a still in the store after its delete")
	}
	if all, _ := f.store.All(); !slices.Equal(all, []streams.KeyValue[string, int64]{count("b", 2)}) {
		t.Errorf("store after delete = %v", all)
	}
}

func TestCacheEvictionKeepsCountsRight(t *testing.T) {
	f := newFixture(t, 2, streamstest.WithCacheEntries(2))
	if err := f.words.PipeAll(sentences); err != nil {
		t.Fatal(err)
	}
	got, err := f.counts.ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, wantCounts) {
		t.Errorf("counts\n got %v\nwant %v", got, wantCounts)
	}
	if all, _ := f.store.All(); !slices.Equal(all, wantStore) {
		t.Errorf("store\n got %v\nwant %v", all, wantStore)
	}
}

func TestPanicNamesRecordAndDriverContinues(t *testing.T) {
	const n = 4
	f := newFixture(t, n)
	key := "s1"
	part := runtime.Partition([]byte(key), n)
	for i := range 3 {
		if err := f.words.Pipe(key, "ok"); err != nil {
			t.Fatalf("pipe %d: %v", i, err)
		}
	}

	// A panic in the first sub-topology names the input record.
	err := f.words.Pipe(key, "boom")
	var re *runtime.RecordError
	if !errors.As(err, &re) {
		t.Fatalf("Pipe(boom) = %v, want a *runtime.RecordError", err)
	}
	if re.Topic != "words" || re.Partition != part || re.Offset != 3 {
		t.Errorf("RecordError names topic %s partition %d offset %d, want words %d 3", re.Topic, re.Partition, re.Offset, part)
	}
	if !strings.Contains(err.Error(), "boom in split") || len(re.Stack) == 0 {
		t.Errorf("error %q (stack %d bytes) lacks the panic value or stack", err, len(re.Stack))
	}

	// A panic in the second names the repartitioned record, and the other words
	// of the sentence are still counted.
	err = f.words.Pipe(key, "ok crash ok")
	if !errors.As(err, &re) {
		t.Fatalf("Pipe(crash) = %v, want a *runtime.RecordError", err)
	}
	if re.Topic != appID+"-word-repartition" || re.Partition != runtime.Partition([]byte("crash"), n) || re.Offset != 0 {
		t.Errorf("RecordError names topic %s partition %d offset %d, want %s-word-repartition %d 0",
			re.Topic, re.Partition, re.Offset, appID, runtime.Partition([]byte("crash"), n))
	}

	// An error returned without a panic is passed on as it is.
	err = f.words.Pipe(key, "bad")
	if !errors.As(err, &re) || re.Stage != "split" || re.Offset != 5 {
		t.Errorf("Pipe(bad) = %v, want the task's RecordError at offset 5", err)
	}

	// The driver keeps going.
	if err := f.words.Pipe(key, "ok"); err != nil {
		t.Fatalf("pipe after failures: %v", err)
	}
	if v, ok, err := f.store.Get("ok"); err != nil || !ok || v != 6 {
		t.Errorf("Get(ok) = %d, %v, %v; want 6", v, ok, err)
	}
}

func TestPipeErrorsJoined(t *testing.T) {
	f := newFixture(t, 1)
	err := f.words.PipeAll([]streams.KeyValue[string, string]{streams.KV("s1", "boom"), streams.KV("s2", "a"), streams.KV("s3", "bad")})
	var re *runtime.RecordError
	if !errors.As(err, &re) {
		t.Fatalf("PipeAll = %v, want RecordErrors", err)
	}
	if !strings.Contains(err.Error(), "boom in split") || !strings.Contains(err.Error(), "bad word") {
		t.Errorf("PipeAll error %q lacks one of the failures", err)
	}
	if v, _, _ := f.store.Get("a"); v != 1 {
		t.Errorf("Get(a) = %d, want 1: the good record between the failures was lost", v)
	}
}

func TestRepartitionTopicCanBePipedByFullName(t *testing.T) {
	f := newFixture(t, 1, streamstest.WithAppID("other"))
	if err := f.d.PipeRaw("other-word-repartition", []byte("x"), []byte("+")); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := f.store.Get("x"); !ok || v != 1 {
		t.Errorf("Get(x) = %d, %v; want 1", v, ok)
	}
	if err := f.d.PipeRaw(appID+"-word-repartition", []byte("x"), []byte("+")); err == nil {
		t.Error("the default app id's topic name is accepted under WithAppID")
	}
}

func TestTimestamps(t *testing.T) {
	f := newFixture(t, 2, streamstest.WithStartTime(1000))
	for _, s := range []string{"a", "a b"} {
		if err := f.words.Pipe("k", s); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.words.PipeAt("k", "c", 5); err != nil {
		t.Fatal(err)
	}
	if err := f.words.Pipe("k", "d"); err != nil {
		t.Fatal(err)
	}
	recs, err := f.counts.ReadRecords()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s@%d", r.Key, r.Timestamp))
	}
	want := []string{"a@1000", "a@1001", "b@1001", "c@5", "d@1002"}
	if !slices.Equal(got, want) {
		t.Errorf("timestamps %v, want %v", got, want)
	}
	for _, r := range f.d.ReadRaw(f.d.TopicName(topicChangelog)) {
		if r.Timestamp < 5 {
			t.Errorf("changelog record %q has timestamp %d", r.Key, r.Timestamp)
		}
	}
	if f.d.Now() != 1003 {
		t.Errorf("Now() = %d, want 1003", f.d.Now())
	}
}

func TestNilKeyGoesToPartitionZero(t *testing.T) {
	f := newFixture(t, 4)
	var seen []int32
	for _, key := range [][]byte{nil, []byte("s1"), []byte("s2"), []byte("s3")} {
		if err := f.d.PipeRaw("words", key, []byte("w")); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, f.d.ReadRaw(appID + "-word-repartition")[0].Partition)
	}
	// Only the input record's partition depends on the key; check it through errors.
	err := f.d.PipeRaw("words", nil, []byte("boom"))
	var re *runtime.RecordError
	if !errors.As(err, &re) || re.Partition != 0 {
		t.Errorf("nil-key record failed as %v, want partition 0", err)
	}
	want := runtime.Partition([]byte("w"), 4)
	for _, p := range seen {
		if p != want {
			t.Errorf("repartitioned w on %d, want %d", p, want)
		}
	}
}

func TestEmitToUndeclaredSinkFails(t *testing.T) {
	p := wordCount(new([]string), 1)
	p.SubTopologies[0].Sinks = nil // a generator bug: the sink is missing
	d := streamstest.NewDriver(p)
	err := d.PipeRaw("words", nil, []byte("a"))
	if err == nil || !strings.Contains(err.Error(), "not among its sinks") {
		t.Errorf("emit to undeclared sink: %v", err)
	}
}

func TestClose(t *testing.T) {
	f := newFixture(t, 1)
	if err := f.words.Pipe("s", "a"); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.words.Pipe("s", "a"); err == nil {
		t.Error("Pipe after Close succeeded")
	}
	if v, ok, err := f.store.Get("a"); err != nil || !ok || v != 1 {
		t.Errorf("Get(a) after Close = %d, %v, %v; want 1", v, ok, err)
	}
	if got, _ := f.counts.ReadKeyValues(); len(got) != 1 {
		t.Errorf("output after Close = %v", got)
	}
}

func TestDeterministic(t *testing.T) {
	run := func() string {
		f := &fixture{}
		d := streamstest.NewDriver(wordCount(&f.violations, 3), streamstest.WithPartitions(3))
		in := streamstest.Input(d, "words", streams.String(), streams.String())
		if err := in.PipeAll(sentences); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, topic := range []string{appID + "-word-repartition", "word-counts", appID + "-counts-changelog"} {
			for _, r := range d.ReadRaw(topic) {
				fmt.Fprintf(&b, "%s/%d/%d %q=%q\n", r.Topic, r.Partition, r.Offset, r.Key, r.Value)
			}
		}
		return b.String()
	}
	first := run()
	for range 5 {
		if again := run(); again != first {
			t.Fatalf("runs differ:\n%s\n---\n%s", first, again)
		}
	}
}
