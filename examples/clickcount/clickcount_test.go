package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

// clicks makes n deterministic clicks over a few users, a tenth of them bots.
func clicks(n int) []Click {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]Click, n)
	for i := range out {
		out[i] = Click{User: fmt.Sprintf("user-%d", rng.IntN(50)), URL: fmt.Sprintf("/page/%d", rng.IntN(20)), Bot: rng.IntN(10) == 0}
	}
	return out
}

// TestClickCount runs the generated topology in the test driver, on 4 partitions,
// and checks every count against one computed here.
func TestClickCount(t *testing.T) {
	d := streamstest.NewDriver(CompiledClickCount(), streamstest.WithPartitions(4))
	in := streamstest.Input(d, "user-clicks", streams.String(), streams.JSON[Click]())
	out := streamstest.Output(d, "user-click-counts", streams.String(), streams.Int64())

	want := map[string]int64{}
	for i, c := range clicks(5000) {
		if err := in.Pipe(fmt.Sprintf("click-%d", i), c); err != nil {
			t.Fatal(err)
		}
		if !c.Bot {
			want[c.User]++
		}
	}

	// Every real click produced one update, carrying the running count.
	updates, err := out.ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]int64{}
	seen := map[string]int64{}
	for _, kv := range updates {
		seen[kv.Key]++
		if kv.Value != seen[kv.Key] {
			t.Fatalf("update %d for %s carries count %d", seen[kv.Key], kv.Key, kv.Value)
		}
		last[kv.Key] = kv.Value
	}
	stored, err := streamstest.Store(d, "click-counts", streams.String(), streams.Int64()).All()
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(want) || len(last) != len(want) {
		t.Fatalf("%d users stored, %d in output, want %d", len(stored), len(last), len(want))
	}
	for _, kv := range stored {
		if kv.Value != want[kv.Key] || last[kv.Key] != want[kv.Key] {
			t.Errorf("%s: stored %d, last output %d, want %d", kv.Key, kv.Value, last[kv.Key], want[kv.Key])
		}
	}
}

// TestBadRecordNamesItsCoordinates: a value that is not JSON stops processing with
// an error naming topic, partition and offset.
func TestBadRecordNamesItsCoordinates(t *testing.T) {
	d := streamstest.NewDriver(CompiledClickCount())
	if err := d.PipeRaw("user-clicks", []byte("c1"), []byte(`{"user":"ann"}`)); err != nil {
		t.Fatal(err)
	}
	err := d.PipeRaw("user-clicks", []byte("c2"), []byte(`not json`))
	if err == nil || !strings.HasPrefix(err.Error(), "topic user-clicks partition 0 offset 1: decode value: ") {
		t.Fatalf("err = %v", err)
	}
}
