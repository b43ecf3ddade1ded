package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// workload is the input every contender gets, and the counts it must produce,
// computed here independently of every contender.
type workload struct {
	keys, values [][]byte
	users        []string         // each click's user
	bots         []bool           // whether each click is a bot's
	real         int              // clicks that are not bots
	expected     map[string]int64 // real clicks per user
}

// newWorkload makes n deterministic clicks: keys click-<i>, JSON values
// {"bot","url","user"} over 10,000 users and 100 pages, a tenth of them bots.
func newWorkload(n int) *workload {
	rng := rand.New(rand.NewPCG(7, 11))
	w := &workload{keys: make([][]byte, n), values: make([][]byte, n), users: make([]string, n), bots: make([]bool, n)}
	for i := range n {
		bot := rng.IntN(10) == 0
		user := fmt.Sprintf("user-%d", rng.IntN(10_000))
		v, _ := json.Marshal(map[string]any{"user": user, "url": fmt.Sprintf("/page/%d", rng.IntN(100)), "bot": bot})
		w.keys[i], w.values[i] = []byte(fmt.Sprintf("click-%d", i)), v
		w.users[i], w.bots[i] = user, bot
	}
	w.count()
	return w
}

// prefix is the workload of the first k clicks (what a paced run produced).
func (w *workload) prefix(k int) *workload {
	p := &workload{keys: w.keys[:k], values: w.values[:k], users: w.users[:k], bots: w.bots[:k]}
	p.count()
	return p
}

// count computes real and expected from the clicks.
func (w *workload) count() {
	w.real, w.expected = 0, map[string]int64{}
	for i, user := range w.users {
		if !w.bots[i] {
			w.real++
			w.expected[user]++
		}
	}
}

// load produces every click to topic and waits for the acknowledgements.
func (w *workload) load(ctx context.Context, addr, topic string) error {
	return produceAll(ctx, addr, topic, len(w.keys), func(i int) *kgo.Record {
		return &kgo.Record{Key: w.keys[i], Value: w.values[i]}
	})
}

// produceAll produces the n records rec makes to topic, in order, through a
// client with opts, and waits for the acknowledgements.
func produceAll(ctx context.Context, addr, topic string, n int, rec func(i int) *kgo.Record, opts ...kgo.Opt) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ProducerLinger(5 * time.Millisecond)}, opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	var first error
	failed := make(chan struct{})
	for i := range n {
		select {
		case <-failed:
			return fmt.Errorf("load %s: %w", topic, first)
		default:
		}
		r := rec(i)
		r.Topic = topic
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil && first == nil { // callbacks run one at a time
				first = err
				close(failed)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("load %s: %w", topic, err)
	}
	if first != nil {
		return fmt.Errorf("load %s: %w", topic, first)
	}
	return nil
}

// readTopic calls fn for every record of topic up to the end offsets it has now.
// With committed it reads read_committed, as consumers of an exactly-once
// output do: aborted records are skipped, and since a transaction marker may
// be a partition's last offset, reading also ends after idle seconds with no
// record (the caller has waited until the output is complete).
func readTopic(ctx context.Context, addr, topic string, committed bool, fn func(*kgo.Record)) error {
	admCl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer admCl.Close()
	ends, err := kadm.NewClient(admCl).ListEndOffsets(ctx, topic)
	if err != nil {
		return fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	assign := map[int32]kgo.Offset{}
	left := map[int32]int64{}
	var lerr error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			lerr = fmt.Errorf("end offset of %s/%d: %w", topic, o.Partition, o.Err)
		}
		if o.Offset > 0 {
			assign[o.Partition] = kgo.NewOffset().AtStart()
			left[o.Partition] = o.Offset
		}
	})
	if lerr != nil || len(assign) == 0 {
		return lerr
	}
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: assign})}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	for len(left) > 0 {
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if committed {
			pollCtx, cancel = context.WithTimeout(ctx, readIdle)
		}
		fs := cl.PollFetches(pollCtx)
		idle := pollCtx.Err() != nil && fs.NumRecords() == 0
		cancel()
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %s: %w", topic, err)
		}
		if idle {
			return nil
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) { // the idle wait
				ferr = fmt.Errorf("read %s/%d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := left[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			fn(r)
			if r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	return nil
}

// readIdle ends a read_committed read of a complete output.
const readIdle = 3 * time.Second

// decodeCount reads a count as gofka's IntSerde[int64], Kafka's LongSerializer and
// the goka peer's codec all write it: 8 bytes, big-endian.
func decodeCount(v []byte) (int64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("want an 8-byte big-endian count, got %d bytes %q", len(v), v)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// verify reads a contender's whole output and checks it against the workload:
// copies must number N; with updates every user's counts must be exactly
// 1..expected (every update, each once); with finals every user's highest count
// must be its expected count and none may exceed it. It returns the number of
// output records.
func (w *workload) verify(ctx context.Context, addr, topic string, kind outputKind, committed bool) (int, error) {
	records := 0
	var problems []string
	seen := map[string][]int64{}
	err := readTopic(ctx, addr, topic, committed, func(r *kgo.Record) {
		records++
		if kind == copies {
			return
		}
		n, err := decodeCount(r.Value)
		if err != nil {
			if len(problems) < 5 {
				problems = append(problems, fmt.Sprintf("%s/%d@%d key %q: %v", r.Topic, r.Partition, r.Offset, r.Key, err))
			}
			return
		}
		seen[string(r.Key)] = append(seen[string(r.Key)], n)
	})
	if err != nil {
		return records, err
	}
	bad := len(problems)
	switch kind {
	case copies:
		if records != len(w.keys) {
			problems = append(problems, fmt.Sprintf("%d records, want one per input record, %d", records, len(w.keys)))
		}
	case updates, finals:
		for user, counts := range seen {
			want, ok := w.expected[user]
			if !ok {
				bad++
				if len(problems) < 10 {
					problems = append(problems, fmt.Sprintf("user %q has counts but no real clicks", user))
				}
				continue
			}
			sort.Slice(counts, func(i, j int) bool { return counts[i] < counts[j] })
			ok = counts[len(counts)-1] == want && counts[0] >= 1
			if kind == updates {
				ok = int64(len(counts)) == want
				for i, c := range counts {
					ok = ok && c == int64(i+1)
				}
			}
			if !ok {
				bad++
				if len(problems) < 10 {
					shown := counts
					if len(shown) > 8 {
						shown = append(append([]int64{}, counts[:4]...), counts[len(counts)-4:]...)
					}
					problems = append(problems, fmt.Sprintf("user %q: %d counts %v…, want %s%d", user, len(counts), shown, map[bool]string{true: "1..", false: "last "}[kind == updates], want))
				}
			}
		}
		for user, want := range w.expected {
			if _, ok := seen[user]; !ok {
				bad++
				if len(problems) < 10 {
					problems = append(problems, fmt.Sprintf("user %q: no count, want %d", user, want))
				}
			}
		}
		if kind == updates && records != w.real {
			problems = append(problems, fmt.Sprintf("%d count updates, want one per real click, %d", records, w.real))
		}
	}
	if len(problems) > 0 {
		return records, fmt.Errorf("output %s is wrong (%d users wrong): %s", topic, bad, strings.Join(problems, "; "))
	}
	return records, nil
}
