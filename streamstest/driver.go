package streamstest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"iter"
	"maps"
	"reflect"
	"slices"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// maxRecordsPerPipe bounds the records one Pipe call may process, so that a topology
// that feeds its own input fails instead of hanging the test.
const maxRecordsPerPipe = 1 << 20

// Driver runs a compiled topology in process. Create it with NewDriver, feed it with
// PipeRaw or an InputTopic, read results with ReadRaw, an OutputTopic or a
// StoreView, and Close it at the end of the test.
type Driver struct {
	p          *runtime.Program
	appID      string
	partitions int32
	now        int64 // timestamp of the next piped record without an explicit one
	cur        int64 // timestamp of the record being processed, given to what it produces
	wall       int64 // wall-clock time given to punctuators (wallclock.go)

	names   []string            // full topic name by TopicID
	readers map[string][]reader // full topic name → the sources that read it
	written map[string]bool     // full names of the topics sinks and stores write
	tasks   [][]runtime.Task    // [sub-topology][partition]
	late    runtime.LateCounter // late records of every task (windowed aggregations)
	nullKey runtime.LateCounter // records every task dropped for a null key
	wm      watermarks          // watermarked sources' marks (watermark.go)
	stores  [][]*storeBackend
	offsets map[string][]int64 // next offset by topic and partition
	logs    map[string][]runtime.Record

	queue   []runtime.Record // records produced to topics that sources read, not yet processed
	pending []runtime.Record // changelog records written by backends, not yet ordered and logged
	closed  bool

	globals []*driverGlobal // global tables (global.go)
}

// reader is one source node: the source-th source of sub-topology sub.
type reader struct{ sub, source int }

type config struct {
	appID        string
	appIDSet     bool
	partitions   int32
	startTime    int64
	cacheEntries int
}

// Option configures a Driver.
type Option func(*config)

// WithAppID sets the application id, from which the full names of internal topics
// derive (runtime.Program.TopicName). The default is the program's DefaultAppID.
func WithAppID(id string) Option {
	return func(c *config) { c.appID, c.appIDSet = id, true }
}

// WithPartitions sets the number of partitions of every topic, and so the number of
// tasks per sub-topology. The default is 1. Keyed records are routed with
// runtime.Partition(key, n); records with a nil key go to partition 0.
func WithPartitions(n int32) Option {
	return func(c *config) { c.partitions = n }
}

// WithStartTime sets the timestamp, in milliseconds since the Unix epoch, of the first
// record piped without an explicit timestamp. Each such record advances the clock by
// 1 ms. The default is 0.
func WithStartTime(ms int64) Option {
	return func(c *config) { c.startTime = ms }
}

// WithCacheEntries bounds each store's write-back cache (runtime.TaskContext.CacheEntries);
// a small bound makes tests exercise cache eviction. The default, 0, leaves the
// choice to the generated code (state.DefaultCacheEntries).
func WithCacheEntries(n int) Option {
	return func(c *config) { c.cacheEntries = n }
}

// NewDriver creates the tasks of every sub-topology of p, one per partition, each
// with its own in-memory store backends whose writes are recorded in the stores'
// changelog topics. It panics if an option is invalid or p is malformed (a store or
// topic index out of range), since either is a bug in the test or in the generator.
func NewDriver(p *runtime.Program, opts ...Option) *Driver {
	c := config{partitions: 1}
	for _, o := range opts {
		o(&c)
	}
	if c.partitions < 1 {
		panic(fmt.Sprintf("streamstest: WithPartitions(%d): need at least 1 partition", c.partitions))
	}
	if !c.appIDSet {
		c.appID = p.DefaultAppID
	}
	d := &Driver{
		p:          p,
		appID:      c.appID,
		partitions: c.partitions,
		now:        c.startTime,
		cur:        c.startTime,
		wall:       c.startTime,
		readers:    map[string][]reader{},
		written:    map[string]bool{},
		offsets:    map[string][]int64{},
		logs:       map[string][]runtime.Record{},
	}
	d.names = make([]string, len(p.Topics))
	for id := range p.Topics {
		d.names[id] = p.TopicName(d.appID, runtime.TopicID(id))
	}
	d.makeStores()
	d.makeGlobals()
	d.makeTasks(c.cacheEntries)
	return d
}

// makeStores makes the memory backends of every store partition, which record
// their writes in the store's changelog topic.
func (d *Driver) makeStores() {
	p := d.p
	d.stores = make([][]*storeBackend, len(p.Stores))
	for i, s := range p.Stores {
		d.checkTopic(s.Changelog, fmt.Sprintf("store %q changelog", s.Name))
		d.stores[i] = make([]*storeBackend, d.partitions)
		topic := d.names[s.Changelog]
		d.written[topic] = true
		for part := range d.stores[i] {
			partition := int32(part)
			mem := state.NewMemoryBackend()
			d.stores[i][part] = &storeBackend{
				Logged:    state.Logged{Backend: mem, Log: func(key, value []byte) { d.logChange(topic, partition, key, value) }},
				mem:       mem,
				partition: partition,
			}
		}
	}
}

// makeTasks makes the tasks of every sub-topology, one per partition.
func (d *Driver) makeTasks(cacheEntries int) {
	p := d.p
	d.tasks = make([][]runtime.Task, len(p.SubTopologies))
	for si, st := range p.SubTopologies {
		for src, ss := range st.Sources {
			for _, id := range ss.Topics {
				d.checkTopic(id, fmt.Sprintf("sub-topology %d source %d", st.ID, src))
				name := d.names[id]
				d.readers[name] = append(d.readers[name], reader{si, src})
			}
		}
		sinks := make([]bool, len(p.Topics))
		for _, id := range st.Sinks {
			d.checkTopic(id, fmt.Sprintf("sub-topology %d sink", st.ID))
			sinks[id] = true
			d.written[d.names[id]] = true
		}
		for _, idx := range st.Stores {
			if idx < 0 || idx >= len(p.Stores) {
				panic(fmt.Sprintf("streamstest: sub-topology %d uses store %d, but the program has %d stores", st.ID, idx, len(p.Stores)))
			}
		}
		if st.NewTask == nil {
			panic(fmt.Sprintf("streamstest: sub-topology %d has no NewTask", st.ID))
		}
		d.tasks[si] = make([]runtime.Task, d.partitions)
		for part := range d.tasks[si] {
			backends := make([]state.Backend, len(st.Stores))
			for j, idx := range st.Stores {
				backends[j] = d.stores[idx][part]
			}
			task := st.NewTask(runtime.TaskContext{
				Partition:    int32(part),
				Out:          &emitter{d: d, sub: si, sinks: sinks},
				Stores:       backends,
				CacheEntries: cacheEntries,
				StreamTime:   runtime.NoTimestamp,
				Late:         &d.late,
				NullKeys:     &d.nullKey,
				Globals:      d.globalViews(),
			})
			if task == nil {
				panic(fmt.Sprintf("streamstest: sub-topology %d: NewTask returned nil", st.ID))
			}
			d.tasks[si][part] = task
		}
	}
}

func (d *Driver) checkTopic(id runtime.TopicID, what string) {
	if id < 0 || int(id) >= len(d.p.Topics) {
		panic(fmt.Sprintf("streamstest: %s is topic %d, but the program has %d topics", what, id, len(d.p.Topics)))
	}
}

// Program is the program the driver runs.
func (d *Driver) Program() *runtime.Program { return d.p }

// AppID is the application id the driver names internal topics with.
func (d *Driver) AppID() string { return d.appID }

// TopicName is the full name of the program's topic id under the driver's
// application id: the name to give ReadRaw or Output for an internal topic.
func (d *Driver) TopicName(id runtime.TopicID) string { return d.names[id] }

// Partitions is the number of partitions of every topic.
func (d *Driver) Partitions() int32 { return d.partitions }

// LateRecords is the number of records windowed aggregations did not add because
// every window they fall in had closed, summed over the tasks.
func (d *Driver) LateRecords() int64 { return d.late.Load() }

// NullKeyRecords is the number of records the tasks dropped for a null key
// before a stateful step or a join.
func (d *Driver) NullKeyRecords() int64 { return d.nullKey.Load() }

// Now is the timestamp the next record piped without an explicit one will get.
func (d *Driver) Now() int64 { return d.now }

// AdvanceTime moves the clock forward by ms milliseconds.
func (d *Driver) AdvanceTime(ms int64) { d.now += ms }

// PipeRaw writes a record to topic, with the clock's timestamp, and processes it and
// everything it causes: records written to repartition topics are read back and
// processed in the order they were produced, and then every task is flushed, as at a
// commit. The clock then advances by 1 ms. key and value are copied; a nil key sends
// the record to partition 0.
//
// Piping to a topic that no source of the program reads is an error. Otherwise the
// result is the failures of processing and flushing, if any: a single failure as it
// is (usually a *runtime.RecordError naming the record), several joined with
// errors.Join. A failing record does not stop the others, and the driver stays
// usable.
func (d *Driver) PipeRaw(topic string, key, value []byte) error {
	return d.pipe(topic, key, value, d.now, true)
}

// PipeRawAt is PipeRaw with an explicit timestamp; it leaves the clock as it is.
func (d *Driver) PipeRawAt(topic string, key, value []byte, timestamp int64) error {
	return d.pipe(topic, key, value, timestamp, false)
}

func (d *Driver) pipe(topic string, key, value []byte, timestamp int64, tick bool) error {
	if d.closed {
		return fmt.Errorf("streamstest: pipe to %q: driver is closed", topic)
	}
	if g := d.globalOf(topic); g != nil && len(d.readers[topic]) == 0 {
		return d.pipeGlobal(g, key, value, timestamp, tick)
	}
	if len(d.readers[topic]) == 0 {
		return fmt.Errorf("streamstest: pipe to %q: no source of %s reads this topic (sources read %s)", topic, d.programName(), d.sourceTopics())
	}
	if tick {
		d.now++
	}
	rec := d.record(topic, key, value, timestamp)
	d.queue = append(d.queue, rec)
	return d.run()
}

func (d *Driver) programName() string {
	if d.p.Name != "" {
		return "program " + d.p.Name
	}
	return "the program"
}

func (d *Driver) sourceTopics() string { return quoteSorted(maps.Keys(d.readers)) }

// writtenTopics lists the topics sink nodes and stores write, for error messages.
func (d *Driver) writtenTopics() string { return quoteSorted(maps.Keys(d.written)) }

func quoteSorted(names iter.Seq[string]) string {
	var quoted []string
	for _, name := range slices.Sorted(names) {
		quoted = append(quoted, fmt.Sprintf("%q", name))
	}
	if len(quoted) == 0 {
		return "no topics"
	}
	return fmt.Sprint(quoted)
}

// topicTypes is the types the program records for the records of topic, a full
// name: none if it does not know the topic or records no types.
func (d *Driver) topicTypes(topic string) runtime.RecordTypes {
	if id := slices.Index(d.names, topic); id >= 0 {
		return d.p.Topics[id].Types
	}
	return runtime.RecordTypes{}
}

// checkTypes compares the types of the serdes key and value a test gave, for keys
// of type k and values of type v, with the types the program records (nil: not
// recorded). what names the topic or store, as in `output topic "counts"`.
func checkTypes(what string, want runtime.RecordTypes, key, value any, k, v reflect.Type) error {
	var errs []error
	if want.Key != nil && want.Key != k {
		errs = append(errs, fmt.Errorf("streamstest: %s has keys of type %v, but the key serde given (%T) is for %v", what, want.Key, key, k))
	}
	if want.Value != nil && want.Value != v {
		errs = append(errs, fmt.Errorf("streamstest: %s has values of type %v, but the value serde given (%T) is for %v", what, want.Value, value, v))
	}
	return joinErrors(errs)
}

// record makes the next record of topic, on the partition of key, owning copies of
// key and value.
func (d *Driver) record(topic string, key, value []byte, timestamp int64) runtime.Record {
	part := int32(0)
	if key != nil {
		part = runtime.Partition(key, d.partitions)
	}
	offs := d.offsets[topic]
	if offs == nil {
		offs = make([]int64, d.partitions)
		d.offsets[topic] = offs
	}
	off := offs[part]
	offs[part]++
	return runtime.Record{
		Topic:     topic,
		Partition: part,
		Offset:    off,
		Timestamp: timestamp,
		Key:       bytes.Clone(key),
		Value:     bytes.Clone(value),
	}
}

// produce logs rec for ReadRaw and, if a source reads its topic, queues it.
func (d *Driver) produce(rec runtime.Record) {
	if g := d.globalOf(rec.Topic); g != nil {
		if err := g.apply(rec); err != nil {
			panic(err) // a memory backend does not fail
		}
	}
	if len(d.readers[rec.Topic]) > 0 {
		d.queue = append(d.queue, rec)
		// The queued record is handed to tasks, which may keep aliases of its bytes;
		// the logged one is handed to the test, which may modify it.
		rec.Key, rec.Value = bytes.Clone(rec.Key), bytes.Clone(rec.Value)
	}
	d.logs[rec.Topic] = append(d.logs[rec.Topic], rec)
}

// run processes the queue until it is empty, flushing every task each time it is.
func (d *Driver) run() error {
	var errs []error
	processed := 0
	for {
		for len(d.queue) > 0 {
			if processed >= maxRecordsPerPipe {
				d.queue = nil
				errs = append(errs, fmt.Errorf("streamstest: one piped record caused more than %d records; does the topology feed its own input?", maxRecordsPerPipe))
				break
			}
			rec := d.queue[0]
			d.queue[0] = runtime.Record{}
			d.queue = d.queue[1:]
			processed++
			d.cur = rec.Timestamp
			for _, r := range d.readers[rec.Topic] {
				batch := []runtime.Record{rec}
				err := runtime.ProcessSafely(d.tasks[r.sub][rec.Partition], r.source, batch)
				d.logChangelog()
				if err != nil {
					errs = append(errs, err)
				} else {
					d.observe(r.sub, rec.Topic, rec.Partition, batch[0].Timestamp) // as the source's extractor left it
				}
			}
			errs = append(errs, d.advanceWatermarks()...)
		}
		errs = append(errs, d.flushTasks()...)
		if len(d.queue) == 0 {
			break
		}
	}
	d.queue = d.queue[:0:0]
	return joinErrors(errs)
}

// flushTasks flushes every task, in sub-topology then partition order.
func (d *Driver) flushTasks() []error {
	var errs []error
	for si, tasks := range d.tasks {
		for part, task := range tasks {
			err := flushSafely(task)
			d.logChangelog()
			if err != nil {
				errs = append(errs, fmt.Errorf("streamstest: flush sub-topology %d partition %d: %w", d.p.SubTopologies[si].ID, part, err))
			}
		}
	}
	return errs
}

func flushSafely(task runtime.Task) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return task.Flush()
}

// logChangelog moves the changelog records the backends saw into the changelog
// topics. A cache flushes its entries in map order, so the records of one step are
// sorted by topic, partition and key (stably: a key written twice keeps its last
// value last) to keep the output the same on every run.
func (d *Driver) logChangelog() {
	if len(d.pending) == 0 {
		return
	}
	slices.SortStableFunc(d.pending, func(a, b runtime.Record) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition), bytes.Compare(a.Key, b.Key))
	})
	for _, rec := range d.pending {
		offs := d.offsets[rec.Topic]
		if offs == nil {
			offs = make([]int64, d.partitions)
			d.offsets[rec.Topic] = offs
		}
		rec.Offset = offs[rec.Partition]
		offs[rec.Partition]++
		d.produce(rec)
	}
	clear(d.pending)
	d.pending = d.pending[:0]
}

func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// ReadRaw drains the records produced to topic since the last read, in the order
// they were produced. topic is a full name: a sink topic's own name, or for an
// internal topic (repartition or changelog) the name TopicName gives. Records piped
// to input topics are not listed.
func (d *Driver) ReadRaw(topic string) []runtime.Record {
	recs := d.logs[topic]
	delete(d.logs, topic)
	return recs
}

// pendingOutput is the number of records produced to topic and not yet read.
func (d *Driver) pendingOutput(topic string) int { return len(d.logs[topic]) }

// Close flushes every task and stops the driver: later pipes fail. Outputs and
// stores can still be read.
func (d *Driver) Close() error {
	if d.closed {
		return nil
	}
	err := joinErrors(d.flushTasks())
	d.closed = true
	return err
}

// sync makes the stores reflect every processed record, for store views.
func (d *Driver) sync() error {
	if d.closed {
		return nil
	}
	return d.run()
}

// emitter is the runtime.Emitter of the tasks of one sub-topology.
type emitter struct {
	d     *Driver
	sub   int
	sinks []bool // by TopicID: the topics the sub-topology declares it emits to
}

// Emit copies the record and produces it to topic, on the partition of its key. A
// topic the sub-topology does not declare in SubTopologySpec.Sinks is a bug in the
// generated code, and panics.
func (e *emitter) Emit(topic runtime.TopicID, key, value []byte, timestamp int64) {
	d := e.d
	if topic < 0 || int(topic) >= len(e.sinks) || !e.sinks[topic] {
		panic(fmt.Sprintf("streamstest: sub-topology %d emitted to topic %d, which is not among its sinks %v",
			d.p.SubTopologies[e.sub].ID, topic, d.p.SubTopologies[e.sub].Sinks))
	}
	d.produce(d.record(d.names[topic], key, value, timestamp))
}

// storeBackend is a store backend of one task partition: a memory backend whose
// writes state.Logged also records in the store's changelog topic.
type storeBackend struct {
	state.Logged
	mem       *state.MemoryBackend
	partition int32
}

// logChange records a store write of topic's partition as a changelog record
// (nil value: a delete), copied, since the writer reuses its buffers.
func (d *Driver) logChange(topic string, partition int32, key, value []byte) {
	d.pending = append(d.pending, runtime.Record{
		Topic:     topic,
		Partition: partition,
		Timestamp: d.cur,
		Key:       bytes.Clone(key),
		Value:     bytes.Clone(value),
	})
}
