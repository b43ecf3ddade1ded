package main

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

// TestCountsPerUser is the example in the package doc of streamstest, whose
// TestPackageDocExample keeps the two the same: change them together.
func TestCountsPerUser(t *testing.T) {
	d := streamstest.NewDriver(CompiledClickCount(), streamstest.WithPartitions(4))
	defer d.Close()
	clicks := streamstest.Input(d, "user-clicks", streams.String(), streams.JSON[Click]())
	counts := streamstest.Output(d, "user-click-counts", streams.String(), streams.Int64())

	for i, c := range []Click{{User: "ann"}, {User: "bob"}, {User: "crawler", Bot: true}, {User: "ann"}} {
		if err := clicks.Pipe(fmt.Sprintf("click-%d", i), c); err != nil {
			t.Fatal(err)
		}
	}

	got, err := counts.ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	want := []streams.KeyValue[string, int64]{{Key: "ann", Value: 1}, {Key: "bob", Value: 1}, {Key: "ann", Value: 2}}
	if !slices.Equal(got, want) {
		t.Errorf("counts = %v, want %v", got, want)
	}

	store := streamstest.Store(d, "click-counts", streams.String(), streams.Int64())
	if n, ok, err := store.Get("ann"); err != nil || !ok || n != 2 {
		t.Errorf("store[ann] = %d, %v, %v; want 2", n, ok, err)
	}
}
