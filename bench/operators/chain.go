package operators

import (
	"fmt"

	"github.com/gofka/streams/runtime"
)

// This file runs the click count the way a stream library without a compiler does:
// a graph of operator nodes behind an interface, each holding its successor and
// calling the user's functions through func-typed fields, with serdes behind an
// interface and a state store that serializes on every access, as Kafka Streams'
// un-cached (MeteredKeyValueStore over an in-memory store) stores do. It is written
// in good faith: no node allocates in steady state, buffers are reused, and the
// batching and the repartition hop are the same as the generated path's.
//
//	SourceNode → FilterNode → MapNode → RepartitionNode ─arena─▶ SourceNode → AggregateNode → SinkNode
//
// What it pays that the generated code does not: an interface call per node per
// record, calls through func values the compiler cannot inline, interface calls to
// the serdes at every boundary, and a store that encodes the key and decodes the
// value on every Get and encodes both again on every Put, instead of a typed cache
// that keeps the aggregate as a Go value between records.

// Processor is one node of the graph.
type Processor interface {
	Process(key, value []byte) error
}

// Serde converts between bytes and a node's key or value type (here []byte, as in
// the seed API). Serialize appends to dst.
type Serde interface {
	Serialize(dst, v []byte) ([]byte, error)
	Deserialize(data []byte) ([]byte, error)
}

// BytesSerde passes bytes through, as Kafka's ByteArraySerde does.
type BytesSerde struct{}

// Serialize appends v to dst.
func (BytesSerde) Serialize(dst, v []byte) ([]byte, error) { return append(dst, v...), nil }

// Deserialize returns data itself.
func (BytesSerde) Deserialize(data []byte) ([]byte, error) { return data, nil }

// SourceNode deserializes the records of a topic and forwards them.
type SourceNode struct {
	KeySerde, ValueSerde Serde
	Next                 Processor
}

// ProcessRecord runs one record through the graph.
func (n *SourceNode) ProcessRecord(r *runtime.Record) error {
	k, err := n.KeySerde.Deserialize(r.Key)
	if err != nil {
		return r.Fail("deserialize key", err)
	}
	v, err := n.ValueSerde.Deserialize(r.Value)
	if err != nil {
		return r.Fail("deserialize value", err)
	}
	return n.Next.Process(k, v)
}

// FilterNode forwards the records Predicate keeps.
type FilterNode struct {
	Predicate func(key, value []byte) bool
	Next      Processor
}

// Process implements Processor.
func (n *FilterNode) Process(key, value []byte) error {
	if !n.Predicate(key, value) {
		return nil
	}
	return n.Next.Process(key, value)
}

// MapNode forwards Mapper's result.
type MapNode struct {
	Mapper func(key, value []byte) ([]byte, []byte)
	Next   Processor
}

// Process implements Processor.
func (n *MapNode) Process(key, value []byte) error {
	k, v := n.Mapper(key, value)
	return n.Next.Process(k, v)
}

// RepartitionNode serializes records and writes them to a repartition topic.
type RepartitionNode struct {
	KeySerde, ValueSerde Serde
	Topic                *ChainTopic
	keyBuf, valueBuf     []byte
}

// Process implements Processor.
func (n *RepartitionNode) Process(key, value []byte) error {
	var err error
	if n.keyBuf, err = n.KeySerde.Serialize(n.keyBuf[:0], key); err != nil {
		return fmt.Errorf("serialize key: %w", err)
	}
	if n.valueBuf, err = n.ValueSerde.Serialize(n.valueBuf[:0], value); err != nil {
		return fmt.Errorf("serialize value: %w", err)
	}
	n.Topic.Append(n.keyBuf, n.valueBuf)
	return nil
}

// ChainTopic is the in-memory repartition topic between the chain's two
// sub-topologies: an arena the records of one batch are copied into.
type ChainTopic struct {
	arena   []byte
	records []hwRecord
}

// Append copies one record into the topic.
func (t *ChainTopic) Append(key, value []byte) {
	start := len(t.arena)
	t.arena = append(t.arena, key...)
	t.arena = append(t.arena, value...)
	t.records = append(t.records, hwRecord{start, len(key), len(value)})
}

// Reset empties the topic for the next batch.
func (t *ChainTopic) Reset() { t.arena, t.records = t.arena[:0], t.records[:0] }

// KeyValueStore is a byte-level view of a store from an aggregation's side.
type KeyValueStore interface {
	Get(key []byte) (value []byte, found bool, err error)
	Put(key, value []byte) error
}

// SerdeStore is a map[string][]byte store that serializes the key on every access,
// deserializes the value on every Get and serializes it on every Put. It copies
// what it is given and reuses a stored value's bytes when they fit, so it allocates
// only for a new key.
type SerdeStore struct {
	KeySerde, ValueSerde Serde
	m                    map[string][]byte
	keyBuf, valueBuf     []byte
}

// NewSerdeStore returns an empty store.
func NewSerdeStore(keySerde, valueSerde Serde) *SerdeStore {
	return &SerdeStore{KeySerde: keySerde, ValueSerde: valueSerde, m: map[string][]byte{}}
}

// Get implements KeyValueStore.
func (s *SerdeStore) Get(key []byte) ([]byte, bool, error) {
	var err error
	if s.keyBuf, err = s.KeySerde.Serialize(s.keyBuf[:0], key); err != nil {
		return nil, false, err
	}
	raw, ok := s.m[string(s.keyBuf)]
	if !ok {
		return nil, false, nil
	}
	v, err := s.ValueSerde.Deserialize(raw)
	return v, err == nil, err
}

// Put implements KeyValueStore.
func (s *SerdeStore) Put(key, value []byte) error {
	var err error
	if s.keyBuf, err = s.KeySerde.Serialize(s.keyBuf[:0], key); err != nil {
		return err
	}
	if s.valueBuf, err = s.ValueSerde.Serialize(s.valueBuf[:0], value); err != nil {
		return err
	}
	if old, ok := s.m[string(s.keyBuf)]; ok && len(old) == len(s.valueBuf) {
		copy(old, s.valueBuf)
		return nil
	}
	s.m[string(s.keyBuf)] = append([]byte(nil), s.valueBuf...)
	return nil
}

// AggregateNode folds the records of each key into the store and forwards every
// updated aggregate.
type AggregateNode struct {
	Initializer func() []byte
	Adder       func(agg, value []byte) []byte
	Store       KeyValueStore
	Next        Processor
}

// Process implements Processor.
func (n *AggregateNode) Process(key, value []byte) error {
	agg, found, err := n.Store.Get(key)
	if err != nil {
		return fmt.Errorf("read store: %w", err)
	}
	if !found {
		agg = n.Initializer()
	}
	agg = n.Adder(agg, value)
	if err := n.Store.Put(key, agg); err != nil {
		return fmt.Errorf("write store: %w", err)
	}
	return n.Next.Process(key, agg)
}

// RecordWriter receives the records a sink produces; key and value are valid only
// during the call.
type RecordWriter interface {
	Write(key, value []byte)
}

// SinkNode serializes records and hands them to a RecordWriter.
type SinkNode struct {
	KeySerde, ValueSerde Serde
	Out                  RecordWriter
	keyBuf, valueBuf     []byte
}

// Process implements Processor.
func (n *SinkNode) Process(key, value []byte) error {
	var err error
	if n.keyBuf, err = n.KeySerde.Serialize(n.keyBuf[:0], key); err != nil {
		return fmt.Errorf("serialize key: %w", err)
	}
	if n.valueBuf, err = n.ValueSerde.Serialize(n.valueBuf[:0], value); err != nil {
		return fmt.Errorf("serialize value: %w", err)
	}
	n.Out.Write(n.keyBuf, n.valueBuf)
	return nil
}

// bufferWriter copies output records into a buffer reused for each batch.
type bufferWriter struct {
	buf []byte
	n   int
}

func (w *bufferWriter) Write(key, value []byte) {
	w.buf = append(w.buf, key...)
	w.buf = append(w.buf, value...)
	w.n++
}

// Chain is the click-count graph with its repartition topic, store and sink.
type Chain struct {
	source0, source1 *SourceNode
	topic            *ChainTopic
	store            *SerdeStore
	sink             *bufferWriter
	rec              runtime.Record // the repartitioned record in flight
}

// NewChain wires the click-count graph with the user functions of topology.go.
func NewChain() *Chain {
	var bs Serde = BytesSerde{}
	c := &Chain{topic: &ChainTopic{}, store: NewSerdeStore(bs, bs), sink: &bufferWriter{}}
	c.source0 = &SourceNode{KeySerde: bs, ValueSerde: bs,
		Next: &FilterNode{Predicate: isRealClick,
			Next: &MapNode{Mapper: extractUserInfo,
				Next: &RepartitionNode{KeySerde: bs, ValueSerde: bs, Topic: c.topic}}}}
	c.source1 = &SourceNode{KeySerde: bs, ValueSerde: bs,
		Next: &AggregateNode{Initializer: initCounter, Adder: incrementCounter, Store: c.store,
			Next: &SinkNode{KeySerde: bs, ValueSerde: bs, Out: c.sink}}}
	c.rec.Topic = "click-count-click-counts-repartition"
	return c
}

// ProcessBatch runs one batch of user-clicks through both sub-topologies.
func (c *Chain) ProcessBatch(batch []runtime.Record) error {
	c.topic.Reset()
	for i := range batch {
		if err := c.source0.ProcessRecord(&batch[i]); err != nil {
			return err
		}
	}
	c.sink.buf = c.sink.buf[:0]
	for _, r := range c.topic.records {
		c.rec.Key = c.topic.arena[r.start : r.start+r.keyLen]
		c.rec.Value = c.topic.arena[r.start+r.keyLen : r.start+r.keyLen+r.valueLen]
		if err := c.source1.ProcessRecord(&c.rec); err != nil {
			return err
		}
		c.rec.Offset++
	}
	return nil
}

// Run processes records in batches of BatchSize. The store writes through on every
// Put, so there is nothing to commit.
func (c *Chain) Run(records []runtime.Record) error {
	for len(records) > 0 {
		n := min(BatchSize, len(records))
		if err := c.ProcessBatch(records[:n]); err != nil {
			return err
		}
		records = records[n:]
	}
	return nil
}

// Counts decodes the count of every user from the store.
func (c *Chain) Counts() map[string]uint64 {
	return decodeCounts(c.store.m)
}

// Outputs is the number of records written to the sink so far.
func (c *Chain) Outputs() int { return c.sink.n }
