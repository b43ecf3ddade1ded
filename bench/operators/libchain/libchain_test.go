package libchain_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gofka/streams/bench/operators/libchain"
	"github.com/gofka/streams/runtime"
)

// collector is a Producer that keeps copies of what it is given.
type collector struct{ got []string }

func (c *collector) Emit(topic, key string, value []byte) error {
	c.got = append(c.got, fmt.Sprintf("%s %s=%s", topic, key, value))
	return nil
}

// meta is a processor that forwards each record with the input record's
// coordinates, as the Context reports them, in its value.
type meta struct{ ctx libchain.Context }

func (p *meta) Init(ctx libchain.Context) error { p.ctx = ctx; return nil }

func (p *meta) Process(rec libchain.Record) error {
	rec.Value = fmt.Appendf(nil, "%s/%d/%d", p.ctx.Topic(), p.ctx.Partition(), p.ctx.Offset())
	return p.ctx.Forward(rec)
}

func records(topic string, values ...string) []runtime.Record {
	rs := make([]runtime.Record, len(values))
	for i, v := range values {
		key, value, _ := strings.Cut(v, "=")
		rs[i] = runtime.Record{Topic: topic, Partition: 3, Offset: int64(10 + i), Key: []byte(key), Value: []byte(value)}
	}
	return rs
}

func must(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestTaskRunsGraph runs records through filter and map into a fan-out of a sink,
// an aggregate and a processor reading the Context, and checks every output.
func TestTaskRunsGraph(t *testing.T) {
	storage := libchain.NewMemoryStorage()
	codec := libchain.Bytes{}
	top := libchain.NewTopology()
	must(t,
		top.AddStateStore("lengths", func() libchain.KeyValueStore { return libchain.NewCodecStore(storage, codec) }),
		top.AddSource("src", "in", codec),
		top.AddProcessor("filter", libchain.Filter(func(_ string, v any) (bool, error) {
			return !bytes.Equal(v.([]byte), []byte("drop")), nil
		}), "src"),
		top.AddProcessor("map", libchain.Map(func(k string, v any) (string, any, error) {
			return strings.ToUpper(k), v, nil
		}), "filter"),
		top.AddSink("copy", "copies", codec, "map"),
		top.AddProcessor("sum", libchain.Aggregate("lengths",
			func() any { return []byte{} },
			func(_ string, v, agg any) (any, error) { return append(agg.([]byte), v.([]byte)...), nil }), "map"),
		top.AddSink("sums", "sums", codec, "sum"),
		top.AddProcessor("meta", func() libchain.Processor { return &meta{} }, "map"),
		top.AddSink("metas", "metas", codec, "meta"),
	)
	out := &collector{}
	task, err := top.NewTask(3, out)
	must(t, err)
	must(t, task.Process(records("in", "a=x", "b=drop", "a=y", "c=z")))

	want := []string{
		"copies A=x", "sums A=x", "metas A=in/3/10",
		"copies A=y", "sums A=xy", "metas A=in/3/12",
		"copies C=z", "sums C=z", "metas C=in/3/13",
	}
	if got := strings.Join(out.got, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("emitted:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	store, err := task.Store("lengths")
	must(t, err)
	for key, want := range map[string]string{"A": "xy", "C": "z", "B": "", "a": ""} {
		got, err := store.Get(key)
		must(t, err)
		b, _ := got.([]byte)
		if want == "" && got != nil || want != "" && string(b) != want {
			t.Errorf("store lengths, key %s: %v, want %q", key, got, want)
		}
	}
}

// errCodec fails to decode anything.
type errCodec struct{ libchain.Bytes }

func (errCodec) Decode([]byte) (any, error) { return nil, errors.New("corrupt") }

// TestBadInputFailsTheRecord checks that a value of the wrong type, a failing
// codec and a record of an unknown topic each fail Process with an error naming
// the record and the node, instead of panicking.
func TestBadInputFailsTheRecord(t *testing.T) {
	codec := libchain.Bytes{}
	top := libchain.NewTopology()
	must(t,
		top.AddSource("src", "in", codec),
		top.AddProcessor("to-int", libchain.Map(func(k string, v any) (string, any, error) { return k, len(v.([]byte)), nil }), "src"),
		top.AddSink("out", "out", codec, "to-int"),
		top.AddSource("bad-src", "corrupt", errCodec{}),
		top.AddSink("out2", "out", codec, "bad-src"),
	)
	task, err := top.NewTask(0, &collector{})
	must(t, err)
	for _, tc := range []struct {
		topic string
		want  []string
	}{
		{"in", []string{"topic in partition 3 offset 10", "source src", "to-int: out: encode value for topic out", "cannot encode a int"}},
		{"corrupt", []string{"topic corrupt partition 3 offset 10", "source bad-src", "decode value: corrupt"}},
		{"elsewhere", []string{"topic elsewhere partition 3 offset 10", "route", "no source reads topic elsewhere"}},
	} {
		err := task.Process(records(tc.topic, "k=v"))
		var re *runtime.RecordError
		if !errors.As(err, &re) {
			t.Errorf("topic %s: error %v, want a *runtime.RecordError", tc.topic, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("topic %s: error %q does not say %q", tc.topic, err, w)
			}
		}
	}
}

// TestTopologyRejectsBadGraphs checks the wiring errors.
func TestTopologyRejectsBadGraphs(t *testing.T) {
	codec := libchain.Bytes{}
	pass := libchain.Filter(func(string, any) (bool, error) { return true, nil })
	top := libchain.NewTopology()
	must(t, top.AddSource("src", "in", codec), top.AddSink("sink", "out", codec, "src"))
	for name, err := range map[string]error{
		"node src added twice":          top.AddSource("src", "other", codec),
		"topic in already has a source": top.AddSource("src2", "in", codec),
		"parent nope not added yet":     top.AddProcessor("p", pass, "nope"),
		"parent sink is a sink":         top.AddProcessor("p", pass, "sink"),
		"node p has no parent":          top.AddProcessor("p", pass),
		"source s: no codec":            top.AddSource("s", "t", nil),
		"a node needs a name":           top.AddProcessor("", pass, "src"),
		"processor q: no supplier":      top.AddProcessor("q", nil, "src"),
		"store x: no supplier":          top.AddStateStore("x", nil),
		"sink s: no codec":              top.AddSink("s", "t", nil, "src"),
	} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %q, want one saying %q", err, name)
		}
	}
	must(t, top.AddStateStore("s", func() libchain.KeyValueStore { return nil }))
	if err := top.AddStateStore("s", func() libchain.KeyValueStore { return nil }); err == nil || !strings.Contains(err.Error(), "store s added twice") {
		t.Errorf("second store s: error %v", err)
	}
	if _, err := top.NewTask(0, &collector{}); err == nil || !strings.Contains(err.Error(), "store supplier s returned nil") {
		t.Errorf("store supplier returning nil: error %v", err)
	}

	top = libchain.NewTopology()
	must(t,
		top.AddSource("src", "in", codec),
		top.AddProcessor("agg", libchain.Aggregate("missing", func() any { return nil }, nil), "src"),
	)
	if _, err := top.NewTask(0, &collector{}); err == nil || !strings.Contains(err.Error(), "init agg: no state store missing") {
		t.Errorf("aggregate over a missing store: error %v", err)
	}
	if _, err := top.NewTask(0, nil); err == nil || !strings.Contains(err.Error(), "no producer") {
		t.Errorf("no producer: error %v", err)
	}
}

// TestCodecStore checks the store's conversions and that its storage keeps
// copies of what it is given.
func TestCodecStore(t *testing.T) {
	storage := libchain.NewMemoryStorage()
	store := libchain.NewCodecStore(storage, libchain.Bytes{})
	if v, err := store.Get("k"); v != nil || err != nil {
		t.Fatalf("Get of an absent key: %v, %v; want nil, nil", v, err)
	}
	value := []byte("abc")
	must(t, store.Put("k", value))
	value[0] = 'X' // the store must not see this
	v, err := store.Get("k")
	must(t, err)
	if string(v.([]byte)) != "abc" {
		t.Errorf("Get after Put: %q, want abc", v)
	}
	must(t, store.Put("k", []byte("xyz"))) // same length: overwritten in place
	must(t, store.Put("k", []byte("longer")))
	if v, _ := store.Get("k"); string(v.([]byte)) != "longer" {
		t.Errorf("Get after two Puts: %q, want longer", v)
	}
	if err := store.Put("k", nil); err == nil || !strings.Contains(err.Error(), "nil value") {
		t.Errorf("Put of nil: error %v", err)
	}
	if err := store.Put("k", "a string"); err == nil || !strings.Contains(err.Error(), "cannot encode a string") {
		t.Errorf("Put of a string through codec Bytes: error %v", err)
	}
	n := 0
	storage.Range(func(string, []byte) { n++ })
	if n != 1 {
		t.Errorf("storage holds %d keys, want 1", n)
	}
}
