package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// Interactive queries: a key-value store read over HTTP on any replica's
// status address.
//
//	GET /stores/{store}/{key}                       200 {"key":…,"value":…} | 404 absent | 503 + Retry-After: moving
//	GET /stores/{store}?from=&to=&prefix=&limit=&next=   200 {"entries":[{"key":…,"value":…}…],"next":"…"}
//
// A read travels like this:
//
//	handler ─key text─▶ StoreQuery.KeyFromText ─bytes─▶ loop goroutine (between batches):
//	    task of partition runtime.Partition(bytes) runs here and MayRun? ─yes─▶ Flush its typed cache,
//	        read the backend ─▶ StoreQuery.KeyJSON/ValueJSON ─▶ 200 / 404
//	    ─no─▶ the owner's status address from the coordinator ─▶ one proxy hop (the caller's
//	          Authorization header goes along; X-Gofka-Forwarded stops a second hop) ─▶ its answer
//	    no live owner, owner unreachable, or the task is starting here ─▶ 503, Retry-After
//
// Reads run on the loop goroutine, the one that runs the tasks, so they need
// no lock and see what the task has processed so far: the task's typed
// write-back cache is flushed to its backend first (as an eviction does), so
// the backend holds the newest value. A scan asks every partition's owner for
// its first entries after the page's start and merges them in key-byte order.

const (
	forwardedHeader = "X-Gofka-Forwarded"
	retryAfter      = "1" // seconds
	maxScanLimit    = 10_000
	queryTimeout    = 10 * time.Second
)

// storeRead is one read handed to the loop goroutine.
type storeRead struct {
	store      int // index in Program.Stores
	key        []byte
	scan       bool
	partition  int32  // scans: which partition
	from, to   []byte // scans: from <= key < to (nil: unbounded)
	windowed   bool   // a window store's key: its windows starting in [wfrom, wto]
	wfrom, wto int64
	limit      int // scans
	reply      chan readResult
}

// readResult is the loop's answer to a storeRead.
type readResult struct {
	status     int    // 200, 404, or 503 (the task does not run here)
	owner      string // with 503: the status address of the task's live owner, if another replica
	partitions int32
	entry      queryEntry
	windows    []runtime.WindowEntry
	entries    []queryEntry
	more       bool
	err        error
}

// queryEntry is one key and value; Raw, the key's bytes, travels between
// replicas only (the merge of a scan orders by it).
type queryEntry struct {
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
	Raw   []byte          `json:"raw,omitempty"`
}

// scanPage is a scan's answer.
type scanPage struct {
	Entries []queryEntry `json:"entries"`
	Next    string       `json:"next,omitempty"`
}

// serveQueries answers the reads waiting for the loop; the loop calls it
// between batches.
func (e *Engine) serveQueries() {
	if e.status == nil {
		return
	}
	for {
		select {
		case q := <-e.status.reads:
			q.reply <- e.answer(q)
		default:
			return
		}
	}
}

// readRequests is what the idle loop waits on besides the coordinator.
func (e *Engine) readRequests() <-chan *storeRead {
	if e.status == nil {
		return nil
	}
	return e.status.reads
}

// answer runs one read on the loop goroutine.
func (e *Engine) answer(q *storeRead) readResult {
	spec := e.prog.Stores[q.store]
	n := int32(0)
	if spec.SubTopology < len(e.parts) {
		n = e.parts[spec.SubTopology]
	}
	if n == 0 || e.node == nil {
		return readResult{status: http.StatusServiceUnavailable}
	}
	p := q.partition
	if !q.scan {
		p = runtime.Partition(q.key, n)
	}
	if p < 0 || p >= n {
		return readResult{err: fmt.Errorf("store %s has %d partitions, not %d", spec.Name, n, p+1)}
	}
	id := coordinator.TaskID{SubTopology: spec.SubTopology, Partition: p}
	t := e.tasks[id]
	if t == nil || !e.node.MayRun(id) {
		return readResult{status: http.StatusServiceUnavailable, owner: e.ownerStatusAddr(id), partitions: n}
	}
	backend := t.store(spec.Name)
	if backend == nil {
		return readResult{err: fmt.Errorf("task %s has no store %s", id, spec.Name)}
	}
	if c := t.committing; c != nil {
		// Its transaction commits off the loop (txncommit.go): a flush now
		// would write into it. Wait for it; a failed one is the loop's to
		// roll back, and the read waits for that. No flush then: the commit
		// flushed the caches and the task has processed nothing since, and
		// RocksDB must not move before the task's checkpoint, if one waits
		// for this commit (checkpoint.go).
		if <-c.done; c.err != nil {
			return readResult{status: http.StatusServiceUnavailable, partitions: n}
		}
	} else if err := t.t.Flush(); err != nil { // the typed cache holds the newest values
		return readResult{err: fmt.Errorf("task %s: flush before a read: %w", id, err)}
	}
	res := readResult{status: http.StatusOK, partitions: n}
	if q.scan {
		res.entries, res.more, res.err = scanStore(backend, spec.Query, q)
		return res
	}
	if q.windowed {
		res.windows, res.err = spec.Query.Windows(backend, q.key, q.wfrom, q.wto)
		return res
	}
	v, ok, err := backend.Get(q.key)
	if err != nil || !ok {
		return readResult{status: http.StatusNotFound, err: err, partitions: n}
	}
	res.entry, res.err = toEntry(spec.Query, q.key, v)
	return res
}

// store is the backend (without changelog) of the task's partition of store name.
func (t *task) store(name string) state.Backend {
	for _, sp := range t.stores {
		if sp.spec.Name == name {
			return sp.raw
		}
	}
	return nil
}

// ownerStatusAddr is the status address of the live replica other than
// this one that the assignment gives task id, or "".
func (e *Engine) ownerStatusAddr(id coordinator.TaskID) string {
	st := e.node.Status()
	owner := st.Assignment[id.String()]
	if owner == "" || owner == st.Addr {
		return ""
	}
	for _, m := range st.Members {
		if m.Addr == owner && m.State == coordinator.MemberAlive {
			return m.StatusAddr
		}
	}
	return ""
}

func toEntry(q *runtime.StoreQuery, key, value []byte) (queryEntry, error) {
	k, err := q.KeyJSON(key)
	if err != nil {
		return queryEntry{}, fmt.Errorf("decode key: %w", err)
	}
	v, err := q.ValueJSON(value)
	if err != nil {
		return queryEntry{}, fmt.Errorf("decode value of key %s: %w", k, err)
	}
	return queryEntry{Key: k, Value: v, Raw: bytes.Clone(key)}, nil
}

var errPageFull = errors.New("page full")

// scanStore reads up to q.limit entries of one partition in [q.from, q.to),
// and says whether more follow.
func scanStore(b state.Backend, sq *runtime.StoreQuery, q *storeRead) ([]queryEntry, bool, error) {
	ob, ok := b.(state.OrderedBackend)
	if !ok {
		return nil, false, fmt.Errorf("the store's backend cannot scan")
	}
	var out []queryEntry
	more := false
	err := ob.Scan(q.from, q.to, func(k, v []byte) error {
		if len(out) == q.limit {
			more = true
			return errPageFull
		}
		en, err := toEntry(sq, k, v)
		out = append(out, en)
		return err
	})
	if errors.Is(err, errPageFull) {
		err = nil
	}
	return out, more, err
}

// read hands q to the loop goroutine and waits for its answer.
func (s *statusServer) read(ctx context.Context, q *storeRead) readResult {
	q.reply = make(chan readResult, 1)
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	select {
	case s.reads <- q:
	case <-ctx.Done():
		return readResult{status: http.StatusServiceUnavailable} // the loop is busy starting or restoring
	}
	select {
	case r := <-q.reply:
		return r
	case <-ctx.Done():
		return readResult{status: http.StatusServiceUnavailable}
	}
}

// storeIndex finds a queryable store by name.
func storeIndex(prog *runtime.Program, name string) (int, bool) {
	i := slices.IndexFunc(prog.Stores, func(s runtime.StoreSpec) bool { return s.Name == name })
	return i, i >= 0 && prog.Stores[i].Query != nil
}

func unavailable(w http.ResponseWriter, why string) {
	w.Header().Set("Retry-After", retryAfter)
	http.Error(w, why, http.StatusServiceUnavailable)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func encodeToken(key []byte) string { return base64.RawURLEncoding.EncodeToString(key) }

func decodeToken(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func slicesSortByRaw(all []queryEntry) {
	slices.SortFunc(all, func(a, b queryEntry) int { return bytes.Compare(a.Raw, b.Raw) })
}
