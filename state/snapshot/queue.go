package snapshot

import (
	"context"
	"errors"
)

// ErrQueueFull is returned by Go when the background queue has no room: the
// caller decides (typically: fail the checkpoint) instead of waiting.
var ErrQueueFull = errors.New("snapshot: upload queue is full")

// ErrClosed is returned by Go after Close.
var ErrClosed = errors.New("snapshot: uploader is closed")

// Job is an upload to run in the background: Upload's arguments.
type Job struct {
	Task       string
	Checkpoint uint64
	Dir        string
	Changelog  map[string]int64
	Source     map[string]int64
}

// Result is the outcome of a Job: Upload's results.
type Result struct {
	Job      Job
	Manifest Manifest
	Ref      string
	Stats    UploadStats
	Err      error
}

type queued struct {
	ctx  context.Context
	job  Job
	done func(Result)
}

// Go queues job to run on one of the Uploader's background workers and returns at
// once, so an upload never stalls record processing; done (which may be nil) is
// called with the result on the worker's goroutine, and should not block for long.
// When QueueSize jobs already wait, Go returns ErrQueueFull without queueing;
// after Close it returns ErrClosed. ctx bounds the upload itself.
func (u *Uploader) Go(ctx context.Context, job Job, done func(Result)) error {
	u.qmu.Lock()
	defer u.qmu.Unlock()
	if u.closed {
		return ErrClosed
	}
	if u.queue == nil {
		size := u.QueueSize
		if size <= 0 {
			size = DefaultQueueSize
		}
		u.queue = make(chan queued, size)
		workers := u.Workers
		if workers <= 0 {
			workers = DefaultWorkers
		}
		for range workers {
			u.workers.Add(1)
			go u.work()
		}
	}
	select {
	case u.queue <- queued{ctx: ctx, job: job, done: done}:
		return nil
	default:
		return ErrQueueFull
	}
}

func (u *Uploader) work() {
	defer u.workers.Done()
	for q := range u.queue {
		r := Result{Job: q.job}
		r.Manifest, r.Ref, r.Stats, r.Err = u.Upload(q.ctx, q.job.Task, q.job.Checkpoint, q.job.Dir, q.job.Changelog, q.job.Source)
		if q.done != nil {
			q.done(r)
		}
	}
}

// Close stops Go from accepting jobs and waits until the queued and running ones
// have finished (cancel their contexts to make that quick). Upload still works.
func (u *Uploader) Close() {
	u.qmu.Lock()
	if !u.closed {
		u.closed = true
		if u.queue != nil {
			close(u.queue)
		}
	}
	u.qmu.Unlock()
	u.workers.Wait()
}
