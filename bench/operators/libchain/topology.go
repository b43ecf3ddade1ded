package libchain

import (
	"errors"
	"fmt"

	"github.com/gofka/streams/runtime"
)

// Topology describes a graph of sources, processors and sinks, wired by name as
// with Kafka Streams' low-level Topology API (addSource, addProcessor, addSink,
// addStateStore). A node's parents must be added before it. NewTask instantiates
// the graph for one partition.
type Topology struct {
	nodes  []*nodeSpec
	byName map[string]*nodeSpec
	topics map[string]bool // topics that have a source
	stores map[string]StoreSupplier
}

type nodeKind int

const (
	sourceKind nodeKind = iota
	processorKind
	sinkKind
)

type nodeSpec struct {
	name     string
	kind     nodeKind
	topic    string // of a source or sink
	codec    Codec  // of a source or sink
	supplier ProcessorSupplier
	parents  []string
}

// NewTopology returns an empty topology.
func NewTopology() *Topology {
	return &Topology{byName: map[string]*nodeSpec{}, topics: map[string]bool{}, stores: map[string]StoreSupplier{}}
}

// AddSource adds a node that reads topic, turns each key into a string and decodes
// each value with codec (Kafka Streams' addSource with a value deserializer; goka's
// Input(topic, codec, callback)).
func (t *Topology) AddSource(name, topic string, codec Codec) error {
	if codec == nil {
		return fmt.Errorf("source %s: no codec", name)
	}
	if t.topics[topic] {
		return fmt.Errorf("source %s: topic %s already has a source", name, topic)
	}
	if err := t.add(&nodeSpec{name: name, kind: sourceKind, topic: topic, codec: codec}); err != nil {
		return err
	}
	t.topics[topic] = true
	return nil
}

// AddProcessor adds a processor that receives what its parents forward.
func (t *Topology) AddProcessor(name string, supplier ProcessorSupplier, parents ...string) error {
	if supplier == nil {
		return fmt.Errorf("processor %s: no supplier", name)
	}
	return t.add(&nodeSpec{name: name, kind: processorKind, supplier: supplier, parents: parents})
}

// AddSink adds a node that encodes each value with codec and emits the record to
// topic through the task's Producer (Kafka Streams' addSink with a value
// serializer; goka's Output(topic, codec) with ctx.Emit, or Loop with
// ctx.Loopback).
func (t *Topology) AddSink(name, topic string, codec Codec, parents ...string) error {
	if codec == nil {
		return fmt.Errorf("sink %s: no codec", name)
	}
	return t.add(&nodeSpec{name: name, kind: sinkKind, topic: topic, codec: codec, parents: parents})
}

// AddStateStore adds a store that every processor of a task can get by name.
func (t *Topology) AddStateStore(name string, supplier StoreSupplier) error {
	if supplier == nil {
		return fmt.Errorf("store %s: no supplier", name)
	}
	if _, ok := t.stores[name]; ok {
		return fmt.Errorf("store %s added twice", name)
	}
	t.stores[name] = supplier
	return nil
}

func (t *Topology) add(n *nodeSpec) error {
	if n.name == "" {
		return errors.New("a node needs a name")
	}
	if _, ok := t.byName[n.name]; ok {
		return fmt.Errorf("node %s added twice", n.name)
	}
	if n.kind != sourceKind && len(n.parents) == 0 {
		return fmt.Errorf("node %s has no parent", n.name)
	}
	for _, p := range n.parents {
		parent, ok := t.byName[p]
		if !ok {
			return fmt.Errorf("node %s: parent %s not added yet", n.name, p)
		}
		if parent.kind == sinkKind {
			return fmt.Errorf("node %s: parent %s is a sink", n.name, p)
		}
	}
	t.nodes = append(t.nodes, n)
	t.byName[n.name] = n
	return nil
}

// node is a task's instance of a nodeSpec (Kafka Streams' ProcessorNode).
type node struct {
	name     string
	codec    Codec     // a source's
	proc     Processor // nil for a source
	children []*node
}

// Task runs the records of one partition of the topology's source topics through
// its own instances of the processors and stores (Kafka Streams' StreamTask).
type Task struct {
	sources map[string]*node // by topic
	ctx     taskContext
	// the source of the last record's topic, so a batch of one topic looks its
	// source up once, as Kafka Streams' per-partition RecordQueue holds its
	// SourceNode.
	lastTopic  string
	lastSource *node
}

// NewTask instantiates the topology for one partition: a fresh processor from each
// supplier, a fresh store from each store supplier, every sink emitting to out,
// then Init on every processor in the order added.
func (t *Topology) NewTask(partition int32, out Producer) (*Task, error) {
	if out == nil {
		return nil, errors.New("new task: no producer")
	}
	task := &Task{sources: map[string]*node{}}
	task.ctx = taskContext{partition: partition, stores: make(map[string]KeyValueStore, len(t.stores))}
	for name, supply := range t.stores {
		s := supply()
		if s == nil {
			return nil, fmt.Errorf("new task: store supplier %s returned nil", name)
		}
		task.ctx.stores[name] = s
	}
	nodes := make(map[string]*node, len(t.nodes))
	for _, spec := range t.nodes {
		n := &node{name: spec.name}
		switch spec.kind {
		case sourceKind:
			n.codec = spec.codec
			task.sources[spec.topic] = n
		case processorKind:
			if n.proc = spec.supplier(); n.proc == nil {
				return nil, fmt.Errorf("new task: supplier of processor %s returned nil", spec.name)
			}
		case sinkKind:
			n.proc = &sink{topic: spec.topic, codec: spec.codec, out: out}
		}
		for _, p := range spec.parents {
			nodes[p].children = append(nodes[p].children, n)
		}
		nodes[spec.name] = n
	}
	for _, spec := range t.nodes {
		n := nodes[spec.name]
		if n.proc == nil {
			continue
		}
		task.ctx.current = n
		if err := n.proc.Init(&task.ctx); err != nil {
			return nil, fmt.Errorf("new task: init %s: %w", n.name, err)
		}
	}
	task.ctx.current = nil
	return task, nil
}

// Process runs a fetched batch through the graph, one record at a time, each from
// its topic's source to every sink it reaches. It stops at the first record that
// fails, naming it.
func (t *Task) Process(batch []runtime.Record) error {
	for i := range batch {
		r := &batch[i]
		src := t.lastSource
		if src == nil || r.Topic != t.lastTopic {
			if src = t.sources[r.Topic]; src == nil {
				return r.Fail("route", fmt.Errorf("no source reads topic %s", r.Topic))
			}
			t.lastTopic, t.lastSource = r.Topic, src
		}
		if err := t.ctx.process(src, r); err != nil {
			return r.Fail("source "+src.name, err)
		}
	}
	return nil
}

// Store returns the task's instance of the named store.
func (t *Task) Store(name string) (KeyValueStore, error) { return t.ctx.StateStore(name) }

// taskContext is the one Context of a task, reused for every record (goka makes a
// cbContext per message; Kafka Streams' ProcessorContextImpl is per task). It
// tracks the node running, as Kafka Streams' context does, so that Forward knows
// whose children to call.
type taskContext struct {
	partition int32
	stores    map[string]KeyValueStore
	rec       *runtime.Record // the input record being processed
	current   *node
}

// process decodes r at source src and forwards it (goka's partition processor:
// codec.Decode(msg.Value), then the callback with string(msg.Key) as ctx.Key();
// Kafka Streams' SourceNode.process after deserializeKey/deserializeValue).
func (c *taskContext) process(src *node, r *runtime.Record) error {
	v, err := src.codec.Decode(r.Value)
	if err != nil {
		return fmt.Errorf("decode value: %w", err)
	}
	c.rec, c.current = r, src
	err = c.Forward(Record{Key: string(r.Key), Value: v, Timestamp: r.Timestamp})
	c.rec, c.current = nil, nil
	return err
}

// Forward implements Context: it runs rec through every child of the current node
// (Kafka Streams' ProcessorContextImpl.forward).
func (c *taskContext) Forward(rec Record) error {
	parent := c.current
	for _, child := range parent.children {
		c.current = child
		if err := child.proc.Process(rec); err != nil {
			c.current = parent
			return fmt.Errorf("%s: %w", child.name, err)
		}
	}
	c.current = parent
	return nil
}

// StateStore implements Context.
func (c *taskContext) StateStore(name string) (KeyValueStore, error) {
	s, ok := c.stores[name]
	if !ok {
		return nil, fmt.Errorf("no state store %s", name)
	}
	return s, nil
}

// Topic implements Context; it is empty outside Process.
func (c *taskContext) Topic() string {
	if c.rec == nil {
		return ""
	}
	return c.rec.Topic
}

// Partition implements Context.
func (c *taskContext) Partition() int32 { return c.partition }

// Offset implements Context; it is -1 outside Process.
func (c *taskContext) Offset() int64 {
	if c.rec == nil {
		return -1
	}
	return c.rec.Offset
}
