package engine

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gofka/streams/coordinator"
)

// The status server: one small HTTP server per replica (loopback by default).
//
//	GET /         the live web view: topology diagram, members, assignment, checkpoints, task lag and
//	              throughput (runtime/webview; its data from GET /ui/group.json, webview.go)
//	GET /status   members, leader, assignment and its history, checkpoint history, this replica's tasks
//	              with where their state came from, how long restoring took, their input lag and stream
//	              time, and the records skipped or dead-lettered per input partition (JSON)
//	GET /healthz  200 while the process serves requests (liveness)
//	GET /readyz   200 once the replica is a member of the group and runs every task assigned to it,
//	              503 with the reason otherwise (readiness)
//	GET /metrics  Prometheus metrics
//	GET /stores/… interactive queries of key-value stores (query.go)
//
// With Config.StatusTLSCert and StatusTLSKey it serves HTTPS; with
// StatusTokenFile every path but /healthz and /readyz needs the token as a
// bearer token (statusauth.go).
type statusServer struct {
	addr string
	srv  *http.Server

	mu   sync.Mutex
	view replicaView // written by the engine's loop, read by handlers

	// Interactive queries (query.go): reads wait in reads for the loop
	// goroutine; client and scheme make the hop to another replica.
	reads  chan *storeRead
	client *http.Client
	scheme string
}

// replicaView is this replica's part of /status.
type replicaView struct {
	App     string     `json:"app"`
	Replica string     `json:"replica"`
	Tasks   []taskView `json:"tasks"`
	// Standbys are the standby tasks kept here and their changelog lag
	// (standby.go).
	Standbys  []StandbyStatus `json:"standbys,omitempty"`
	Processed int64           `json:"records_processed"`
	// Skipped and DeadLettered count the bad records since the process
	// started, in all and (BadRecords) per input partition.
	Skipped      int64           `json:"records_skipped"`
	DeadLettered int64           `json:"records_dead_lettered"`
	BadRecords   []badRecordView `json:"bad_records"`
	Updated      time.Time       `json:"updated"`
	// Globals are the global tables, read whole by every replica.
	Globals []globalTableView `json:"global_tables,omitempty"`
}

// badRecordView is what the bad-record policy did on one input partition.
type badRecordView struct {
	Topic        string `json:"topic"`
	Partition    int32  `json:"partition"`
	Skipped      int64  `json:"skipped"`
	DeadLettered int64  `json:"dead_lettered"`
}

type taskView struct {
	Task            string  `json:"task"`
	StateFrom       string  `json:"state_from"`
	RestoreSeconds  float64 `json:"restore_seconds"`
	RestoredRecords int64   `json:"changelog_records_replayed"`
	Lag             int64   `json:"input_lag"`
	// Processed counts the input records the task processed since it started
	// here (the web view's throughput is its change over time).
	Processed int64 `json:"records_processed"`
	// Starts counts the starts of the task in this process (each restores
	// its state); Rollbacks the times it alone was rolled back after its
	// transaction aborted (exactly-once), each followed by a start.
	Starts    int `json:"starts"`
	Rollbacks int `json:"rollbacks"`
	// StreamTime is the largest record timestamp the task has read (ms since
	// the epoch; -1 before its first record), carried across restarts and
	// moves with the committed offsets (streamtime.go).
	StreamTime int64 `json:"stream_time_ms"`
	// LateRecords counts the records the task's windowed aggregations did not
	// add because their windows had closed, since the task started here.
	LateRecords int64 `json:"late_records"`
	// NullKeyRecords counts the records dropped for a null key before a
	// stateful step or a join, since the task started here.
	NullKeyRecords int64 `json:"null_key_records"`
	// Watermark is the task's watermark (-1: none, or none yet): the
	// smallest over its inputs (watermark.go).
	Watermark int64 `json:"watermark_ms"`
}

func startStatus(e *Engine, addr string) (*statusServer, error) {
	sec, err := loadStatusSecurity(&e.cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("status endpoint: %w", err)
	}
	s := &statusServer{addr: ln.Addr().String(), reads: make(chan *storeRead), client: hopClient(&e.cfg), scheme: "http://"}
	if sec.tls != nil {
		s.scheme = "https://"
	}
	mux := http.NewServeMux()
	s.queryHandlers(e, mux)
	s.mountWebView(e, mux)
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		view := s.view
		s.mu.Unlock()
		out := struct {
			Replica     replicaView         `json:"replica"`
			Checkpoints []checkpointRecord  `json:"local_checkpoints"`
			Cluster     *coordinator.Status `json:"cluster,omitempty"`
		}{Replica: view, Checkpoints: e.ckpt.history()}
		if node := e.liveNode.Load(); node != nil {
			st := node.Status()
			out.Cluster = &st
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if why := e.notReady(); why != "" {
			http.Error(w, why, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.metrics.reg, promhttp.HandlerOpts{}))
	s.srv = &http.Server{Handler: sec.wrap(mux), ReadHeaderTimeout: 5 * time.Second}
	scheme := "http://"
	if sec.tls != nil {
		ln = tls.NewListener(ln, sec.tls)
		scheme = "https://"
	}
	sec.warnExposed(s.addr, e.log)
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Warn("status endpoint stopped", "err", err)
		}
	}()
	e.log.Info("status endpoint", "addr", scheme+s.addr, "token", sec.token != nil)
	return s, nil
}

func (s *statusServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.srv.Shutdown(ctx)
}

// notReady says why the replica is not ready, or "" when it is.
func (e *Engine) notReady() string {
	node := e.liveNode.Load()
	if node == nil {
		return "starting: not yet a member of the coordinator group"
	}
	if why := node.NotReady(); why != "" {
		return why
	}
	e.status.mu.Lock()
	running := len(e.status.view.Tasks)
	e.status.mu.Unlock()
	if want := len(node.Mine()); running < want {
		return fmt.Sprintf("restoring: %d of %d assigned tasks running", running, want)
	}
	return ""
}

// publishView refreshes what /status shows of this replica; the loop calls it
// when tasks change and at every commit.
func (e *Engine) publishView(lags map[string]int64) {
	e.metrics.storeSizes(e.tasks)
	for id, t := range e.tasks {
		if n := t.late.Load(); n > t.lateShown {
			e.metrics.late.WithLabelValues(id.String()).Add(float64(n - t.lateShown))
			t.lateShown = n
		}
		if n := t.nullKeys.Load(); n > t.nullKeysShown {
			e.metrics.dropped.WithLabelValues(id.String(), "null-key").Add(float64(n - t.nullKeysShown))
			t.nullKeysShown = n
		}
	}
	if e.status == nil {
		return
	}
	v := replicaView{App: e.cfg.AppID, Replica: e.cfg.ReplicaID, Processed: e.processed,
		Skipped: e.bad.skipped, DeadLettered: e.bad.deadLettered, BadRecords: []badRecordView{}, Updated: time.Now()}
	for id, t := range e.tasks {
		c := e.counts(id)
		v.Tasks = append(v.Tasks, taskView{Task: id.String(), StateFrom: t.restoredFrom,
			RestoreSeconds: t.restoreTime.Seconds(), RestoredRecords: t.restoredRecords, Lag: lags[id.String()], Processed: t.processed,
			Starts: c.starts, Rollbacks: c.rollbacks, StreamTime: t.t.StreamTime(), Watermark: e.wm.of(id), LateRecords: t.late.Load(), NullKeyRecords: t.nullKeys.Load()})
	}
	sort.Slice(v.Tasks, func(i, j int) bool { return v.Tasks[i].Task < v.Tasks[j].Task })
	for tp, c := range e.bad.byPartition {
		v.BadRecords = append(v.BadRecords, badRecordView{Topic: tp.topic, Partition: tp.partition, Skipped: c.skipped, DeadLettered: c.deadLettered})
	}
	slices.SortFunc(v.BadRecords, func(a, b badRecordView) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	v.Globals = e.globalStatus()
	v.Standbys = e.standbyView()
	e.status.mu.Lock()
	e.status.view = v
	e.status.mu.Unlock()
}

func itoa(p int32) string { return strconv.Itoa(int(p)) }
