package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/gofka/streams/coordinator"
)

// Exactly-once (--guarantee exactly-once) turns a task's commit into the
// commit of a Kafka transaction. What it adds to the at-least-once path, which
// is otherwise the same code:
//
// One transactional producer per task, transactional.id = <app id>-<task id>
// (e.g. clicks-0_3). When a task moves, its new owner creates the producer and
// initializes it (InitProducerID) before it reads anything: the broker bumps
// the epoch of that id, aborts whatever transaction the old owner left open,
// and refuses every later write or commit of the old owner (PRODUCER_FENCED).
// The coordinator's lease already keeps two replicas from running a task at
// once; the epoch closes what the lease cannot, a paused replica's last
// buffered writes. KIP-447 (one producer per replica, fenced through the
// consumer group's generation in TxnOffsetCommit) needs a group generation
// that moves on every reassignment; our tasks are assigned by the Raft
// coordinator, not by a consumer group, so the group has no members and no
// generation (offsets are committed with generation -1), and a per-replica id
// would fence nothing when a task moves. The cost of per-task ids is one
// client (connections, buffers) per running task; with a handful of tasks per
// replica that is small, and it is what Kafka Streams' exactly_once (v1) did.
// Measured (make bench-eos, bench/results/eos.md): exactly-once over
// at-least-once is 0.61× with 16 producers and 0.57× with 128 on one replica.
//
// The transaction commits at every commit interval, as Kafka Streams does,
// rather than when a barrier checkpoint completes (Flink's two-phase commit):
// output becomes visible to read_committed consumers within a commit interval
// (100 ms–5 s) rather than a checkpoint interval (tens of seconds), and a
// failed checkpoint does not hold output back. Checkpoints keep working
// because a task's snapshot records only committed state: when a task is
// aligned for checkpoint n, its transaction is committed first
// (beginAlignedCommits, finishing off the loop like the interval commit), and
// the RocksDB checkpoint is taken when that commit is settled, before the task
// processes anything more, so the snapshot's changelog and source offsets are
// ends of committed transactions, and restore = snapshot + committed changelog
// tail is exact. The same alignment gives Flink's cadence
// on demand (--commit-interval 1h --checkpoint-interval 1s: a transaction per
// checkpoint); measured, it puts both hops of a repartitioned topology in one
// cycle (p99 1.2 s instead of 2.1 s at 1 s) for a snapshot upload per commit.
//
// The commit of a task (beginTxnCommits and finishTxn, txncommit.go):
//
//	Task.Flush (caches ─▶ RocksDB + changelog, inside the transaction) ─▶ Flush (every produce acked)
//	  ─▶ AddOffsetsToTxn(group = app id) ─▶ TxnOffsetCommit(input offsets, generation -1)
//	  ─▶ EndTxn(commit) ─▶ BeginTransaction
//
// Task.Flush runs on the loop; the rest runs on a goroutine per task, all
// tasks at once, while the loop goes on with the tasks whose commit finished
// (the interval commit, checkpoints), or waits for them (stopping).
//
// kgo offers the transactional offset commit only through GroupTransactSession
// (a consumer-group member), so the engine sends AddOffsetsToTxn and
// TxnOffsetCommit itself with the producer's id and epoch (Client.ProducerID),
// and only in a transaction that produced records: EndTransaction ends only
// transactions that added partitions, so a transaction holding offsets alone
// would be left open. A task that produced nothing since its last commit has no
// effect to tie its offsets to; they are committed outside any transaction.
// TxnOffsetCommit is capped at v5 (v6 names topics by id).
//
// Failures. A transaction belongs to one task (its producer), so a
// transaction that cannot commit (its produce failed, its flush, its offset
// commit refused, its EndTxn failed or timed out, a fault hook) is that task's
// failure (taskFailure), and the task alone is rolled back (rollback.go): its
// transaction aborted and producer closed, its local RocksDB instance and
// caches dropped, its input positions forgotten; it starts again at once with
// a newly initialized producer (new epoch, which also settles an EndTxn whose
// outcome is unknown), from the newest snapshot and the committed changelog
// tail, its inputs from the committed offsets. The other tasks of the replica
// keep their state, their open transactions and their positions. Rebuilding
// from committed data is the simplest correct rollback: the typed cache and
// RocksDB may both hold updates of the aborted transaction (a cache eviction
// writes RocksDB mid-interval). A checkpoint in progress: a rolled-back task
// that reads only user topics is aligned again at its committed offsets and
// snapshots its committed state; one that reads a repartition topic may have
// counted barriers past its committed offsets, so it does not ack that
// checkpoint, which fails (the next one completes). What cannot be pinned to
// one task (a write of the shared producer lost, a task sharing an input
// partition with another) still drops every task (discardTasks), and so does
// a lost lease. A commit once begun is finished even when the graceful stop
// comes in the middle of it, so that a SIGTERM does not cost a rollback.
// A panic in a user function ends the run without committing: its
// transaction is aborted (or left to the next owner's initialization), and
// nothing of it becomes visible.
//
// Local state. After a crash local state may hold updates of transactions
// that never committed, so a task does not start from it: it is wiped and the
// task restored from a snapshot and the changelog (Kafka Streams wipes local
// state after an unclean shutdown for the same reason). After a clean close
// (graceful stop, a task moving away, both after a successful commit) the
// task leaves a marker on its state, as Kafka Streams' .checkpoint file, and
// its next start here deletes the marker and then uses the local state plus
// the committed changelog after the marker's offsets, unless the changelog,
// the snapshots or the committed input offsets contradict it (marker.go).
//
// Reads. Inputs, repartition topics and changelog restore read
// read_committed. Restore replays to the changelog's last stable offset and
// keeps control records (not applied), so it sees the transaction marker that
// ends the partition and stops there: the end is a position, not the last
// data record's offset + 1.

// errTxnAborted: a transaction could not commit and was aborted. Inside a
// taskFailure the loop rolls back that task and restarts it from committed
// state (its state may hold aborted updates); alone, it drops every task.
var errTxnAborted = errors.New("transaction aborted")

// txnCommits counts transactional commits that produced records, for the
// offset-commit and EndTxn fault hooks (faults.go).
var txnCommits atomic.Int64

// newTxnProducer makes and initializes the transactional producer of task id:
// the broker fences any earlier producer of the same id and aborts its open
// transaction before this returns.
func (e *Engine) newTxnProducer(ctx context.Context, id string) (*kgo.Client, error) {
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(int16(kmsg.TxnOffsetCommit), 5)
	cl, err := kgo.NewClient(e.clientOpts(
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.TransactionalID(e.cfg.AppID+"-"+id),
		// Long enough for a commit interval and a slow commit; at most Kafka's
		// default transaction.max.timeout.ms (15 min), above which
		// InitProducerID is refused.
		kgo.TransactionTimeout(min(max(60*time.Second, 4*e.cfg.CommitInterval), 15*time.Minute)),
		kgo.MaxVersions(versions),
	)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	if _, _, err := cl.ProducerID(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("initialize transactional producer %s-%s: %w", e.cfg.AppID, id, err)
	}
	if err := cl.BeginTransaction(); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// txnOffsetsRequest builds the TxnOffsetCommit of the task's input offsets
// (on the loop, which owns the positions); addTxnOffsets sends it.
func (e *Engine) txnOffsetsRequest(t *task) *kmsg.TxnOffsetCommitRequest {
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.TransactionalID, req.Group = e.cfg.AppID+"-"+t.id.String(), e.cfg.AppID
	req.Generation = -1
	byTopic := map[string]int{} // index in req.Topics
	md := e.timeOf(t).metadata()
	for _, tp := range t.inputs {
		at, ok := e.positions[tp]
		if !ok || at < 0 {
			continue
		}
		i, ok := byTopic[tp.topic]
		if !ok {
			i = len(req.Topics)
			byTopic[tp.topic] = i
			req.Topics = append(req.Topics, kmsg.TxnOffsetCommitRequestTopic{Topic: tp.topic})
		}
		p := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		p.Partition, p.Offset, p.LeaderEpoch, p.Metadata = tp.partition, at, -1, &md
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, p)
	}
	return req
}

// addTxnOffsets adds the task's input offsets (req) to its transaction.
//
// The offsets are not added while the acks are awaited, although they take
// effect only with EndTxn: measured on Kafka 3.9.1, an AddOffsetsToTxn racing
// the producer's own AddPartitionsToTxn for the records being flushed is
// answered CONCURRENT_TRANSACTIONS, and the producer's flush then stalled
// for 5 s at times.
func (e *Engine) addTxnOffsets(ctx context.Context, t *task, req *kmsg.TxnOffsetCommitRequest, took *commitTimes) error {
	cl := t.producer
	lap := time.Now()
	pid, epoch, err := cl.ProducerID(ctx)
	if err != nil {
		return err
	}
	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = req.TransactionalID, pid, epoch, e.cfg.AppID
	// The producer may be adding partitions to the transaction at the same
	// time (AddPartitionsToTxn, for the records just flushed): the
	// coordinator answers CONCURRENT_TRANSACTIONS while that is in progress,
	// to be retried, as the Java producer and franz-go's own requests do.
	for backoff := 5 * time.Millisecond; ; backoff = min(2*backoff, 100*time.Millisecond) {
		addResp, err := add.RequestWith(ctx, cl)
		if err == nil {
			err = kerr.ErrorForCode(addResp.ErrorCode)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, kerr.ConcurrentTransactions) || ctx.Err() != nil {
			return fmt.Errorf("add offsets to transaction: %w", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
	took.add = time.Since(lap)
	lap = time.Now()
	req.ProducerID, req.ProducerEpoch = pid, epoch
	if len(req.Topics) > 0 {
		resp, err := req.RequestWith(ctx, cl)
		if err == nil {
			err = txnOffsetErr(resp)
		}
		if err != nil {
			return fmt.Errorf("transactional offset commit: %w", err)
		}
	}
	took.offsets = time.Since(lap)
	return nil
}

// endTxn commits the task's transaction, its offsets added, and begins the
// next one.
func (e *Engine) endTxn(ctx context.Context, t *task, took *commitTimes) error {
	lap := time.Now()
	n := int64(-1) // not counted: matches no hook
	if faultTask == "" || faultTask == t.id.String() {
		n = txnCommits.Add(1)
	}
	if n == faultAbortCommit.at {
		return faultAbortCommit.err()
	}
	endCtx := ctx
	if n == faultEndTxnTimeout.at {
		// EndTxn times out: kgo marks the outcome unknown and the producer
		// id for a reload.
		var cancel context.CancelFunc
		endCtx, cancel = context.WithTimeout(ctx, 0)
		defer cancel()
	}
	if err := t.producer.EndTransaction(endCtx, kgo.TryCommit); err != nil {
		return fmt.Errorf("end transaction: %w", err)
	}
	took.end = time.Since(lap)
	lap = time.Now()
	defer func() { took.begin = time.Since(lap) }()
	return t.producer.BeginTransaction()
}

func txnOffsetErr(resp *kmsg.TxnOffsetCommitResponse) error {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, err)
			}
		}
	}
	return nil
}

// abortTxn ends a task's producer without committing: what it buffered is
// dropped, its open transaction aborted (best effort: the next
// initialization of the same transactional id aborts it anyway), and the
// client closed.
func (e *Engine) abortTxn(ctx context.Context, t *task) {
	if t.producer == nil || t.producer == e.producer {
		return
	}
	abort, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := t.producer.AbortBufferedRecords(abort); err != nil {
		e.log.Warn("abort buffered records", "task", t.id, "err", err)
	}
	if err := t.producer.EndTransaction(abort, kgo.TryAbort); err != nil {
		e.log.Debug("abort transaction", "task", t.id, "err", err)
	}
	t.producer.Close()
	t.producer = nil
}

// startProducers makes the transactional producers of tasks about to start
// (none under at-least-once: the tasks share the engine's producer),
// concurrently: each initialization is a round trip to the transaction
// coordinator.
func (e *Engine) startProducers(ctx context.Context, ids []coordinator.TaskID) (map[coordinator.TaskID]*kgo.Client, error) {
	out := map[coordinator.TaskID]*kgo.Client{}
	if !e.cfg.ExactlyOnce {
		return out, nil
	}
	clients := make([]*kgo.Client, len(ids))
	errs := concurrently(len(ids), func(i int) (err error) {
		clients[i], err = e.newTxnProducer(ctx, ids[i].String())
		return err
	})
	for i, k := range ids {
		if clients[i] != nil {
			out[k] = clients[i]
		}
	}
	for _, err := range errs {
		if err != nil {
			closeAll(out)
			return nil, err
		}
	}
	return out, nil
}

// concurrently runs fn(0) … fn(n-1) at once and returns their errors.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errs
}

func closeAll(producers map[coordinator.TaskID]*kgo.Client) {
	for _, cl := range producers {
		cl.Close()
	}
}
