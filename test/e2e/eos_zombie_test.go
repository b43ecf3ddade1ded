package e2e

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A zombie under exactly-once: a replica stopped with SIGSTOP past the
// failure timeout, whose tasks moved meanwhile (their new owners initialized
// the tasks' transactional ids, bumping the producer epoch), is resumed while
// input goes on. The broker refuses what it still tries to write, and it
// commits nothing: shown from the records themselves (their producer id and
// epoch, read_uncommitted and read_committed), the consumer group's offsets
// (sampled, never moving backwards) and the zombie's log. It runs on kfake
// and, in the real-Kafka tier (test/kafka/run-tier.sh), on Apache Kafka.

// producerKey is a transactional producer: its id, stable across the epochs
// that InitProducerID bumps for one transactional id.
type producerKey struct {
	topic     string
	partition int32
	pid       int64
}

// epochLog is what one read of a topic shows of the producers' epochs: per
// partition and producer id, the epochs in offset order.
type epochLog struct {
	epochs  map[producerKey][]int16
	offsets map[producerKey][]int64
	records int
}

func readEpochs(ctx context.Context, t *testing.T, addr string, committed bool, topics ...string) *epochLog {
	t.Helper()
	l := &epochLog{epochs: map[producerKey][]int16{}, offsets: map[producerKey][]int64{}}
	for _, topic := range topics {
		readTopic(ctx, t, addr, topic, committed, func(r *kgo.Record) {
			k := producerKey{r.Topic, r.Partition, r.ProducerID}
			l.epochs[k] = append(l.epochs[k], r.ProducerEpoch)
			l.offsets[k] = append(l.offsets[k], r.Offset)
			l.records++
		})
	}
	return l
}

// checkFenced requires that within each partition, once a producer id's
// record with a new epoch appears, no record with an older epoch follows:
// every record carries the epoch current at its position. It returns how
// many producer ids were seen with more than one epoch.
func (l *epochLog) checkFenced(t *testing.T, what string) int {
	t.Helper()
	bumped := 0
	for k, es := range l.epochs {
		cur := es[0]
		for i, e := range es {
			if e < cur {
				t.Errorf("%s: %s/%d producer %d: record at offset %d has epoch %d after epoch %d was written (a fenced producer's write was accepted)",
					what, k.topic, k.partition, k.pid, l.offsets[k][i], e, cur)
			}
			cur = max(cur, e)
		}
		if cur != es[0] {
			bumped++
		}
	}
	return bumped
}

// checkCurrent requires every record of l (read_committed) to carry the
// epoch current at its offset in all (read_uncommitted, aborted records
// included): the newest its producer id had written to the partition so far.
func (l *epochLog) checkCurrent(t *testing.T, all *epochLog) {
	t.Helper()
	for k, es := range l.epochs {
		ue, uo := all.epochs[k], all.offsets[k]
		j, cur := 0, int16(-1)
		for i, e := range es {
			o := l.offsets[k][i]
			for j < len(uo) && uo[j] <= o {
				cur = max(cur, ue[j])
				j++
			}
			if e != cur {
				t.Errorf("%s/%d producer %d: committed record at offset %d has epoch %d, but epoch %d was current there", k.topic, k.partition, k.pid, o, e, cur)
			}
		}
	}
}

// offsetSampler samples the group's committed offsets until stopped and
// reports any that moved backwards: a zombie's commit of offsets it had read
// before its pause would.
type offsetSampler struct {
	mu      sync.Mutex
	last    map[string]int64
	samples int
	errs    []string
	stop    chan struct{}
	done    chan struct{}
}

func sampleOffsets(ctx context.Context, adm *kadm.Client) *offsetSampler {
	s := &offsetSampler{last: map[string]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			if got, err := fetchCommitted(ctx, adm); err == nil {
				s.add(got)
			}
			select {
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return s
}

func (s *offsetSampler) add(got kadm.OffsetResponses) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples++
	got.Each(func(o kadm.OffsetResponse) {
		if o.Err != nil {
			return
		}
		k := fmt.Sprintf("%s/%d", o.Topic, o.Partition)
		if prev, ok := s.last[k]; ok && o.At < prev {
			s.errs = append(s.errs, fmt.Sprintf("%s: committed offset went back from %d to %d", k, prev, o.At))
		}
		s.last[k] = max(s.last[k], o.At)
	})
}

func (s *offsetSampler) finish(t *testing.T) {
	t.Helper()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.errs {
		t.Error(e)
	}
	if s.samples < 2 || len(s.last) == 0 {
		t.Errorf("only %d samples of the group's offsets (%d partitions): nothing was checked", s.samples, len(s.last))
	}
	t.Logf("group offsets sampled %d times, over %d partitions, never moving backwards", s.samples, len(s.last))
}

// zombieFenced is how a resumed replica's log shows it stood down: its lease
// had lapsed, the coordinator had declared it dead, or the broker refused
// its producer's epoch.
var zombieFenced = regexp.MustCompile(`PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|lease expired|declared dead|fenced; stopping all tasks`)

func TestExactlyOnceZombieFenced(t *testing.T) {
	ctx := testContext(t, 180*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	samples := sampleOffsets(ctx, adm)
	c := newCluster(t, addr, 3, eosFlag...)
	c.startAll()
	owners := c.everyTaskRunning(ctx, []int{0, 1, 2})
	before := changelogEnds(ctx, t, adm)
	clicks := makeClicks(0, 12000)
	var produced atomic.Int64
	// Half the input before the pause, the rest once the zombie resumes.
	resumed := make(chan struct{})
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: 100, pauses: map[int]<-chan struct{}{6000: resumed}})
	out := committedTail(t, addr)
	if err := out.until(ctx, "committed output appeared", func(c *counts) bool { return c.records > 500 }); err != nil {
		t.Fatal(err)
	}
	victim, lost := zombieOf(t, owners, c.leader(ctx, []int{0, 1, 2}))
	z := c.procs[victim]
	// The take-over shows as an epoch bump only if the zombie wrote to its
	// changelog partitions first (its cache flushes at a commit).
	waitChangelogWrites(ctx, t, adm, before, lost)
	if err := syscall.Kill(-z.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGSTOPped r%d (tasks %v) with %d clicks produced", victim, lost, produced.Load())
	var alive []int
	for i := range 3 {
		if i != victim {
			alive = append(alive, i)
		}
	}
	// The others run its tasks: each new owner initialized the task's
	// transactional id before it started, bumping the epoch.
	c.everyTaskRunning(ctx, alive)
	close(resumed)
	if err := syscall.Kill(-z.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGCONT r%d with %d clicks produced", victim, produced.Load())
	if err := z.waitLog(ctx, `msg="fenced: dropped every task`); err != nil {
		t.Fatal(err)
	}
	if log := z.out.String(); !zombieFenced.MatchString(log) {
		t.Errorf("r%d's log does not say why it stood down:\n%s", victim, grepLines(log, "fenced"))
	} else {
		t.Logf("r%d stood down:\n%s", victim, strings.TrimSpace(grepLines(log, "fenced")))
	}
	c.everyTaskRunning(ctx, []int{0, 1, 2}) // it rejoined
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	waitCounts(ctx, t, out, clicks)
	if err := poll(ctx, "the group commits all input", func() (bool, error) {
		ok, _, err := consumedAll(ctx, adm)
		return ok, err
	}); err != nil {
		t.Error(err)
	}
	for i := range c.procs {
		stopClean(ctx, t, c.procs[i])
	}
	samples.finish(t)

	// Every topic the tasks write transactionally, read both ways.
	topics := []string{outputTopic, changelogTopic, repartitionTopic}
	all := readEpochs(ctx, t, addr, false, topics...)
	committed := readEpochs(ctx, t, addr, true, topics...)
	bumped := all.checkFenced(t, "read_uncommitted")
	committed.checkFenced(t, "read_committed")
	committed.checkCurrent(t, all)
	t.Logf("%d records read_uncommitted, %d read_committed; %d producer ids (per partition) written with more than one epoch",
		all.records, committed.records, bumped)
	// The zombie's tasks' changelog partitions: their transactional ids
	// were taken over, so their producer ids show a bumped epoch.
	checkTakenOver(t, all, lost)
	checkExactlyOnce(ctx, t, addr, clicks)
}

// zombieOf picks the replica to pause: not the leader, and one that owns a
// task of sub-topology 1 (whose changelog partition shows the take-over; the
// two others own 5 of the 8 tasks, so one of them does). It returns the
// replica and its tasks.
func zombieOf(t *testing.T, owners map[string]int, leader int) (int, []string) {
	t.Helper()
	for _, r := range []int{(leader + 1) % 3, (leader + 2) % 3} {
		var tasks []string
		for task, o := range owners {
			if o == r {
				tasks = append(tasks, task)
			}
		}
		slices.Sort(tasks)
		if slices.ContainsFunc(tasks, func(s string) bool { return strings.HasPrefix(s, "1_") }) {
			return r, tasks
		}
	}
	t.Fatalf("no replica but the leader r%d owns a task of sub-topology 1: %v", leader, owners)
	return -1, nil
}

// changelogEnds is the end offset of each changelog partition.
func changelogEnds(ctx context.Context, t *testing.T, adm *kadm.Client) map[int32]int64 {
	t.Helper()
	ends, err := adm.ListEndOffsets(ctx, changelogTopic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", changelogTopic, err)
	}
	m := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { m[o.Partition] = o.Offset })
	return m
}

// waitChangelogWrites waits until the changelog partition of each store task
// in tasks has grown past before: its owner since before has written to it.
func waitChangelogWrites(ctx context.Context, t *testing.T, adm *kadm.Client, before map[int32]int64, tasks []string) {
	t.Helper()
	err := poll(ctx, "the zombie's tasks write their changelogs", func() (bool, error) {
		now := changelogEnds(ctx, t, adm)
		for _, task := range tasks {
			var p int32
			if _, err := fmt.Sscanf(task, "1_%d", &p); err == nil && now[p] <= before[p] {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkTakenOver requires the changelog partition of each task in lost (the
// store is in sub-topology 1, written by task 1_p to partition p) to show a
// producer whose epoch was bumped: the new owner fenced the zombie's id.
func checkTakenOver(t *testing.T, l *epochLog, lost []string) {
	t.Helper()
	for _, task := range lost {
		var p int32
		if _, err := fmt.Sscanf(task, "1_%d", &p); err != nil {
			continue // a task of sub-topology 0 writes no changelog
		}
		var seen []string
		ok := false
		for k, es := range l.epochs {
			if k.topic != changelogTopic || k.partition != p {
				continue
			}
			seen = append(seen, fmt.Sprintf("producer %d epochs %d..%d", k.pid, es[0], es[len(es)-1]))
			t.Logf("%s/%d producer %d epochs %v", k.topic, k.partition, k.pid, slices.Compact(slices.Clone(es)))
			ok = ok || es[len(es)-1] > es[0]
		}
		if !ok {
			t.Errorf("task %s moved, but its changelog partition %d shows no producer epoch bump: %v", task, p, seen)
		}
	}
}
