package seedform

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

// TestSeedClickCount runs the seed's topology, as written in the seed document, and
// checks the counts against ones computed here.
func TestSeedClickCount(t *testing.T) {
	d := streamstest.NewDriver(CompiledClickCount(), streamstest.WithPartitions(3))
	in := streamstest.Input(d, "user-clicks", streams.Bytes(), streams.Bytes())
	rng := rand.New(rand.NewPCG(3, 4))
	want := map[string]uint64{}
	for i := 0; i < 3000; i++ {
		user := fmt.Sprintf("u%d", rng.IntN(40))
		if rng.IntN(8) == 0 {
			user = "bot:" + user
		} else {
			want[user]++
		}
		if err := in.Pipe(nil, []byte(user+",/p")); err != nil {
			t.Fatal(err)
		}
	}
	// The topology keys by []byte; the driver rejects a string serde for them.
	stored, err := streamstest.Store(d, "click-counts", streams.Bytes(), streams.Bytes()).All()
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(want) {
		t.Fatalf("%d users stored, want %d", len(stored), len(want))
	}
	for _, kv := range stored {
		if got := binary.BigEndian.Uint64(kv.Value); got != want[string(kv.Key)] {
			t.Errorf("%s: %d, want %d", kv.Key, got, want[string(kv.Key)])
		}
	}
	out, err := streamstest.Output(d, "user-click-counts", streams.Bytes(), streams.Bytes()).ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, n := range want {
		total += n
	}
	if uint64(len(out)) != total {
		t.Fatalf("%d updates, want one per real click (%d)", len(out), total)
	}
}
