package streams

// KStream is a typed record stream. Functions are passed as any and checked by
// gofkagen against the stream's current key type K and value type V; the expected
// signature is given on each method.
type KStream struct{ _ [0]func() }

// Filter keeps the records for which pred returns true. pred: func(K, V) bool.
func (s *KStream) Filter(pred any) *KStream { return s }

// FilterNot drops the records for which pred returns true. pred: func(K, V) bool.
func (s *KStream) FilterNot(pred any) *KStream { return s }

// Map replaces key and value. f: func(K, V) (K2, V2). A later grouping repartitions.
func (s *KStream) Map(f any) *KStream { return s }

// MapValues replaces the value and keeps the key. f: func(V) V2 or func(K, V) V2.
func (s *KStream) MapValues(f any) *KStream { return s }

// FlatMap turns each record into zero or more records. f: func(K, V) []KeyValue[K2, V2].
func (s *KStream) FlatMap(f any) *KStream { return s }

// FlatMapValues turns each value into zero or more values with the same key.
// f: func(V) []V2 or func(K, V) []V2.
func (s *KStream) FlatMapValues(f any) *KStream { return s }

// SelectKey sets a new key computed from the record. f: func(K, V) K2.
func (s *KStream) SelectKey(f any) *KStream { return s }

// Peek calls f for each record and passes the record on unchanged. f: func(K, V).
func (s *KStream) Peek(f any) *KStream { return s }

// Branch routes each record to the first stream whose predicate holds; records no
// predicate accepts are dropped. Each predicate: func(K, V) bool. Index the result
// with constants: parts := s.Branch(isA, isB); parts[0].To("a").
func (s *KStream) Branch(preds ...any) []*KStream { return make([]*KStream, len(preds)) }

// Split is Branch under Kafka Streams' newer name.
func (s *KStream) Split(preds ...any) []*KStream { return s.Branch(preds...) }

// Merge combines this stream with other, which must have the same key and value types.
func (s *KStream) Merge(other *KStream) *KStream { return s }

// Repartition writes the stream to an internal topic partitioned by its current key
// and reads it back, so that records with equal keys meet in one task.
func (s *KStream) Repartition(opts ...Option) *KStream { return s }

// GroupByKey groups by the current key for an aggregation. If the key may have
// changed since the source, the stream is repartitioned first.
func (s *KStream) GroupByKey(opts ...Option) *KGroupedStream { return &KGroupedStream{} }

// GroupBy groups by a new key computed from the record, repartitioning the stream.
// f: func(K, V) K2.
func (s *KStream) GroupBy(f any, opts ...Option) *KGroupedStream { return &KGroupedStream{} }

// To writes the stream to a topic, with the default serdes for its types or those
// given by With.
func (s *KStream) To(topic string, opts ...Option) {}

// KGroupedStream is a stream grouped by key, ready for an aggregation.
type KGroupedStream struct{ _ [0]func() }

// Count counts the records per key into store; the table holds int64 counts.
func (g *KGroupedStream) Count(store StateStoreConfig, opts ...Option) *KTable {
	return &KTable{}
}

// Reduce combines the values per key into store. reducer: func(agg, value V) V.
func (g *KGroupedStream) Reduce(reducer any, store StateStoreConfig, opts ...Option) *KTable {
	return &KTable{}
}

// Aggregate folds the values per key into an aggregate of any type A kept in store.
// initializer: func() A; adder: func(key K, value V, agg A) A.
func (g *KGroupedStream) Aggregate(initializer, adder any, store StateStoreConfig, opts ...Option) *KTable {
	return &KTable{}
}

// KTable is a changelog of the latest value per key, materialized in a store.
type KTable struct{ _ [0]func() }

// ToStream turns the table's updates into a record stream. A delete becomes a
// record without a value: To writes it as a tombstone, MapValues and ToTable pass
// it on without calling a function, other steps drop it.
func (t *KTable) ToStream() *KStream { return &KStream{} }

// KeyValue is one record produced by a FlatMap function.
type KeyValue[K, V any] struct {
	Key   K
	Value V
}

// KV builds a KeyValue.
func KV[K, V any](key K, value V) KeyValue[K, V] { return KeyValue[K, V]{Key: key, Value: value} }
