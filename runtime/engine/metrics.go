package engine

import (
	"regexp"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/state/rocks"
)

// metrics are the replica's Prometheus metrics, served at /metrics by the
// status server. Each Engine has its own registry, so several engines in one
// process (tests) do not collide. The names follow Kafka Streams' metrics
// (process-total, poll-latency, commit-latency, records-lag,
// restore-remaining-records-total, ...) in Prometheus' form: a rate is
// rate() of a _total counter, a latency a _seconds histogram. The README
// lists them all (TestREADMEListsEveryMetric).
//
// Where they are recorded: the loop times each poll and commit (a histogram
// observation per poll or commit, not per record); processPartition adds a
// batch's size to the task's counter; replayChangelogs sets the remaining
// records of a restore after each fetch; the checkpoint uploader counts its
// bytes; publishView (every commit) reads the RocksDB sizes; the Raft metrics
// are read from the coordinator at each scrape.
type metrics struct {
	reg               *prometheus.Registry
	collectors        []prometheus.Collector // everything registered, for names
	processed         prometheus.Counter
	process           *prometheus.CounterVec // per task: Kafka Streams' process-total
	poll              prometheus.Histogram
	commit            prometheus.Histogram
	restoreRemaining  *prometheus.GaugeVec
	standbyLag        *prometheus.GaugeVec
	restoreRecords    prometheus.Counter
	checkpointSeconds prometheus.Histogram
	checkpointBytes   prometheus.Counter
	storeBytes        *prometheus.GaugeVec
	recordsLag        *prometheus.GaugeVec
	restoreSeconds    *prometheus.GaugeVec
	snapshotFallbacks prometheus.Counter
	checkpoints       *prometheus.CounterVec
	// checkpointPartsFailed counts this replica's task parts of a checkpoint
	// that failed (and were reported, aborting the checkpoint), by phase:
	// local (the RocksDB checkpoint), upload (SST files or the manifest) or
	// rollback (the task was rolled back before its snapshot was taken).
	checkpointPartsFailed *prometheus.CounterVec
	lag                   *prometheus.GaugeVec
	skipped               *prometheus.CounterVec
	deadLettered          *prometheus.CounterVec
	late                  *prometheus.CounterVec
	dropped               *prometheus.CounterVec
	mem                   *memoryMetrics // the memory-pressure gauges (metrics_memory.go)

	mu   sync.Mutex
	lags map[topicPartition]int64 // records behind the high watermark, per input partition
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		processed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gofka_records_processed_total", Help: "Input records processed by this replica.",
		}),
		restoreSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gofka_task_restore_seconds", Help: "How long the last start of a task took to restore its state.",
		}, []string{"task"}),
		snapshotFallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gofka_snapshot_fallbacks_total", Help: "Snapshots found corrupt or missing at restore, so an older one or the changelog was used.",
		}),
		checkpoints: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gofka_checkpoints_finished_total", Help: "Checkpoints this replica saw finish, by whether they completed.",
		}, []string{"complete"}),
		checkpointPartsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gofka_checkpoint_parts_failed_total", Help: "Task snapshots of a checkpoint that failed on this replica, which then asked the coordinator to abort the checkpoint, by phase (local: the RocksDB checkpoint; upload: its files or manifest; rollback: the task was rolled back before its snapshot was taken).",
		}, []string{"phase"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gofka_input_lag_records", Help: "Records between the last processed offset and the high watermark.",
		}, []string{"topic", "partition"}),
		// Kafka Streams counts these as dropped-records; the partition says where
		// to look, the reason which policy path (decode_key, decode_value) it took.
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gofka_skipped_records_total", Help: "Input records skipped by --on-bad-record skip, by input topic, partition and reason.",
		}, []string{"topic", "partition", "reason"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gofka_dead_lettered_records_total", Help: "Input records sent to the dead-letter topic by --on-bad-record dead-letter, by input topic and partition.",
		}, []string{"topic", "partition"}),
		// Kafka Streams counts these in its task-level dropped-records metric.
		late: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gofka_late_records_total", Help: "Records a windowed aggregation did not add because every window they fall in had closed (end plus grace passed), by task.",
		}, []string{"task"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gofka_dropped_records_total", Help: "Records dropped before a stateful step or a join, by task and reason (null-key: the record had a null key).",
		}, []string{"task", "reason"}),
		process: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gofka_process_total", Help: "Input records processed, by task (Kafka Streams' process-total; process-rate is its rate()).",
		}, []string{"task"}),
		poll: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gofka_poll_seconds", Help: "How long each poll of the input partitions took, the wait for records included (Kafka Streams' poll-latency).",
			Buckets: latencyBuckets,
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gofka_commit_seconds", Help: "How long each commit took: caches flushed, produce acknowledged, offsets (or transactions) committed (Kafka Streams' commit-latency).",
			Buckets: latencyBuckets,
		}),
		restoreRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gofka_restore_remaining_records", Help: "Changelog records a starting task has still to replay; 0 once restored (Kafka Streams' restore-remaining-records-total).",
		}, []string{"task"}),
		standbyLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gofka_standby_records_lag", Help: "Changelog records a standby task kept here is behind the end of its changelogs (Kafka Streams' standby records-lag); the leader promotes a standby within --acceptable-recovery-lag.",
		}, []string{"task"}),
		restoreRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gofka_restore_records_total", Help: "Changelog records replayed into state stores by restores (Kafka Streams' restore-total; restore-rate is its rate()).",
		}),
		checkpointSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gofka_checkpoint_seconds", Help: "How long a task's part of a checkpoint took: the RocksDB checkpoint and its upload.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12), // 10 ms to 10 min
		}),
		checkpointBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gofka_checkpoint_uploaded_bytes_total", Help: "Bytes of snapshot files uploaded by checkpoints (files uploaded before are not sent again).",
		}),
		storeBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gofka_state_store_bytes", Help: "RocksDB's size of a task's persistent store: its SST files (rocksdb.total-sst-files-size) and memtables (rocksdb.cur-size-all-mem-tables), updated at each commit.",
		}, []string{"task", "store"}),
		recordsLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gofka_records_lag", Help: "Records between the last processed offset and the high watermark, per input partition (Kafka Streams' records-lag).",
		}, []string{"topic", "partition"}),
		lags: map[topicPartition]int64{},
	}
	m.register(m.processed, m.process, m.poll, m.commit, m.restoreSeconds, m.restoreRemaining, m.standbyLag, m.restoreRecords, m.snapshotFallbacks,
		m.checkpoints, m.checkpointPartsFailed, m.checkpointSeconds, m.checkpointBytes, m.storeBytes, m.lag, m.recordsLag,
		m.skipped, m.deadLettered, m.late, m.dropped)
	m.mem = m.countMemory()
	m.reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// latencyBuckets are the poll and commit histograms' buckets: 1 ms to about 30 s.
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2.8, 11)

// register registers gofka's own collectors and keeps them for names.
func (m *metrics) register(cs ...prometheus.Collector) {
	m.reg.MustRegister(cs...)
	m.collectors = append(m.collectors, cs...)
}

// names lists the names of every gofka metric registered, series or not.
func (m *metrics) names() []string {
	ch := make(chan *prometheus.Desc, 16)
	go func() {
		for _, c := range m.collectors {
			c.Describe(ch)
		}
		close(ch)
	}()
	var out []string
	for d := range ch {
		// Desc keeps its name unexported; its String() is the only way out.
		if mt := descName.FindStringSubmatch(d.String()); mt != nil && !slices.Contains(out, mt[1]) {
			out = append(out, mt[1])
		}
	}
	slices.Sort(out)
	return out
}

var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

// raftStats is what the Raft metrics read (coordinator.Node).
type raftStats interface{ RaftStats() coordinator.RaftStats }

// countRaft publishes the coordinator's Raft term, leader changes and
// leadership, read at each scrape.
func (m *metrics) countRaft(n raftStats) {
	m.register(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gofka_raft_term", Help: "The current Raft term of the coordinator group, as this replica knows it."},
			func() float64 { return float64(n.RaftStats().Term) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gofka_raft_leader_changes_total", Help: "Raft leaders this replica learned of since it started (the first one included)."},
			func() float64 { return float64(n.RaftStats().LeaderChanges) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gofka_raft_is_leader", Help: "1 while this replica is the Raft leader (the Streams Coordinator), else 0."},
			func() float64 {
				if n.RaftStats().IsLeader {
					return 1
				}
				return 0
			}),
	)
}

// countPeerTLS publishes gofka_peer_tls_rejected_total when the replicas
// talk over mutual TLS.
func (m *metrics) countPeerTLS(pt *coordinator.PeerTLS) {
	if pt == nil {
		return
	}
	m.register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "gofka_peer_tls_rejected_total",
		Help: "Incoming connections to the coordinator port refused because their TLS handshake failed (no certificate of the peer CA).",
	}, func() float64 { return float64(pt.Rejected()) }))
}

// observeLag records how far a fetched partition is behind its high watermark.
// A partition with an error has no watermark; that includes the one franz-go
// makes up (topic "", partition -1) to report the poll's own time limit.
func (m *metrics) observeLag(ftp kgo.FetchTopicPartition) {
	if ftp.Err != nil || ftp.Partition < 0 || ftp.HighWatermark < 0 {
		return
	}
	next := ftp.HighWatermark
	if n := len(ftp.Records); n > 0 {
		next = ftp.Records[n-1].Offset + 1
	}
	lag := max(ftp.HighWatermark-next, 0)
	m.mu.Lock()
	m.lags[topicPartition{ftp.Topic, ftp.Partition}] = lag
	m.mu.Unlock()
}

// lagByTask sums the input lag of each running task, for heartbeats and
// /status, and publishes the lag of the running tasks' inputs; partitions no
// longer read here lose their series rather than keep a stale value.
func (m *metrics) lagByTask(e *Engine) map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(e.tasks))
	read := map[topicPartition]bool{}
	for id, t := range e.tasks {
		var sum int64
		for _, tp := range t.inputs {
			sum += m.lags[tp]
			read[tp] = true
		}
		out[id.String()] = sum
	}
	for tp, lag := range m.lags {
		if read[tp] {
			m.lag.WithLabelValues(tp.topic, itoa(tp.partition)).Set(float64(lag))
			m.recordsLag.WithLabelValues(tp.topic, itoa(tp.partition)).Set(float64(lag))
		} else {
			m.lag.DeleteLabelValues(tp.topic, itoa(tp.partition))
			m.recordsLag.DeleteLabelValues(tp.topic, itoa(tp.partition))
			delete(m.lags, tp)
		}
	}
	return out
}

// forgetTask drops the per-task series of a task that stopped running here.
func (m *metrics) forgetTask(id coordinator.TaskID) {
	k := id.String()
	m.restoreSeconds.DeleteLabelValues(k)
	m.restoreRemaining.DeleteLabelValues(k)
	m.process.DeleteLabelValues(k)
	m.storeBytes.DeletePartialMatch(prometheus.Labels{"task": k})
}

// forgetTasks drops the per-task series of every task (all were dropped).
func (m *metrics) forgetTasks() {
	m.restoreSeconds.Reset()
	m.restoreRemaining.Reset()
	m.process.Reset()
	m.storeBytes.Reset()
}

// storeSizes publishes the size RocksDB reports of each persistent store of
// the running tasks: two property reads per store, at each commit.
func (m *metrics) storeSizes(tasks map[coordinator.TaskID]*task) {
	for id, t := range tasks {
		if t.db == nil {
			continue
		}
		for _, sp := range t.stores {
			if !sp.spec.Persistent {
				continue
			}
			p := rocks.StorePartition{Store: sp.spec.Name, Partition: sp.partition}
			sst, ok1 := t.db.IntProperty("rocksdb.total-sst-files-size", &p)
			mem, ok2 := t.db.IntProperty("rocksdb.cur-size-all-mem-tables", &p)
			if ok1 || ok2 {
				m.storeBytes.WithLabelValues(id.String(), sp.spec.Name).Set(float64(sst + mem))
			}
		}
	}
}
