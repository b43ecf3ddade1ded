package runtime_test

import (
	"testing"
	"time"

	streams "github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// TestKeyValueStoreRange: Range sees the cached writes (it flushes them first),
// in key order, refuses writes inside it, and the store is usable after.
func TestKeyValueStoreRange(t *testing.T) {
	b := state.NewMemoryBackend()
	s := runtime.NewProcessorStore[string, int64](b, streams.String().Encode, streams.String().Decode,
		streams.Int64().Encode, streams.Int64().Decode, 0)
	for k, v := range map[string]int64{"b": 2, "a": 1, "c": 3} {
		if err := s.Put(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete("c"); err != nil {
		t.Fatal(err)
	}
	var keys []string
	err := s.Range(func(k string, v int64) error {
		keys = append(keys, k)
		if err := s.Put("z", 9); err == nil {
			t.Error("Put inside Range was accepted")
		}
		return nil
	})
	if err != nil || len(keys) != 2 || keys[0] != "a" || keys[1] != "b" {
		t.Fatalf("Range saw %v (%v), want [a b]", keys, err)
	}
	if b.Len() != 2 {
		t.Errorf("backend holds %d entries after Range, want the 2 flushed", b.Len())
	}
	if err := s.Put("z", 9); err != nil {
		t.Errorf("Put after Range: %v", err)
	}
}

// TestProcessorContextTimers: a context without timers, or without a current
// key, refuses to register one; with both, the timer lands in the Timers.
func TestProcessorContextTimers(t *testing.T) {
	none := runtime.NewProcessorContext[string, string](nil)
	none.BeginRecord(5, 5, []byte("k"))
	if err := none.RegisterEventTimeTimer(time.UnixMilli(10)); err == nil {
		t.Error("a processor without OnTimer registered a timer")
	}
	tm := runtime.NewTimers(state.NewMemoryBackend())
	if err := tm.Load(); err != nil {
		t.Fatal(err)
	}
	ctx := runtime.NewProcessorContext[string, string](tm)
	ctx.Begin(5, 5, nil) // a punctuator
	if err := ctx.RegisterEventTimeTimer(time.UnixMilli(10)); err == nil {
		t.Error("a punctuator registered a timer with no key")
	}
	ctx.BeginRecord(5, 5, nil) // a record with a null key
	if err := ctx.RegisterProcessingTimeTimer(time.UnixMilli(10)); err != nil {
		t.Fatal(err)
	}
	if key, ts, ok := tm.PopDue(runtime.ProcessingTime, 10); !ok || ts != 10 || len(key) != 0 {
		t.Errorf("PopDue = %q, %d, %v; want the null key's timer at 10", key, ts, ok)
	}
	ctx.Forward("a", "x")
	ctx.ForwardAt("b", "y", time.UnixMilli(7))
	if fw := ctx.Forwarded(); len(fw) != 2 || fw[0].Timestamp != 5 || fw[1].Timestamp != 7 {
		t.Errorf("Forwarded = %+v, want a at 5 and b at 7", fw)
	}
}
