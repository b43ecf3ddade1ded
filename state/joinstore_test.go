package state_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gofka/streams/state"
	"github.com/gofka/streams/state/rocks"
)

// jrec is one record of a join store: its key, time and value.
type jrec struct {
	key string
	ts  int64
	v   int64
}

func fetchJoin(t testing.TB, s *state.JoinStore[int64], key string, from, to int64) []jrec {
	t.Helper()
	var out []jrec
	n, err := s.Fetch([]byte(key), from, to)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		ts, v := s.At(i)
		out = append(out, jrec{key, ts, v})
	}
	return out
}

// TestJoinStoreAgainstModel puts random records (duplicates of a key and time
// included, some older than the retention), fetches random ranges and expires
// as stream time moves, with a cache of 3 records so that most reads go to the
// backend, and compares every fetch with a plain list: the records of the key
// with from <= time <= to and time >= streamTime - retention + 1, by time then
// in the order they were put.
func TestJoinStoreAgainstModel(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		const retention = 50
		s := state.NewJoinStore(newBackend(), encodeInt, decodeInt, state.JoinSpec{Retention: retention, SegmentInterval: 20}, 3)
		rng := rand.New(rand.NewPCG(1, 2))
		keys := []string{"a", "aa", "b"} // "a" is a prefix of "aa"
		var model []jrec
		streamTime := int64(0)
		fetches := 0
		for i := range 3000 {
			streamTime += rng.Int64N(3)
			if err := s.Expire(streamTime); err != nil {
				t.Fatal(err)
			}
			minTime := streamTime - retention + 1
			r := jrec{keys[rng.IntN(len(keys))], streamTime - rng.Int64N(60), int64(i)}
			if err := s.Put([]byte(r.key), r.ts, r.v); err != nil {
				t.Fatal(err)
			}
			if r.ts >= minTime {
				model = append(model, r)
			}
			if i%7 == 0 {
				if err := s.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			key := keys[rng.IntN(len(keys))]
			from := streamTime - rng.Int64N(70)
			to := from + rng.Int64N(40)
			var want []jrec
			for _, m := range model {
				if m.key == key && m.ts >= from && m.ts <= to && m.ts >= minTime {
					want = append(want, m)
				}
			}
			slices.SortStableFunc(want, func(a, b jrec) int { return int(a.ts - b.ts) })
			got := fetchJoin(t, s, key, from, to)
			if !slices.Equal(got, want) {
				t.Fatalf("record %d: Fetch(%s, %d, %d) at stream time %d = %v, want %v", i, key, from, to, streamTime, got, want)
			}
			fetches += len(want)
		}
		if fetches < 1000 {
			t.Fatalf("fetches returned %d records in all: the test proves little", fetches)
		}
	})
}

// oentry is one record an OuterJoinStore emits.
type oentry struct {
	ts         int64
	left       bool
	key, value string
}

func emitClosed(t testing.TB, o *state.OuterJoinStore, streamTime, leftLook, rightLook int64) []oentry {
	t.Helper()
	var out []oentry
	if err := o.EmitClosed(streamTime, leftLook, rightLook, func(ts int64, left bool, key, value []byte) error {
		out = append(out, oentry{ts, left, string(key), string(value)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOuterJoinStoreAgainstModel puts, removes and emits random non-matches
// and compares each EmitClosed with a plain list: in order of time, then side
// (right before left, as Kafka Streams' store), then key, then put order, the
// entries closed by stream time (time + look-back < stream time), until both
// sides have one still open (the look-backs differ, so a right entry closes
// before an earlier left one).
func TestOuterJoinStoreAgainstModel(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		o := state.NewOuterJoinStore(newBackend())
		const leftLook, rightLook = 10, 4
		rng := rand.New(rand.NewPCG(3, 4))
		keys := []string{"a", "aa", "b"}
		type mentry struct {
			oentry
			seq int
		}
		var model []mentry
		streamTime := int64(0)
		emitted := 0
		for i := range 3000 {
			streamTime += rng.Int64N(2)
			e := oentry{streamTime - rng.Int64N(8), rng.IntN(2) == 0, keys[rng.IntN(len(keys))], fmt.Sprint(i)}
			switch rng.IntN(4) {
			case 0: // a record of the other side joined these
				if err := o.Remove(e.ts, e.left, []byte(e.key)); err != nil {
					t.Fatal(err)
				}
				model = slices.DeleteFunc(model, func(m mentry) bool { return m.ts == e.ts && m.left == e.left && m.key == e.key })
			default:
				if err := o.Put(e.ts, e.left, []byte(e.key), []byte(e.value)); err != nil {
					t.Fatal(err)
				}
				model = append(model, mentry{e, i})
			}
			slices.SortStableFunc(model, func(a, b mentry) int {
				switch {
				case a.ts != b.ts:
					return int(a.ts - b.ts)
				case a.left != b.left:
					if b.left {
						return -1
					}
					return 1
				case a.key != b.key:
					if a.key < b.key {
						return -1
					}
					return 1
				}
				return a.seq - b.seq
			})
			// Kafka Streams 3.9's loop: an open record marks its side open
			// (so are its side's later ones), the other side's closed records
			// after it are still emitted, until both sides are open.
			var want []oentry
			var kept []mentry
			leftOpen, rightOpen := false, false
			for i, m := range model {
				if leftOpen && rightOpen {
					kept = append(kept, model[i:]...)
					break
				}
				look := int64(rightLook)
				if m.left {
					look = leftLook
				}
				if m.ts+look >= streamTime {
					leftOpen, rightOpen = leftOpen || m.left, rightOpen || !m.left
					kept = append(kept, m)
					continue
				}
				want = append(want, m.oentry)
			}
			model = kept
			got := emitClosed(t, o, streamTime, leftLook, rightLook)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d at stream time %d: emitted %v, want %v", i, streamTime, got, want)
			}
			emitted += len(got)
		}
		if emitted < 500 {
			t.Fatalf("only %d entries emitted: the test proves little", emitted)
		}
	})
}

// TestJoinStoresRestoreFromSnapshotAndChangelog fills a join store and an
// outer join store in a real RocksDB instance through changelog-logging
// backends, then restores both as the runtime does, from a RocksDB checkpoint
// and by replaying the changelogs into an empty instance: the two restores
// give the same records as the original.
func TestJoinStoresRestoreFromSnapshotAndChangelog(t *testing.T) {
	pool, err := rocks.OpenPool(t.TempDir(), rocks.Memory{BlockCache: 8 << 20, WriteBuffers: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db, err := pool.Open("0_0")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rawJoin, err := db.Store("this", 0)
	if err != nil {
		t.Fatal(err)
	}
	rawOuter, err := db.Store("outer", 1)
	if err != nil {
		t.Fatal(err)
	}
	var joinLog, outerLog []change
	spec := state.JoinSpec{Retention: 120, SegmentInterval: 40}
	js := state.NewJoinStore(&state.Logged{Backend: rawJoin, Log: func(k, v []byte) { joinLog = append(joinLog, newChange(k, v)) }}, encodeInt, decodeInt, spec, 16)
	ob := state.NewOuterJoinStore(&state.Logged{Backend: rawOuter, Log: func(k, v []byte) { outerLog = append(outerLog, newChange(k, v)) }})
	rng := rand.New(rand.NewPCG(7, 8))
	keys := []string{"alice", "bob", "carol"}
	streamTime := int64(0)
	for i := range 2000 {
		streamTime += rng.Int64N(2)
		key := keys[rng.IntN(len(keys))]
		ts := streamTime - rng.Int64N(30)
		if err := js.Expire(streamTime); err != nil {
			t.Fatal(err)
		}
		if err := js.Put([]byte(key), ts, int64(i)); err != nil {
			t.Fatal(err)
		}
		if err := ob.Put(ts, i%2 == 0, []byte(key), fmt.Appendf(nil, "v%d", i)); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := ob.Remove(ts, i%2 == 0, []byte(key)); err != nil {
				t.Fatal(err)
			}
		}
		emitClosed(t, ob, streamTime, 60, 20) // what closes leaves the store
		if i%50 == 0 {
			if err := js.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := js.Flush(); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(pool.StagingDir(), "cp")
	if _, err := db.Checkpoint(cp); err != nil {
		t.Fatal(err)
	}
	joinAtSnapshot, outerAtSnapshot := slices.Clone(joinLog), slices.Clone(outerLog) // the changelogs as the snapshot saw them
	wantJoin := map[string][]jrec{}
	for _, k := range keys {
		wantJoin[k] = fetchJoin(t, js, k, -1<<62, 1<<62)
		if len(wantJoin[k]) == 0 {
			t.Fatalf("key %s has no live records: the test proves nothing", k)
		}
	}
	wantOuter := emitClosed(t, ob, 1<<40, 0, 0) // everything, in order (after the snapshot: it removes them)
	if len(wantOuter) == 0 {
		t.Fatal("the outer store is empty: the test proves nothing")
	}

	pool2, err := rocks.OpenPool(t.TempDir(), rocks.Memory{BlockCache: 8 << 20, WriteBuffers: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer pool2.Close()
	staged := filepath.Join(pool2.StagingDir(), "cp")
	copyTree(t, cp, staged)
	if err := pool2.Install("0_0", staged); err != nil {
		t.Fatal(err)
	}
	db2, err := pool2.Open("0_0")
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	db3, err := pool2.Open("0_1")
	if err != nil {
		t.Fatal(err)
	}
	defer db3.Close()
	open := func(db *rocks.DB, name string, partition int32) state.OrderedBackend {
		s, err := db.Store(name, partition)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	snapJoin, snapOuter := open(db2, "this", 0), open(db2, "outer", 1)
	logJoin, logOuter := open(db3, "this", 0), open(db3, "outer", 1)
	replay(t, logJoin, joinAtSnapshot)
	replay(t, logOuter, outerAtSnapshot)
	for name, b := range map[string][2]state.OrderedBackend{"snapshot": {snapJoin, snapOuter}, "changelog": {logJoin, logOuter}} {
		r := state.NewJoinStore(b[0], encodeInt, decodeInt, spec, 16)
		if err := r.Expire(streamTime); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if got := fetchJoin(t, r, k, -1<<62, 1<<62); !slices.Equal(got, wantJoin[k]) {
				t.Errorf("join store restored from %s: %s has %v, want %v", name, k, got, wantJoin[k])
			}
		}
		if got := emitClosed(t, state.NewOuterJoinStore(b[1]), 1<<40, 0, 0); !slices.Equal(got, wantOuter) {
			t.Errorf("outer join store restored from %s: %v, want %v", name, got, wantOuter)
		}
	}
}
