package engine

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gofka/streams/state/snapshot"
)

// Fault hooks, for tests: each phase of exactly-once processing can be made to
// fail once, the n-th time it runs in a process, by setting its variable to n
// (test/e2e/eos_test.go). The variables are read once at start; unset (or 0),
// a hook costs one comparison and changes nothing.
//
//	variable                    phase          what fails
//	GOFKA_TEST_PANIC_EMIT       processing     the n-th record a task emits panics, as a user function would
//	GOFKA_TEST_FAULT_FLUSH      flush          the n-th Task.Flush (caches ─▶ RocksDB + changelog) of a task that produced records returns an error
//	GOFKA_TEST_FAULT_PRODUCE    produce        the n-th record a task produces (output, repartition, changelog, barrier) fails as in its produce callback
//	GOFKA_TEST_ABORT_COMMIT     offset commit  the n-th transactional commit that produced records fails after TxnOffsetCommit, before EndTxn
//	GOFKA_TEST_ENDTXN_TIMEOUT   EndTxn         the n-th such commit's EndTxn runs under a context that has already timed out
//	GOFKA_TEST_FAULT_UPLOAD     snapshot SST   the n-th Put of a snapshot's SST file fails
//	GOFKA_TEST_FAULT_MANIFEST   manifest write the n-th Put of a snapshot manifest fails
//	GOFKA_TEST_FAULT_RESTORE    restore        the n-th snapshot download of a restoring task fails
//
// GOFKA_TEST_FAULT_TASK=<task id> (e.g. 1_2) makes the offset-commit and
// EndTxn hooks count only that task's commits, so that a test can fail the
// transaction of a task with state.
type fault struct {
	name string
	at   int64 // the occurrence that fails; 0: never
	n    atomic.Int64
}

// hit counts an occurrence of the phase and reports whether it is the one
// that fails.
func (f *fault) hit() bool {
	return f.at > 0 && f.n.Add(1) == f.at
}

func (f *fault) err() error { return errors.New("fault injected by " + f.name) }

func newFault(name string) *fault {
	at, _ := strconv.ParseInt(os.Getenv(name), 10, 64)
	return &fault{name: name, at: at}
}

var (
	faultPanicEmit     = newFault("GOFKA_TEST_PANIC_EMIT")
	faultFlush         = newFault("GOFKA_TEST_FAULT_FLUSH")
	faultProduce       = newFault("GOFKA_TEST_FAULT_PRODUCE")
	faultAbortCommit   = newFault("GOFKA_TEST_ABORT_COMMIT")
	faultEndTxnTimeout = newFault("GOFKA_TEST_ENDTXN_TIMEOUT")
	faultUpload        = newFault("GOFKA_TEST_FAULT_UPLOAD")
	faultManifest      = newFault("GOFKA_TEST_FAULT_MANIFEST")
	faultRestore       = newFault("GOFKA_TEST_FAULT_RESTORE")

	faultTask = os.Getenv("GOFKA_TEST_FAULT_TASK") // "": every task
)

// faultyStore wraps the snapshot store the uploader writes to when an upload
// or manifest fault is set: the engine's side of state/snapshot, which stays
// free of test hooks.
func faultyStore(s snapshot.Store) snapshot.Store {
	if faultUpload.at <= 0 && faultManifest.at <= 0 {
		return s
	}
	return faultStore{s}
}

type faultStore struct{ snapshot.Store }

func (s faultStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	var f *fault
	switch {
	case strings.HasSuffix(key, ".sst"):
		f = faultUpload
	case strings.HasSuffix(key, "/manifest.json"):
		f = faultManifest
	}
	if f != nil && f.hit() {
		return f.err()
	}
	return s.Store.Put(ctx, key, r, size)
}
