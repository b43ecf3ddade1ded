package engine

import "github.com/prometheus/client_golang/prometheus"

// memoryMetrics are the gauges of the memory-pressure reaction (pressure.go),
// set at each commit: the typed caches' entry bound in force and what RocksDB
// holds outside the Go heap.
type memoryMetrics struct {
	cacheBound prometheus.Gauge
	rocks      *prometheus.GaugeVec
}

func (m *metrics) countMemory() *memoryMetrics {
	mm := &memoryMetrics{
		cacheBound: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gofka_cache_entries_bound",
			Help: "Entries each store partition's typed write-back cache may hold: its share of --memory, lowered while the Go heap or the resident set nears its part of the budget; set at each commit.",
		}),
		rocks: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gofka_rocksdb_memory_bytes",
			Help: "What RocksDB holds in memory, all task instances together, by kind (memtables: rocksdb.size-all-mem-tables; block_cache and block_cache_pinned: the shared cache's usage; table_readers: rocksdb.estimate-table-readers-mem); set at each commit.",
		}, []string{"kind"}),
	}
	m.register(mm.cacheBound, mm.rocks)
	return mm
}
