// Package libchain is a small stream-processing library of the kind Go has without
// a compiler: a topology of processor nodes wired at run time, records whose values
// travel as any, user functions typed against any, serdes behind a codec interface
// and a state store that keeps encoded bytes. It exists as a baseline for
// bench/operators (the "library-chain" implementation), so it mirrors two real
// libraries' public APIs as closely as Go allows and does no more work than they do:
//
//   - goka (github.com/lovoo/goka v1.1.17): Codec is goka.Codec (Encode(any) /
//     Decode([]byte) returning any), Bytes is goka's codec.Bytes, keys are strings
//     as goka.Context.Key() returns them, a store reads and writes through a codec
//     as goka.Context.Value() / SetValue() do over the group table, Storage is
//     goka's storage.Storage (Get/Set by string key) and Producer is the shape of
//     goka's Producer.Emit(topic, key string, value []byte). A repartition sink is
//     goka's Context.Loopback(key, value): encode with the loop codec, emit.
//   - Kafka Streams' Processor API (org.apache.kafka.streams.processor.api):
//     Processor is Processor.init / process(Record), Context is ProcessorContext
//     (forward(Record) to the current node's children, getStateStore(name)),
//     Record is api.Record, Topology is Topology.addSource / addProcessor /
//     addSink / addStateStore with suppliers instantiated per task, and Filter,
//     Map and Aggregate are the processors the DSL compiles filter, map and
//     groupByKey().aggregate to (KStreamFilter, KStreamMap, KStreamAggregate).
//
// How a record flows: Task.Process takes a fetched batch of runtime.Records; for
// each, the source node of its topic turns the key into a string and decodes the
// value with its codec into an any (goka's partition processor:
// codec.Decode(msg.Value), then the callback; Kafka Streams' SourceNode:
// deserializeKey/deserializeValue), and forwards a Record through the Context to
// its children. Every processor calls its user function through a func value, type
// assertions inside the user function recover the concrete types, and it forwards
// its result through the Context, an interface call per edge. A sink node encodes
// the value with its codec and hands key and bytes to the task's Producer.
//
// What that costs, and nothing else: an interface call per edge and per node, a
// call through a func value per user function, an interface call per codec use,
// and the allocations the any-typed API forces: boxing a []byte (or any non-pointer
// value) into an interface allocates its header, and a string key made from bytes
// allocates its bytes. Where a library can reuse something it does here: the task
// reuses one Context for all records (goka allocates a cbContext per message), a
// Record is passed by value (Kafka Streams allocates one per withKey/withValue),
// keys are not boxed (Kafka Streams' are Objects), and no metrics, headers or
// changelog writes are added.
package libchain

import (
	"errors"
	"fmt"
)

// Codec converts between a value and its bytes. It is goka.Codec.
type Codec interface {
	Encode(value any) ([]byte, error)
	Decode(data []byte) (any, error)
}

// Bytes is goka's codec.Bytes: values are []byte, passed through.
type Bytes struct{}

// Encode returns value, which must be a []byte.
func (Bytes) Encode(value any) ([]byte, error) {
	b, ok := value.([]byte)
	if !ok {
		return nil, fmt.Errorf("codec Bytes: cannot encode a %T, want []byte", value)
	}
	return b, nil
}

// Decode returns data itself, boxed.
func (Bytes) Decode(data []byte) (any, error) { return data, nil }

// Record is one key/value pair in flight between processors: Kafka Streams'
// api.Record with goka's string keys. It is passed by value, so forwarding a
// changed record allocates nothing (Kafka Streams' withKey/withValue do).
type Record struct {
	Key       string
	Value     any
	Timestamp int64 // milliseconds since the Unix epoch
}

// Context is what a processor sees of its task: Kafka Streams'
// api.ProcessorContext (forward, getStateStore, recordMetadata) and goka.Context's
// Topic/Partition/Offset. Forward runs rec through each child of the processor
// currently running.
type Context interface {
	Forward(rec Record) error
	StateStore(name string) (KeyValueStore, error)
	Topic() string
	Partition() int32
	Offset() int64
}

// Processor is one node of a topology: Kafka Streams' api.Processor. Init is
// called once per task, before any record; Process once per record.
type Processor interface {
	Init(ctx Context) error
	Process(rec Record) error
}

// ProcessorSupplier makes a fresh Processor for each task (Kafka Streams'
// ProcessorSupplier.get).
type ProcessorSupplier func() Processor

// The user function shapes: Kafka Streams' Predicate, KeyValueMapper, Initializer
// and Aggregator, over goka's string keys and any values, and returning an error
// where Java would throw (a wrong type in a type assertion, say) so that bad input
// fails the record instead of panicking.
type (
	Predicate      func(key string, value any) (bool, error)
	KeyValueMapper func(key string, value any) (newKey string, newValue any, err error)
	Initializer    func() any
	Aggregator     func(key string, value, aggregate any) (any, error)
)

// Filter forwards the records pred keeps: Kafka Streams' KStreamFilter.
func Filter(pred Predicate) ProcessorSupplier {
	return func() Processor { return &filter{pred: pred} }
}

type filter struct {
	pred Predicate
	ctx  Context
}

func (p *filter) Init(ctx Context) error { p.ctx = ctx; return nil }

func (p *filter) Process(rec Record) error {
	keep, err := p.pred(rec.Key, rec.Value)
	if err != nil || !keep {
		return err
	}
	return p.ctx.Forward(rec)
}

// Map forwards the pair mapper makes of each record: Kafka Streams' KStreamMap.
func Map(mapper KeyValueMapper) ProcessorSupplier {
	return func() Processor { return &mapProcessor{mapper: mapper} }
}

type mapProcessor struct {
	mapper KeyValueMapper
	ctx    Context
}

func (p *mapProcessor) Init(ctx Context) error { p.ctx = ctx; return nil }

func (p *mapProcessor) Process(rec Record) error {
	k, v, err := p.mapper(rec.Key, rec.Value)
	if err != nil {
		return err
	}
	rec.Key, rec.Value = k, v
	return p.ctx.Forward(rec)
}

// Aggregate folds each record into the aggregate of its key in the named store and
// forwards the new aggregate: Kafka Streams' KStreamAggregate processor
// (store.get, initializer.apply when absent, aggregator.apply, store.put, forward),
// which is goka's ctx.Value() / ctx.SetValue() in a callback. Records with a nil
// value are dropped, as both do.
func Aggregate(store string, init Initializer, agg Aggregator) ProcessorSupplier {
	return func() Processor { return &aggregate{storeName: store, init: init, agg: agg} }
}

type aggregate struct {
	storeName string
	init      Initializer
	agg       Aggregator
	store     KeyValueStore
	ctx       Context
}

func (p *aggregate) Init(ctx Context) error {
	s, err := ctx.StateStore(p.storeName)
	if err != nil {
		return err
	}
	p.ctx, p.store = ctx, s
	return nil
}

func (p *aggregate) Process(rec Record) error {
	if rec.Value == nil {
		return nil
	}
	old, err := p.store.Get(rec.Key)
	if err != nil {
		return fmt.Errorf("read store %s: %w", p.storeName, err)
	}
	if old == nil {
		old = p.init()
	}
	agg, err := p.agg(rec.Key, rec.Value, old)
	if err != nil {
		return err
	}
	if err := p.store.Put(rec.Key, agg); err != nil {
		return fmt.Errorf("write store %s: %w", p.storeName, err)
	}
	rec.Value = agg
	return p.ctx.Forward(rec)
}

// sink encodes each record's value and emits it to a topic: Kafka Streams'
// SinkNode (serialize, RecordCollector.send) and goka's Context.Emit and
// Context.Loopback (Codec.Encode, then the producer's Emit). Keys are strings and
// go out as their bytes, as goka sends them.
type sink struct {
	topic string
	codec Codec
	out   Producer
}

func (p *sink) Init(Context) error { return nil }

func (p *sink) Process(rec Record) error {
	data, err := p.codec.Encode(rec.Value)
	if err != nil {
		return fmt.Errorf("encode value for topic %s: %w", p.topic, err)
	}
	return p.out.Emit(p.topic, rec.Key, data)
}

// Producer receives the records a task's sinks emit: the shape of goka's
// Producer.Emit (topic, string key, encoded value). key and value are valid only
// during the call.
type Producer interface {
	Emit(topic, key string, value []byte) error
}

// Storage is a byte-level key-value store: goka's storage.Storage (Get returns nil
// for an absent key).
type Storage interface {
	Get(key string) ([]byte, error)
	Set(key string, value []byte) error
}

// MemoryStorage is goka's in-memory storage, a map[string][]byte, except that Set
// copies what it is given (overwriting the old bytes when they fit) instead of
// keeping the caller's slice, so a value may alias a fetched batch.
type MemoryStorage struct {
	m map[string][]byte
}

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage { return &MemoryStorage{m: map[string][]byte{}} }

// Get implements Storage. The bytes returned belong to the storage.
func (s *MemoryStorage) Get(key string) ([]byte, error) { return s.m[key], nil }

// Set implements Storage.
func (s *MemoryStorage) Set(key string, value []byte) error {
	if value == nil {
		return errors.New("cannot write nil value") // as goka's memory storage
	}
	if old, ok := s.m[key]; ok && len(old) == len(value) {
		copy(old, value)
		return nil
	}
	s.m[key] = append([]byte{}, value...)
	return nil
}

// Range calls f with every key and value; value belongs to the storage.
func (s *MemoryStorage) Range(f func(key string, value []byte)) {
	for k, v := range s.m {
		f(k, v)
	}
}

// KeyValueStore is a store as a processor sees it, typed by any: Kafka Streams'
// KeyValueStore<K, V> get/put, goka's Context.Value/SetValue. Get returns nil for
// an absent key.
type KeyValueStore interface {
	Get(key string) (any, error)
	Put(key string, value any) error
}

// CodecStore keeps encoded values in a Storage and converts on every access: Get
// decodes (goka's Context.Value: storage Get, then the group table's
// Codec().Decode; Kafka Streams' MeteredKeyValueStore.get over an in-memory
// store), Put encodes (goka's SetValue: Codec().Encode, then storage Set).
type CodecStore struct {
	codec   Codec
	storage Storage
}

// NewCodecStore returns a store over storage whose values codec converts.
func NewCodecStore(storage Storage, codec Codec) *CodecStore {
	return &CodecStore{codec: codec, storage: storage}
}

// Get implements KeyValueStore.
func (s *CodecStore) Get(key string) (any, error) {
	data, err := s.storage.Get(key)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", key, err)
	}
	if data == nil {
		return nil, nil
	}
	v, err := s.codec.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode value of %q: %w", key, err)
	}
	return v, nil
}

// Put implements KeyValueStore.
func (s *CodecStore) Put(key string, value any) error {
	if value == nil {
		return fmt.Errorf("put %q: nil value", key) // goka: "cannot set nil as value"
	}
	data, err := s.codec.Encode(value)
	if err != nil {
		return fmt.Errorf("encode value of %q: %w", key, err)
	}
	if err := s.storage.Set(key, data); err != nil {
		return fmt.Errorf("write %q: %w", key, err)
	}
	return nil
}

// StoreSupplier makes a task's instance of a store (Kafka Streams' StoreBuilder).
type StoreSupplier func() KeyValueStore
