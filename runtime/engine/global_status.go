package engine

import (
	"github.com/prometheus/client_golang/prometheus"
)

// globalTableView is one global table in /status.
type globalTableView struct {
	Table string `json:"table"`
	Topic string `json:"topic"`
	// RestoredFrom is "checkpoint" (the local RocksDB store and its recorded
	// offsets) or "start" (the whole topic); RestoredRecords counts the
	// records read at start-up, before any task ran.
	RestoredFrom    string  `json:"restored_from"`
	RestoredRecords int64   `json:"restored_records"`
	RestoreSeconds  float64 `json:"restore_seconds"`
	Applied         int64   `json:"records_applied"` // since the process started, restore included
	Rows            int64   `json:"rows"`            // RocksDB: its estimate
	Lag             int64   `json:"lag"`             // offsets behind the topic's end
	Error           string  `json:"error,omitempty"` // a write failed: the table no longer follows its topic
}

// globalStatus describes the global tables for /status.
func (e *Engine) globalStatus() []globalTableView {
	if e.globals == nil {
		return nil
	}
	var out []globalTableView
	for _, gt := range e.globals.tables {
		lag, rows := gt.lag(), gt.rows()
		gt.mu.Lock()
		v := globalTableView{Table: gt.spec.Name, Topic: gt.topic, RestoredFrom: gt.from, RestoredRecords: gt.restored,
			RestoreSeconds: gt.took.Seconds(), Applied: gt.applied, Rows: rows, Lag: lag}
		if gt.failed != nil {
			v.Error = gt.failed.Error()
		}
		gt.mu.Unlock()
		out = append(out, v)
	}
	return out
}

// registerGlobalMetrics publishes each global table's restore, size and lag.
func (e *Engine) registerGlobalMetrics() {
	for _, gt := range e.globals.tables {
		e.metrics.countGlobalTable(gt.spec.Name,
			func() float64 { gt.mu.Lock(); defer gt.mu.Unlock(); return float64(gt.restored) },
			func() float64 { gt.mu.Lock(); defer gt.mu.Unlock(); return float64(gt.applied) },
			func() float64 { return float64(gt.lag()) })
	}
}

// countGlobalTable publishes a global table's restored records, applied
// records and lag, read at each scrape.
func (m *metrics) countGlobalTable(name string, restored, applied, lag func() float64) {
	labels := prometheus.Labels{"table": name}
	m.register(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gofka_global_table_restored_records", ConstLabels: labels,
			Help: "Records of the global table's topic read at start-up, before any task ran (only the tail after a local checkpoint)."}, restored),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gofka_global_table_applied_records_total", ConstLabels: labels,
			Help: "Records of the global table's topic applied by this process, restore included."}, applied),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gofka_global_table_lag", ConstLabels: labels,
			Help: "Offsets of the global table's topic not yet applied, over all its partitions."}, lag),
	)
}
