package operators

import (
	"encoding/binary"
	"fmt"

	"github.com/gofka/streams/bench/operators/libchain"
	"github.com/gofka/streams/runtime"
)

// This file runs the click count the way a Go stream library without a compiler
// runs it in practice, on the library in libchain (modelled on goka's and Kafka
// Streams' public APIs; its package comment says which piece mirrors what):
//
//	task 0: source user-clicks ─▶ filter ─▶ map ─▶ sink repartition ─arena─▶
//	task 1: source repartition ─▶ aggregate (store click-counts) ─▶ sink user-click-counts
//
// Unlike interface-chain (chain.go), whose nodes pass []byte end to end, here the
// user's functions are written against the library's any-typed shapes, as a goka
// callback or a Kafka Streams Predicate/KeyValueMapper/Aggregator is: the adapters
// below take a string key and an any value, recover the []byte with a type
// assertion and call the same functions of topology.go. What that forces, per real
// click: the source boxes the decoded value into an any (twice: once per task),
// the mapper's new key becomes a string and its new value is boxed, task 1's
// source turns the repartitioned key into a string, the store decodes (and so
// boxes) the stored count on every Get, and the aggregator's result is boxed. The
// batching, the repartition copy into an arena reused per batch and the sink
// buffer reused per batch are the same as the other implementations'.

// Topic and store names of the library chain's topology.
const (
	libInputTopic       = "user-clicks"
	libRepartitionTopic = "click-count-click-counts-repartition"
	libOutputTopic      = "user-click-counts"
	libStore            = "click-counts"
)

// The user functions of topology.go in the library's shapes. Each asserts the
// []byte its topology.go counterpart takes and fails the record, rather than
// panicking, when a value of another type arrives.

func libIsRealClick(key string, value any) (bool, error) {
	v, ok := value.([]byte)
	if !ok {
		return false, fmt.Errorf("isRealClick: value is %T, want []byte", value)
	}
	return isRealClick([]byte(key), v), nil
}

func libExtractUserInfo(key string, value any) (string, any, error) {
	v, ok := value.([]byte)
	if !ok {
		return "", nil, fmt.Errorf("extractUserInfo: value is %T, want []byte", value)
	}
	k, nv := extractUserInfo([]byte(key), v)
	return string(k), nv, nil
}

func libInitCounter() any { return initCounter() }

func libIncrementCounter(key string, value, agg any) (any, error) {
	v, ok := value.([]byte)
	if !ok {
		return nil, fmt.Errorf("incrementCounter: value is %T, want []byte", value)
	}
	a, ok := agg.([]byte)
	if !ok || len(a) != 8 {
		return nil, fmt.Errorf("incrementCounter: aggregate is %T of %d bytes, want 8 []byte", agg, len(a))
	}
	return incrementCounter(a, v), nil
}

// libRepartition is task 0's producer: the in-memory repartition topic, copying
// each record into an arena reused for every batch, as ChainTopic does.
type libRepartition struct {
	arena   []byte
	records []hwRecord
}

func (t *libRepartition) Emit(topic, key string, value []byte) error {
	if topic != libRepartitionTopic {
		return fmt.Errorf("task 0 emitted to topic %s, want %s", topic, libRepartitionTopic)
	}
	start := len(t.arena)
	t.arena = append(t.arena, key...)
	t.arena = append(t.arena, value...)
	t.records = append(t.records, hwRecord{start, len(key), len(value)})
	return nil
}

// libSink is task 1's producer: it copies output records into a buffer reused for
// every batch and counts them.
type libSink struct {
	buf []byte
	n   int
}

func (s *libSink) Emit(topic, key string, value []byte) error {
	if topic != libOutputTopic {
		return fmt.Errorf("task 1 emitted to topic %s, want %s", topic, libOutputTopic)
	}
	s.buf = append(s.buf, key...)
	s.buf = append(s.buf, value...)
	s.n++
	return nil
}

// LibraryChain is the click count on libchain: two tasks, the repartition topic
// between them, the store's storage and the sink.
type LibraryChain struct {
	tasks   [2]*libchain.Task
	rep     *libRepartition
	batch   []runtime.Record // task 1's input batch, slots reused
	offset  int64            // next offset in the repartition topic
	storage *libchain.MemoryStorage
	sink    *libSink
}

// NewLibraryChain builds the click-count topology with libchain and instantiates
// its two sub-topologies for partition 0.
func NewLibraryChain() (*LibraryChain, error) {
	c := &LibraryChain{rep: &libRepartition{}, storage: libchain.NewMemoryStorage(), sink: &libSink{}}
	var codec libchain.Codec = libchain.Bytes{}

	t0 := libchain.NewTopology()
	for _, err := range []error{
		t0.AddSource("source", libInputTopic, codec),
		t0.AddProcessor("filter", libchain.Filter(libIsRealClick), "source"),
		t0.AddProcessor("map", libchain.Map(libExtractUserInfo), "filter"),
		t0.AddSink("repartition", libRepartitionTopic, codec, "map"),
	} {
		if err != nil {
			return nil, fmt.Errorf("library chain, sub-topology 0: %w", err)
		}
	}
	t1 := libchain.NewTopology()
	for _, err := range []error{
		t1.AddStateStore(libStore, func() libchain.KeyValueStore { return libchain.NewCodecStore(c.storage, codec) }),
		t1.AddSource("source", libRepartitionTopic, codec),
		t1.AddProcessor("aggregate", libchain.Aggregate(libStore, libInitCounter, libIncrementCounter), "source"),
		t1.AddSink("sink", libOutputTopic, codec, "aggregate"),
	} {
		if err != nil {
			return nil, fmt.Errorf("library chain, sub-topology 1: %w", err)
		}
	}
	var err error
	if c.tasks[0], err = t0.NewTask(0, c.rep); err != nil {
		return nil, fmt.Errorf("library chain, sub-topology 0: %w", err)
	}
	if c.tasks[1], err = t1.NewTask(0, c.sink); err != nil {
		return nil, fmt.Errorf("library chain, sub-topology 1: %w", err)
	}
	return c, nil
}

// ProcessBatch runs one batch of user-clicks through task 0, then the records it
// repartitioned through task 1.
func (c *LibraryChain) ProcessBatch(batch []runtime.Record) error {
	c.rep.arena, c.rep.records = c.rep.arena[:0], c.rep.records[:0]
	if err := c.tasks[0].Process(batch); err != nil {
		return err
	}
	c.sink.buf = c.sink.buf[:0]
	c.batch = c.batch[:0]
	for _, r := range c.rep.records {
		c.batch = append(c.batch, runtime.Record{
			Topic:  libRepartitionTopic,
			Offset: c.offset,
			Key:    c.rep.arena[r.start : r.start+r.keyLen],
			Value:  c.rep.arena[r.start+r.keyLen : r.start+r.keyLen+r.valueLen],
		})
		c.offset++
	}
	return c.tasks[1].Process(c.batch)
}

// Run processes records in batches of BatchSize. The store writes through on every
// Put, so there is nothing to commit.
func (c *LibraryChain) Run(records []runtime.Record) error {
	for len(records) > 0 {
		n := min(BatchSize, len(records))
		if err := c.ProcessBatch(records[:n]); err != nil {
			return err
		}
		records = records[n:]
	}
	return nil
}

// Counts decodes the count of every user from the store's storage.
func (c *LibraryChain) Counts() map[string]uint64 {
	m := map[string]uint64{}
	c.storage.Range(func(k string, v []byte) { m[k] = binary.BigEndian.Uint64(v) })
	return m
}

// Outputs is the number of records written to the sink so far.
func (c *LibraryChain) Outputs() int { return c.sink.n }
