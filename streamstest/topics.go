package streamstest

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"

	streams "github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// InputTopic pipes typed records into a topic of a Driver, encoding them with the
// topic's serdes.
type InputTopic[K, V any] struct {
	d     *Driver
	topic string
	key   streams.Serde[K]
	value streams.Serde[V]
	err   error // returned by every pipe: the serdes are for other types than the topic's
}

// Input returns an InputTopic that encodes keys and values with the given serdes,
// which must be those the topology reads topic with. topic is the full topic name.
// Every pipe fails if no source of the program reads topic, or if the program
// records other key or value types for topic than the serdes are for.
func Input[K, V any](d *Driver, topic string, key streams.Serde[K], value streams.Serde[V]) *InputTopic[K, V] {
	err := checkTypes(fmt.Sprintf("input topic %q", topic), d.topicTypes(topic), key, value, reflect.TypeFor[K](), reflect.TypeFor[V]())
	return &InputTopic[K, V]{d: d, topic: topic, key: key, value: value, err: err}
}

// Pipe encodes key and value and pipes them as Driver.PipeRaw does, with the
// clock's timestamp. Even a key that encodes to no bytes is a key, not a nil one:
// it is partitioned by its hash, as a Kafka producer would.
func (in *InputTopic[K, V]) Pipe(key K, value V) error {
	k, v, err := in.encode(key, value)
	if err != nil {
		return err
	}
	return in.d.PipeRaw(in.topic, k, v)
}

// PipeAt is Pipe with an explicit timestamp in milliseconds; it leaves the clock as
// it is.
func (in *InputTopic[K, V]) PipeAt(key K, value V, timestamp int64) error {
	k, v, err := in.encode(key, value)
	if err != nil {
		return err
	}
	return in.d.PipeRawAt(in.topic, k, v, timestamp)
}

// PipeValue pipes a record with a nil key, which goes to partition 0.
func (in *InputTopic[K, V]) PipeValue(value V) error {
	if in.err != nil {
		return in.err
	}
	v, err := in.value.Encode(make([]byte, 0, 64), value)
	if err != nil {
		return fmt.Errorf("streamstest: pipe to %q: encode value: %w", in.topic, err)
	}
	return in.d.PipeRaw(in.topic, nil, v)
}

// PipeAll pipes every record in order, each with the next tick of the clock. It
// pipes them all even when some fail, and returns their errors (one as it is,
// several joined with errors.Join).
func (in *InputTopic[K, V]) PipeAll(kvs []streams.KeyValue[K, V]) error {
	if in.err != nil {
		return in.err
	}
	var errs []error
	for _, kv := range kvs {
		if err := in.Pipe(kv.Key, kv.Value); err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrors(errs)
}

func (in *InputTopic[K, V]) encode(key K, value V) ([]byte, []byte, error) {
	if in.err != nil {
		return nil, nil, in.err
	}
	// Non-nil buffers, so that an empty encoding stays a non-nil key or value.
	k, err := in.key.Encode(make([]byte, 0, 32), key)
	if err != nil {
		return nil, nil, fmt.Errorf("streamstest: pipe to %q: encode key: %w", in.topic, err)
	}
	v, err := in.value.Encode(make([]byte, 0, 64), value)
	if err != nil {
		return nil, nil, fmt.Errorf("streamstest: pipe to %q: encode value: %w", in.topic, err)
	}
	return k, v, nil
}

// OutputTopic reads the typed records a Driver produced to a topic.
type OutputTopic[K, V any] struct {
	d     *Driver
	topic string
	key   streams.Serde[K]
	value streams.Serde[V]
	err   error // returned by every read: the program never writes topic, or not with these types
}

// Output returns an OutputTopic that decodes records of topic with the given serdes.
// topic is the full topic name, as for Driver.ReadRaw. Every read fails if the
// program never writes topic (no sink, repartition or store writes it), or if the
// program records other key or value types for topic than the serdes are for;
// IsEmpty and QueueSize, which have no error to return, panic with it.
func Output[K, V any](d *Driver, topic string, key streams.Serde[K], value streams.Serde[V]) *OutputTopic[K, V] {
	o := &OutputTopic[K, V]{d: d, topic: topic, key: key, value: value}
	what := fmt.Sprintf("output topic %q", topic)
	if !d.written[topic] {
		o.err = fmt.Errorf("streamstest: %s: %s never writes this topic (it writes %s)", what, d.programName(), d.writtenTopics())
	} else {
		o.err = checkTypes(what, d.topicTypes(topic), key, value, reflect.TypeFor[K](), reflect.TypeFor[V]())
	}
	return o
}

// TestRecord is one decoded output record with its coordinates.
type TestRecord[K, V any] struct {
	Key       K
	Value     V
	Timestamp int64 // as the topology stamped it (the input record's, a window's, a join's later row's)
	Partition int32
	Offset    int64
	// NilKey and NilValue report a nil key or value (a tombstone), which are not
	// decoded: Key or Value is then the zero value.
	NilKey, NilValue bool
}

// ReadKeyValues drains the records produced to the topic since the last read and
// decodes them, in produce order. A nil key or value decodes to the zero value. If a
// record does not decode, the records before it are returned with the error, and
// the rest are lost.
func (o *OutputTopic[K, V]) ReadKeyValues() ([]streams.KeyValue[K, V], error) {
	recs, err := o.ReadRecords()
	kvs := make([]streams.KeyValue[K, V], len(recs))
	for i, r := range recs {
		kvs[i] = streams.KeyValue[K, V]{Key: r.Key, Value: r.Value}
	}
	return kvs, err
}

// ReadRecords is ReadKeyValues with each record's timestamp, partition and offset.
func (o *OutputTopic[K, V]) ReadRecords() ([]TestRecord[K, V], error) {
	if o.err != nil {
		return nil, o.err
	}
	raw := o.d.ReadRaw(o.topic)
	out := make([]TestRecord[K, V], 0, len(raw))
	for _, r := range raw {
		t := TestRecord[K, V]{Timestamp: r.Timestamp, Partition: r.Partition, Offset: r.Offset, NilKey: r.Key == nil, NilValue: r.Value == nil}
		var err error
		if r.Key != nil {
			if t.Key, err = o.key.Decode(r.Key); err != nil {
				return out, fmt.Errorf("streamstest: topic %s partition %d offset %d: decode key: %w", o.topic, r.Partition, r.Offset, err)
			}
		}
		if r.Value != nil {
			if t.Value, err = o.value.Decode(r.Value); err != nil {
				return out, fmt.Errorf("streamstest: topic %s partition %d offset %d: decode value: %w", o.topic, r.Partition, r.Offset, err)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// IsEmpty reports whether every record produced to the topic has been read. It
// panics if reads fail (see Output), rather than report a wrong topic empty.
func (o *OutputTopic[K, V]) IsEmpty() bool { return o.QueueSize() == 0 }

// QueueSize is the number of records produced to the topic and not yet read. It
// panics if reads fail (see Output).
func (o *OutputTopic[K, V]) QueueSize() int {
	if o.err != nil {
		panic(o.err)
	}
	return o.d.pendingOutput(o.topic)
}

// StoreView reads a state store of a Driver, across all its task partitions.
type StoreView[K, V any] struct {
	d     *Driver
	name  string
	idx   int   // index in Program.Stores, or -1 if there is no such store
	err   error // returned by every read: no such store, or not of these types
	key   streams.Serde[K]
	value streams.Serde[V]
}

// Store returns a view of the store called name, decoding with the given serdes,
// which must be those the topology stores with. An unknown name makes every read
// fail with an error listing the program's stores, and so do serdes for other key
// or value types than the program records for the store's changelog topic.
func Store[K, V any](d *Driver, name string, key streams.Serde[K], value streams.Serde[V]) *StoreView[K, V] {
	s := newStoreView(d, name, key, value)
	if s.err == nil {
		types := d.p.Topics[d.p.Stores[s.idx].Changelog].Types
		s.err = checkTypes(fmt.Sprintf("store %q", name), types, key, value, reflect.TypeFor[K](), reflect.TypeFor[V]())
	}
	return s
}

// RawStore returns a view of the store called name that reads its entries as the
// bytes the topology's serdes encoded, whatever their types: the store's
// counterpart of Driver.ReadRaw, for tools that print any topology's state.
func RawStore(d *Driver, name string) *StoreView[[]byte, []byte] {
	return newStoreView(d, name, streams.Bytes(), streams.Bytes())
}

func newStoreView[K, V any](d *Driver, name string, key streams.Serde[K], value streams.Serde[V]) *StoreView[K, V] {
	s := &StoreView[K, V]{d: d, name: name, key: key, value: value}
	s.idx = slices.IndexFunc(d.p.Stores, func(s runtime.StoreSpec) bool { return s.Name == name })
	if s.idx < 0 {
		names := make([]string, len(d.p.Stores))
		for i, st := range d.p.Stores {
			names[i] = fmt.Sprintf("%q", st.Name)
		}
		s.err = fmt.Errorf("streamstest: %s has no store %q (stores: %v)", d.programName(), name, names)
	}
	return s
}

func (s *StoreView[K, V]) check() error {
	if s.err != nil {
		return s.err
	}
	return s.d.sync()
}

// Get returns the value stored under key, looking in every partition's store in
// partition order. It flushes the tasks first, so the store reflects every record
// piped so far.
func (s *StoreView[K, V]) Get(key K) (V, bool, error) {
	var zero V
	if err := s.check(); err != nil {
		return zero, false, err
	}
	k, err := s.key.Encode(make([]byte, 0, 32), key)
	if err != nil {
		return zero, false, fmt.Errorf("streamstest: store %q: encode key: %w", s.name, err)
	}
	for _, b := range s.d.stores[s.idx] {
		raw, found, err := b.Get(k)
		if err != nil {
			return zero, false, fmt.Errorf("streamstest: store %q partition %d: %w", s.name, b.partition, err)
		}
		if !found {
			continue
		}
		if raw == nil {
			return zero, true, nil
		}
		// A copy: the backend reuses its buffer on the next Put, and the serde may alias.
		v, err := s.decodeValue(bytes.Clone(raw))
		if err != nil {
			return zero, false, fmt.Errorf("streamstest: store %q partition %d: decode value: %w", s.name, b.partition, err)
		}
		return v, true, nil
	}
	return zero, false, nil
}

// All returns every entry of the store, across all partitions, in encoded-key order
// (entries with equal keys in different partitions, possible only if the store is
// not partitioned by its key, in partition order). It flushes the tasks first.
func (s *StoreView[K, V]) All() ([]streams.KeyValue[K, V], error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	type entry struct {
		key, value []byte
		partition  int32
	}
	var entries []entry
	for _, b := range s.d.stores[s.idx] {
		err := b.Range(func(k, v []byte) error {
			entries = append(entries, entry{bytes.Clone(k), bytes.Clone(v), b.partition})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("streamstest: store %q partition %d: %w", s.name, b.partition, err)
		}
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	kvs := make([]streams.KeyValue[K, V], 0, len(entries))
	for _, e := range entries {
		k, err := s.key.Decode(e.key)
		if err != nil {
			return kvs, fmt.Errorf("streamstest: store %q partition %d: decode key %q: %w", s.name, e.partition, e.key, err)
		}
		var v V
		if e.value != nil {
			if v, err = s.decodeValue(e.value); err != nil {
				return kvs, fmt.Errorf("streamstest: store %q partition %d: decode value of key %q: %w", s.name, e.partition, e.key, err)
			}
		}
		kvs = append(kvs, streams.KeyValue[K, V]{Key: k, Value: v})
	}
	return kvs, nil
}

// decodeValue decodes a value as the store's backend holds it: after the
// row's timestamp in a timestamped store (runtime.StoreSpec.Timestamped).
func (s *StoreView[K, V]) decodeValue(raw []byte) (V, error) {
	if s.d.p.Stores[s.idx].Timestamped {
		val, _, err := state.TimestampedValue(raw)
		if err != nil {
			var zero V
			return zero, err
		}
		raw = val
	}
	return s.value.Decode(raw)
}

// Len is the number of entries in the store, across all partitions.
func (s *StoreView[K, V]) Len() (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	n := 0
	for _, b := range s.d.stores[s.idx] {
		n += b.mem.Len()
	}
	return n, nil
}
