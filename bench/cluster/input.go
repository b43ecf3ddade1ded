package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The topology's fixed topic names (examples/clickcount) and the parts of the
// internal topics' names after the application id.
const (
	inputTopic       = "user-clicks"
	outputTopic      = "user-click-counts"
	repartitionTopic = "click-counts-repartition"
	barrierHeader    = "gofka.barrier" // the engine's checkpoint control records
)

// clickJSON is a click as the application reads it (examples/clickcount.Click).
func clickJSON(user, url string, bot bool) []byte {
	return []byte(`{"user":"` + user + `","url":"` + url + `","bot":` + strconv.FormatBool(bot) + `}`)
}

// load produces n records made by gen to topic as fast as the broker takes
// them, partitioned as Kafka's default partitioner does (murmur2 of the key),
// and waits for every acknowledgement.
func load(ctx context.Context, addr, topic string, n int, gen func(i int) (key, value []byte)) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	var once sync.Once
	var first error
	failed := make(chan struct{})
	for i := range n {
		select {
		case <-failed:
			return fmt.Errorf("load %s: %w", topic, first)
		default:
		}
		k, v := gen(i)
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: k, Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				once.Do(func() { first = err; close(failed) })
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("load %s: %w", topic, err)
	}
	select {
	case <-failed:
		return fmt.Errorf("load %s: %w", topic, first)
	default:
	}
	return nil
}

// distinctUsers is the restore scenario's input: click i is the only click of
// user-<i>, so the store ends with one key per click, each counted once.
func distinctUsers(i int) (key, value []byte) {
	return []byte("click-" + strconv.Itoa(i)), clickJSON("user-"+strconv.Itoa(i), "/", false)
}

// overheadWorkload is the checkpoint-overhead scenario's input: n deterministic
// clicks over 10,000 users and 100 pages, a tenth of them bots (as bench/e2e's).
type overheadWorkload struct {
	keys, values [][]byte
	real         int
}

func newOverheadWorkload(n int) *overheadWorkload {
	rng := rand.New(rand.NewPCG(7, 11))
	w := &overheadWorkload{keys: make([][]byte, n), values: make([][]byte, n)}
	for i := range n {
		bot := rng.IntN(10) == 0
		user := "user-" + strconv.Itoa(rng.IntN(10_000))
		w.keys[i] = []byte("click-" + strconv.Itoa(i))
		w.values[i] = clickJSON(user, "/page/"+strconv.Itoa(rng.IntN(100)), bot)
		if !bot {
			w.real++
		}
	}
	return w
}

func (w *overheadWorkload) gen(i int) ([]byte, []byte) { return w.keys[i], w.values[i] }

// The failover scenario's stream: click i goes to input partition q = i mod P
// and belongs to user "u<q>-<k>". The user name carries the input partition, so
// a record on the repartition topic (keyed by user) tells which task 0_q wrote
// it, and an output record's partition p tells that task 1_p wrote it.
const usersPerPartition = 5000

func streamClick(i int, partitions int32) (key, value []byte, partition int32) {
	q := int32(i % int(partitions))
	k := (i / int(partitions) * 7919) % usersPerPartition
	user := "u" + strconv.Itoa(int(q)) + "-" + strconv.Itoa(k)
	return []byte("c-" + strconv.Itoa(i)), clickJSON(user, "/page/"+strconv.Itoa(i%100), false), q
}

// stream produces clicks at a steady rate until stopped.
type stream struct {
	produced atomic.Int64
	cancel   context.CancelFunc
	done     chan error
	began    time.Time
	stopOnce sync.Once
	err      error
}

// startStream produces rate clicks per second to the input topic, in slices
// every 10 ms, across partitions partitions.
func startStream(ctx context.Context, addr string, rate int, partitions int32) (*stream, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(2*time.Millisecond))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &stream{cancel: cancel, done: make(chan error, 1), began: time.Now()}
	go func() {
		defer cl.Close()
		var once sync.Once
		var first error
		failed := make(chan struct{})
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		i := 0
		for {
			select {
			case <-ctx.Done():
				s.done <- nil
				return
			case <-failed:
				s.done <- fmt.Errorf("produce clicks: %w", first)
				return
			case <-tick.C:
			}
			// As many clicks as the rate owes by now: a late tick catches up.
			owed := int(time.Since(s.began).Seconds()*float64(rate)) - i
			for range min(owed, rate) {
				k, v, p := streamClick(i, partitions)
				cl.Produce(ctx, &kgo.Record{Topic: inputTopic, Key: k, Value: v, Partition: p}, func(_ *kgo.Record, err error) {
					if err != nil && ctx.Err() == nil {
						once.Do(func() { first = err; close(failed) })
					}
				})
				i++
			}
			s.produced.Store(int64(i))
		}
	}()
	return s, nil
}

// stop ends the stream and returns its error, if any; calling it again
// returns the same.
func (s *stream) stop() error {
	s.stopOnce.Do(func() {
		s.cancel()
		s.err = <-s.done
	})
	return s.err
}

// rate is the clicks per second produced so far.
func (s *stream) rate() float64 {
	return float64(s.produced.Load()) / time.Since(s.began).Seconds()
}

// seen is when a task's record was written (the broker's append time: the
// tracked topics are LogAppendTime, appendTimeTopics) and when this process
// received it.
type seen struct {
	written, arrived time.Time
}

// tracker follows what every task writes: tasks 1_p by output partition p,
// tasks 0_q by the user prefix u<q>- of repartition records. It knows the
// newest record of each task and, after watch(t), each task's first record
// written after t.
type tracker struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	last  map[string]time.Time // task → newest record's append time
	since time.Time
	first map[string]seen
	// stampErr: a record not stamped by the broker, whose timestamp would
	// say when its input was made, not when the task wrote it.
	stampErr error
	// byArrival takes such a record as written when it arrived here (the
	// embedded broker ignores LogAppendTime): later by the fetch's wait.
	byArrival bool
}

// startTracker consumes the output topic and appID's repartition topic from
// their ends.
func startTracker(ctx context.Context, addr, appID string) (*tracker, error) {
	rep := appID + "-" + repartitionTopic
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(outputTopic, rep),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	t := &tracker{cl: cl, cancel: cancel, done: make(chan struct{}), last: map[string]time.Time{}, first: map[string]seen{}}
	go func() {
		defer close(t.done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			now := time.Now()
			t.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				task := ""
				switch {
				case r.Topic == outputTopic:
					task = "1_" + strconv.Itoa(int(r.Partition))
				case len(r.Headers) > 0 && r.Headers[0].Key == barrierHeader:
					return
				default:
					user := string(r.Key)
					if q, _, ok := strings.Cut(strings.TrimPrefix(user, "u"), "-"); ok && strings.HasPrefix(user, "u") {
						task = "0_" + q
					}
				}
				if task == "" {
					return
				}
				if r.Attrs.TimestampType() != 1 && t.byArrival {
					r.Timestamp = now
				} else if r.Attrs.TimestampType() != 1 && t.stampErr == nil {
					t.stampErr = fmt.Errorf("%s/%d offset %d: not stamped with the broker's append time (LogAppendTime): its timestamp does not say when it was written", r.Topic, r.Partition, r.Offset)
				}
				if r.Timestamp.After(t.last[task]) {
					t.last[task] = r.Timestamp
				}
				if !t.since.IsZero() && r.Timestamp.After(t.since) {
					if _, ok := t.first[task]; !ok {
						t.first[task] = seen{written: r.Timestamp, arrived: now}
					}
				}
			})
			t.mu.Unlock()
		}
	}()
	return t, nil
}

// watch starts recording each task's first record written after since.
func (t *tracker) watch(since time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.since = since
	clear(t.first)
}

// firsts returns the records seen since watch, by task.
func (t *tracker) firsts() map[string]seen {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]seen, len(t.first))
	for k, v := range t.first {
		out[k] = v
	}
	return out
}

// err is the tracker's measurement error, if any.
func (t *tracker) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stampErr
}

// wroteSince reports whether every task in tasks wrote a record after at.
func (t *tracker) wroteSince(at time.Time, tasks []string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, task := range tasks {
		if !t.last[task].After(at) {
			return false
		}
	}
	return true
}

func (t *tracker) stop() {
	t.cancel()
	<-t.done
	t.cl.Close()
}
