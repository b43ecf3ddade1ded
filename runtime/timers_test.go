package runtime_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

type fired struct {
	key string
	ts  int64
}

func popAll(t *testing.T, tm *runtime.Timers, d runtime.TimeDomain, now int64) []fired {
	t.Helper()
	var out []fired
	for {
		k, ts, ok := tm.PopDue(d, now)
		if !ok {
			return out
		}
		out = append(out, fired{string(k), ts})
	}
}

func equalFired(t *testing.T, got []fired, want ...fired) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fired %v, want %v", got, want)
		}
	}
}

// TestTimersFireInTimeThenKeyOrderOnce: due timers come out in time order,
// then key order; one registered twice fires once; a deleted one never; the
// two clocks are apart.
func TestTimersFireInTimeThenKeyOrderOnce(t *testing.T) {
	tm := runtime.NewTimers(state.NewMemoryBackend())
	if err := tm.Load(); err != nil {
		t.Fatal(err)
	}
	tm.Register(runtime.EventTime, 30, []byte("b"))
	tm.Register(runtime.EventTime, 10, []byte("z"))
	tm.Register(runtime.EventTime, 30, []byte("a"))
	tm.Register(runtime.EventTime, 30, []byte("a"))
	tm.Register(runtime.EventTime, 20, []byte("gone"))
	tm.Delete(runtime.EventTime, 20, []byte("gone"))
	tm.Register(runtime.ProcessingTime, 5, []byte("wall"))
	if !tm.Due(runtime.EventTime, 10) || tm.Due(runtime.EventTime, 9) {
		t.Errorf("Due around the earliest timer (10) is wrong")
	}
	equalFired(t, popAll(t, tm, runtime.EventTime, 29), fired{"z", 10})
	equalFired(t, popAll(t, tm, runtime.EventTime, 100), fired{"a", 30}, fired{"b", 30})
	equalFired(t, popAll(t, tm, runtime.EventTime, 1000))
	equalFired(t, popAll(t, tm, runtime.ProcessingTime, 5), fired{"wall", 5})
}

// TestTimersSurviveFlushAndLoad: what was flushed is what a new Timers on the
// same backend (a restarted task) fires; fired and deleted timers stay gone, and
// a punctuator keeps its next time.
func TestTimersSurviveFlushAndLoad(t *testing.T) {
	b := state.NewMemoryBackend()
	punct := runtime.Punctuation{Domain: runtime.EventTime, Interval: 100}
	tm := runtime.NewTimers(b, punct)
	if err := tm.Load(); err != nil {
		t.Fatal(err)
	}
	tm.Register(runtime.EventTime, 50, []byte("fired"))
	tm.Register(runtime.EventTime, 70, []byte("deleted"))
	tm.Register(runtime.EventTime, 500, []byte("pending"))
	tm.Register(runtime.ProcessingTime, 9, []byte("wall"))
	tm.Delete(runtime.EventTime, 70, []byte("deleted"))
	if _, ok := tm.Punctuate(0, runtime.EventTime, 42); ok { // schedules 100
		t.Fatal("a punctuator fired on its first reading of the clock")
	}
	equalFired(t, popAll(t, tm, runtime.EventTime, 60), fired{"fired", 50})
	if err := tm.Flush(); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 3 { // pending, wall, the punctuator's next time
		t.Errorf("backend holds %d entries, want 3", b.Len())
	}

	again := runtime.NewTimers(b, punct)
	if !again.Due(runtime.EventTime, -1) {
		t.Error("a Timers not loaded yet must ask to be called (and loaded)")
	}
	if err := again.Load(); err != nil {
		t.Fatal(err)
	}
	if at, ok := again.Punctuate(0, runtime.EventTime, 99); ok {
		t.Errorf("punctuated at %d before its next time 100", at)
	}
	if at, ok := again.Punctuate(0, runtime.EventTime, 350); !ok || at != 300 {
		t.Errorf("Punctuate at 350 = %d, %v; want 300 (once, the latest multiple)", at, ok)
	}
	if _, ok := again.Punctuate(0, runtime.EventTime, 399); ok {
		t.Error("punctuated twice for one multiple")
	}
	equalFired(t, popAll(t, again, runtime.EventTime, 1000), fired{"pending", 500})
	equalFired(t, popAll(t, again, runtime.ProcessingTime, 1000), fired{"wall", 9})
}

// TestTimersHeapOrdersManyTimers: many timers, some at equal times, come out
// sorted by time then key, each once.
func TestTimersHeapOrdersManyTimers(t *testing.T) {
	tm := runtime.NewTimers(state.NewMemoryBackend())
	if err := tm.Load(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[fired]bool{}
	for range 2000 {
		f := fired{fmt.Sprintf("k%d", rng.IntN(300)), rng.Int64N(500)}
		want[f] = true
		tm.Register(runtime.EventTime, f.ts, []byte(f.key))
	}
	got := popAll(t, tm, runtime.EventTime, 500)
	if len(got) != len(want) {
		t.Fatalf("fired %d timers, want %d distinct", len(got), len(want))
	}
	for i := 1; i < len(got); i++ {
		if got[i].ts < got[i-1].ts || (got[i].ts == got[i-1].ts && got[i].key <= got[i-1].key) {
			t.Fatalf("fired %v after %v", got[i], got[i-1])
		}
	}
}
