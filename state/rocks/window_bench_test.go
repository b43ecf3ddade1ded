package rocks

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/linxGnu/grocksdb"

	"github.com/gofka/streams/state"
)

// BenchmarkWindowExpiry measures insert/expire churn of a window store on real
// RocksDB, per record: 10,000 keys, tumbling windows of 100 ms, retention 200 ms
// (100 ms of grace), one record per key per 50 ms of stream time (2 per window),
// a commit (Flush) every 10,000 records and Expire at every record; segments of
// 100 ms, so a segment expires every 20,000 records. After the churn it reads every key's live
// windows once (read-ms: what the removals left behind costs reads) and reports
// the SST bytes left. The ways of removing expired windows:
//
//   - segments/range-tombstone: the store's layout (segment first), one
//     DeleteRange per expired segment: what Store.DeleteRange does.
//   - segments/sst-files+tombstone: RocksDB's DeleteFilesInRange first (drops
//     the SST files wholly inside the range), then the range tombstone.
//   - segments/point-deletes: the same layout, each expired window deleted by
//     key (scan the segment, Delete each).
//   - key-first/range-per-key: no segments, keys laid out key | start (one scan
//     per key and range without segment hops); expiry is a range delete per key.
func BenchmarkWindowExpiry(b *testing.B) {
	modes := []struct {
		name string
		del  func(s *Store, from, to []byte) error
	}{
		{"segments/range-tombstone", (*Store).DeleteRange},
		{"segments/sst-files+tombstone", deleteFilesThenRange},
		{"segments/point-deletes", deletePoints},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			s := benchStore(b)
			w := state.NewWindowStore(deleter{s, m.del}, benchEncode, benchDecode,
				state.WindowSpec{Size: winSize, Retention: 2 * winSize, SegmentInterval: winSize}, 40_000)
			keys := benchKeys()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ts := int64(i / recordsPerMs)
				sl, err := w.Slot(keys[i%len(keys)], ts-ts%winSize)
				if err != nil {
					b.Fatal(err)
				}
				v, _ := sl.Value()
				w.Set(sl, v+1, ts)
				if err := w.Expire(ts); err != nil {
					b.Fatal(err)
				}
				if i%10_000 == 9_999 {
					if err := w.Flush(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			readAll(b, s, keys, func(k []byte) int {
				n := 0
				if err := w.Fetch(k, 0, 1<<62, func(int64, int64, int64) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
				return n
			})
		})
	}
	b.Run("key-first/range-per-key", func(b *testing.B) {
		s := benchStore(b)
		keys := benchKeys()
		counts := make(map[int64][]int64) // window start → count per key (the cache's part)
		touched := map[int64]bool{}       // windows changed since the last flush
		var kbuf, vbuf []byte
		firstLive := int64(0)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ts := int64(i / recordsPerMs)
			start := ts - ts%winSize
			if counts[start] == nil {
				counts[start] = make([]int64, len(keys))
			}
			counts[start][i%len(keys)]++
			touched[start] = true
			if i%10_000 == 9_999 {
				for start := range touched {
					for k, n := range counts[start] {
						kbuf = binary.BigEndian.AppendUint64(append(kbuf[:0], keys[k]...), uint64(start))
						vbuf = binary.BigEndian.AppendUint64(vbuf[:0], uint64(n))
						if err := s.Put(kbuf, vbuf); err != nil {
							b.Fatal(err)
						}
					}
				}
				clear(touched)
				for start := range counts {
					if start < ts-2*winSize+1 {
						delete(counts, start)
					}
				}
			}
			if live := (ts - 2*winSize + 1) / winSize * winSize; live > firstLive {
				for _, k := range keys { // what expired: every key's windows before live
					from := append([]byte(nil), k...)
					to := binary.BigEndian.AppendUint64(append([]byte(nil), k...), uint64(live))
					if err := s.DeleteRange(from, to); err != nil {
						b.Fatal(err)
					}
				}
				firstLive = live
			}
		}
		b.StopTimer()
		readAll(b, s, keys, func(k []byte) int {
			n := 0
			from := binary.BigEndian.AppendUint64(append([]byte(nil), k...), uint64(firstLive))
			to := binary.BigEndian.AppendUint64(append([]byte(nil), k...), 1<<62)
			if err := s.Scan(from, to, func(_, _ []byte) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			return n
		})
	})
}

const (
	winSize      = 100 // ms
	recordsPerMs = 200 // 10,000 keys each every 50 ms
)

func benchStore(b *testing.B) *Store {
	db := open(b, b.TempDir(), Memory{BlockCache: 32 << 20, WriteBuffers: 16 << 20})
	return store(b, db, "windows", 0)
}

// benchKeys are 10,000 keys, all of the same length (so no key is another's prefix).
func benchKeys() [][]byte {
	keys := make([][]byte, 10_000)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user-%05d", i)
	}
	return keys
}

func benchEncode(dst []byte, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, uint64(v)), nil
}

func benchDecode(b []byte) (int64, error) { return int64(binary.BigEndian.Uint64(b)), nil }

// readAll reads every key's live windows with read, reporting the time it took,
// the windows read per key, and the SST bytes on disk after a flush.
func readAll(b *testing.B, s *Store, keys [][]byte, read func(k []byte) int) {
	start := time.Now()
	n := 0
	for _, k := range keys {
		n += read(k)
	}
	b.ReportMetric(time.Since(start).Seconds()*1e3, "read-ms")
	b.ReportMetric(float64(n)/float64(len(keys)), "windows/key")
	if err := s.db.Flush(); err != nil {
		b.Fatal(err)
	}
	sp := s.StorePartition()
	sst, _ := s.db.IntProperty("rocksdb.total-sst-files-size", &sp)
	b.ReportMetric(float64(sst), "sst-bytes")
}

// deleter is a Store whose DeleteRange is one of the benchmark's ways.
type deleter struct {
	*Store
	del func(s *Store, from, to []byte) error
}

func (d deleter) DeleteRange(from, to []byte) error { return d.del(d.Store, from, to) }

// deleteFilesThenRange drops the SST files wholly inside [from, to] before the
// range tombstone. (RocksDB's range is inclusive of to; no window key equals a
// bare segment prefix, so nothing at to is lost here.)
func deleteFilesThenRange(s *Store, from, to []byte) error {
	if err := s.db.rdb.DeleteFileInRangeCF(s.f.handle, grocksdb.Range{Start: from, Limit: to}); err != nil {
		return err
	}
	return s.DeleteRange(from, to)
}

// deletePoints deletes every key of [from, to) one by one.
func deletePoints(s *Store, from, to []byte) error {
	var doomed [][]byte
	if err := s.Scan(from, to, func(k, _ []byte) error {
		doomed = append(doomed, append([]byte(nil), k...))
		return nil
	}); err != nil {
		return err
	}
	for _, k := range doomed {
		if err := s.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkSessionMerge is a session-windowed count on real RocksDB, per
// record: 10,000 keys, each with a record every 50 ms of stream time, an
// inactivity gap of 100 ms (so every record extends its key's session: find,
// remove, put the merge) and a grace of 100 ms, a commit every 10,000 records
// and Expire at every record.
func BenchmarkSessionMerge(b *testing.B) {
	s := benchStore(b)
	const gap = 100
	ss := state.NewSessionStore(s, benchEncode, benchDecode, state.SessionSpec{Retention: 2 * gap}, 40_000)
	keys := benchKeys()
	type found struct{ start, end, n int64 }
	var sessions []found
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ts := int64(i / recordsPerMs)
		k := keys[i%len(keys)]
		sessions = sessions[:0]
		if err := ss.FindSessions(k, ts-gap, ts+gap, func(start, end, n, _ int64) error {
			sessions = append(sessions, found{start, end, n})
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		merged := found{ts, ts, 1}
		for _, f := range sessions {
			if err := ss.Remove(k, f.start, f.end); err != nil {
				b.Fatal(err)
			}
			merged = found{min(merged.start, f.start), max(merged.end, f.end), merged.n + f.n}
		}
		if err := ss.Put(k, merged.start, merged.end, merged.n, ts); err != nil {
			b.Fatal(err)
		}
		if err := ss.Expire(ts); err != nil {
			b.Fatal(err)
		}
		if i%10_000 == 9_999 {
			if err := ss.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
