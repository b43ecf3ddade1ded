package streamstest

import (
	"fmt"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// Global tables in the driver: each is one memory backend, shared by every
// task (runtime.TaskContext.Globals), as a replica's copy is shared by its
// tasks. A record piped (or written by a sink) to a global table's topic
// updates the table at once, before any record piped after it is processed: a
// running replica applies its global topics concurrently with processing, and
// the driver shows the order a test means (the table first, then the stream).
// A nil value deletes the key.
type driverGlobal struct {
	spec   runtime.GlobalSpec
	topic  string
	shared *state.Shared
	mem    *state.MemoryBackend
}

// makeGlobals makes the backend of every global table.
func (d *Driver) makeGlobals() {
	for _, spec := range d.p.Globals {
		d.checkTopic(spec.Topic, fmt.Sprintf("global table %q", spec.Name))
		mem := state.NewMemoryBackend()
		d.globals = append(d.globals, &driverGlobal{spec: spec, topic: d.names[spec.Topic], shared: state.NewShared(mem), mem: mem})
	}
}

// globalViews are the views of the global tables a new task gets.
func (d *Driver) globalViews() []state.Backend {
	var out []state.Backend
	for _, g := range d.globals {
		out = append(out, g.shared.View())
	}
	return out
}

// globalOf returns the global table reading topic, if any.
func (d *Driver) globalOf(topic string) *driverGlobal {
	for _, g := range d.globals {
		if g.topic == topic {
			return g
		}
	}
	return nil
}

// applyGlobal applies a record of a global table's topic to its table.
func (g *driverGlobal) apply(rec runtime.Record) error {
	var err error
	if rec.Value == nil {
		err = g.shared.Delete(rec.Key)
	} else {
		err = g.shared.Put(rec.Key, rec.Value)
	}
	if err != nil {
		return fmt.Errorf("streamstest: global table %q: %s partition %d offset %d: %w", g.spec.Name, rec.Topic, rec.Partition, rec.Offset, err)
	}
	return nil
}

// pipeGlobal applies a record piped to a global table's topic.
func (d *Driver) pipeGlobal(g *driverGlobal, key, value []byte, timestamp int64, tick bool) error {
	if tick {
		d.now++
	}
	return g.apply(d.record(g.topic, key, value, timestamp))
}

// GlobalLen is the number of rows of global table name; it panics if the
// program has no such global table.
func (d *Driver) GlobalLen(name string) int {
	for _, g := range d.globals {
		if g.spec.Name == name {
			return g.mem.Len()
		}
	}
	panic(fmt.Sprintf("streamstest: %s has no global table %q", d.programName(), name))
}
