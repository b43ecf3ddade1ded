package main

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
)

// The windowed workload is examples/pageviews' input: page views keyed by the
// page, their event time the Kafka record timestamp, counted per page in
// one-minute tumbling windows with 10 s of grace.
const (
	viewWindow = int64(60_000) // ms, examples/pageviews' TumblingWindows(time.Minute)
	viewGrace  = int64(10_000) // ms, its Grace(10 * time.Second)
	viewPages  = 10_000
)

// viewsBase is the first view's event time for n views: a whole minute, so
// that every run has the same windows, about an hour and n ms before now, so
// that the closing views (an hour after the others) are about now. Brokers
// delete records by their timestamps (retention.ms, 7 days by default):
// event times long past would vanish from the topics during the benchmark.
func viewsBase(n int) int64 {
	return time.Now().Add(-time.Hour - time.Duration(n)*time.Millisecond).Truncate(time.Minute).UnixMilli()
}

// viewWorkload is the input of the windowed benchmark and the counts it must
// produce, computed here by brute force, independently of both contenders.
type viewWorkload struct {
	pages      [][]byte // each view's key
	ts         []int64  // each view's timestamp
	partitions []int32  // each view's partition
	// counts is each window's count by its windowed key (Kafka Streams'
	// time-windowed bytes: the page, then the start as 8 bytes big-endian);
	// closed holds the windows whose stream time passed end + grace, each of
	// which must have exactly one final count.
	counts     map[string]int64
	closed     map[string]bool
	late       int // views that fell in no open window (none with this input)
	outOfOrder int // views earlier than the one before them
}

// newViewWorkload makes n views of 10,000 pages, 1 ms apart in event time
// from viewsBase, 1% of them up to 9.999 s earlier (out of order, within the
// grace), and then one view per partition an hour later, so that every window
// of the n views closes and has its final count. Each view goes to its page's partition
// (runtime.Partition, as Kafka's default partitioner places keys).
func newViewWorkload(n int, partitions int32) *viewWorkload {
	rng := rand.New(rand.NewPCG(14, 10))
	w := &viewWorkload{}
	base := viewsBase(n)
	for i := range n {
		page := []byte(fmt.Sprintf("/page/%d", rng.IntN(viewPages)))
		ts := base + int64(i)
		if rng.IntN(100) == 0 {
			ts -= 1 + rng.Int64N(viewGrace-1)
		}
		w.add(page, ts, runtime.Partition(page, partitions))
	}
	closing := base + int64(n) + time.Hour.Milliseconds()
	for p := range partitions {
		w.add([]byte(fmt.Sprintf("/closing/%d", p)), closing, p)
	}
	w.bruteForce(partitions)
	return w
}

func (w *viewWorkload) add(page []byte, ts int64, p int32) {
	if k := len(w.ts); k > 0 && ts < w.ts[k-1] {
		w.outOfOrder++
	}
	w.pages, w.ts, w.partitions = append(w.pages, page), append(w.ts, ts), append(w.partitions, p)
}

// bruteForce windows the views from the definition, partition by partition
// (a task per input partition) in the order they are produced: stream time is
// the partition's largest timestamp so far, a view counts in its window unless
// stream time has reached the window's end plus the grace (then it is late),
// and a window is closed once its partition's stream time reaches its end plus
// the grace. A closed window takes no more views, so its final count is its
// count at the end.
func (w *viewWorkload) bruteForce(partitions int32) {
	w.counts, w.closed, w.late = map[string]int64{}, map[string]bool{}, 0
	streamTime := make([]int64, partitions)
	starts := map[string]int64{}
	part := map[string]int32{}
	for p := range streamTime {
		streamTime[p] = -1
	}
	for i, ts := range w.ts {
		p := w.partitions[i]
		streamTime[p] = max(streamTime[p], ts)
		start := ts - ts%viewWindow
		if start+viewWindow+viewGrace <= streamTime[p] {
			w.late++
			continue
		}
		k := windowedKey(w.pages[i], start)
		w.counts[k]++
		starts[k], part[k] = start, p
	}
	for k, start := range starts {
		if start+viewWindow+viewGrace <= streamTime[part[k]] {
			w.closed[k] = true
		}
	}
}

// windowedKey is Kafka Streams' time-windowed serde's bytes (and gofka's
// streams.Windowed[string]'s) for page's window starting at start.
func windowedKey(page []byte, start int64) string {
	return string(binary.BigEndian.AppendUint64(append([]byte(nil), page...), uint64(start)))
}

// views is the number of input records.
func (w *viewWorkload) views() int { return len(w.ts) }

// updates is the number of count updates: one per counted view.
func (w *viewWorkload) updates() int { return w.views() - w.late }

// load produces every view to its partition of topic, with its event time as
// the record's timestamp.
func (w *viewWorkload) load(ctx context.Context, addr, topic string) error {
	return produceAll(ctx, addr, topic, w.views(), func(i int) *kgo.Record {
		return &kgo.Record{Key: w.pages[i], Value: []byte{}, Partition: w.partitions[i], Timestamp: time.UnixMilli(w.ts[i])}
	}, kgo.RecordPartitioner(kgo.ManualPartitioner()))
}

// verify reads a contender's updates and final counts back and checks them:
// every window's updates must be exactly 1..its count (every update, each
// once), and every closed window must have exactly one final count, its count,
// and no other window any. It returns the number of output records.
func (w *viewWorkload) verify(ctx context.Context, addr, updates, finals string) (int, error) {
	seen, records, err := readCounts(ctx, addr, updates)
	if err != nil {
		return records, err
	}
	var problems []string
	report := func(format string, args ...any) {
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	for k, counts := range seen {
		slices.Sort(counts)
		ok := int64(len(counts)) == w.counts[k]
		for i, c := range counts {
			ok = ok && c == int64(i+1)
		}
		if !ok {
			report("updates of window %s: %d counts %v, want 1..%d", describeWindow(k), len(counts), headTail(counts), w.counts[k])
		}
	}
	for k, want := range w.counts {
		if _, ok := seen[k]; !ok {
			report("window %s: no update, want 1..%d", describeWindow(k), want)
		}
	}
	if records != w.updates() {
		report("%s holds %d updates, want one per counted view, %d", updates, records, w.updates())
	}
	got, finalRecords, err := readCounts(ctx, addr, finals)
	records += finalRecords
	if err != nil {
		return records, err
	}
	for k, counts := range got {
		if !w.closed[k] || len(counts) != 1 || counts[0] != w.counts[k] {
			report("final counts of window %s: %v, want [%d] (closed: %t)", describeWindow(k), counts, w.counts[k], w.closed[k])
		}
	}
	for k := range w.closed {
		if _, ok := got[k]; !ok {
			report("window %s: no final count, want %d", describeWindow(k), w.counts[k])
		}
	}
	if len(problems) > 0 {
		return records, fmt.Errorf("output wrong: %s", strings.Join(problems, "; "))
	}
	return records, nil
}

// readCounts reads topic's counts by windowed key, and its number of records;
// a value that is no count fails it.
func readCounts(ctx context.Context, addr, topic string) (map[string][]int64, int, error) {
	seen := map[string][]int64{}
	records := 0
	var bad error
	err := readTopic(ctx, addr, topic, false, func(r *kgo.Record) {
		records++
		n, err := decodeCount(r.Value)
		if err != nil && bad == nil {
			bad = fmt.Errorf("%s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		seen[string(r.Key)] = append(seen[string(r.Key)], n)
	})
	return seen, records, cmp.Or(err, bad)
}

// describeWindow shows a windowed key as page@start.
func describeWindow(k string) string {
	if len(k) < 8 {
		return fmt.Sprintf("%q (not a windowed key)", k)
	}
	start := int64(binary.BigEndian.Uint64([]byte(k[len(k)-8:])))
	return fmt.Sprintf("%s@%s", k[:len(k)-8], time.UnixMilli(start).UTC().Format(time.TimeOnly))
}

// headTail shortens a long list of counts for a message.
func headTail(counts []int64) []int64 {
	if len(counts) <= 8 {
		return counts
	}
	return append(append([]int64{}, counts[:4]...), counts[len(counts)-4:]...)
}
