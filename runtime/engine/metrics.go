package engine

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
)

// metrics are the replica's Prometheus metrics, served at /metrics by the
// status server. Each Engine has its own registry, so several engines in one
// process (tests) do not collide.
type metrics struct {
	reg               *prometheus.Registry
	processed         prometheus.Counter
	restoreSeconds    *prometheus.GaugeVec
	snapshotFallbacks prometheus.Counter
	checkpoints       *prometheus.CounterVec
	// checkpointPartsFailed counts this replica's task parts of a checkpoint
	// that failed (and were reported, aborting the checkpoint), by phase:
	// local (the RocksDB checkpoint), upload (SST files or the manifest) or
	// rollback (the task was rolled back before it was aligned).
	checkpointPartsFailed *prometheus.CounterVec
	lag                   *prometheus.GaugeVec
	skipped               *prometheus.CounterVec
	deadLettered          *prometheus.CounterVec
	late                  *prometheus.CounterVec
	dropped               *prometheus.CounterVec

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
			Name: "gofka_checkpoint_parts_failed_total", Help: "Task snapshots of a checkpoint that failed on this replica, which then asked the coordinator to abort the checkpoint, by phase (local: the RocksDB checkpoint; upload: its files or manifest; rollback: the task was rolled back before it was aligned).",
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
		lags: map[topicPartition]int64{},
	}
	m.reg.MustRegister(m.processed, m.restoreSeconds, m.snapshotFallbacks, m.checkpoints, m.checkpointPartsFailed, m.lag, m.skipped, m.deadLettered, m.late, m.dropped,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// countPeerTLS publishes gofka_peer_tls_rejected_total when the replicas
// talk over mutual TLS.
func (m *metrics) countPeerTLS(pt *coordinator.PeerTLS) {
	if pt == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
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
		} else {
			m.lag.DeleteLabelValues(tp.topic, itoa(tp.partition))
			delete(m.lags, tp)
		}
	}
	return out
}
