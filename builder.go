package streams

// StreamsBuilder provides the main entry point for defining a topology.
//
// Its methods are read by gofkagen, not run: see the package documentation.
type StreamsBuilder struct{ _ [0]func() }

// NewBuilder returns a builder for one topology.
func NewBuilder() *StreamsBuilder { return &StreamsBuilder{} }

// Topology is the immutable result of Build. At run time it is only a marker: the
// executable plan is the code gofkagen generates from the function that built it.
type Topology struct{ _ [0]func() }

// Build constructs the final, immutable Topology.
func (b *StreamsBuilder) Build() (*Topology, error) { return &Topology{}, nil }

// From defines a source node that consumes from a topic, with []byte keys and values.
func (b *StreamsBuilder) From(topic string) *Stream { return &Stream{} }

// Stream reads one or more topics as a typed record stream. The key and value types
// are those of the serdes given with With.
func (b *StreamsBuilder) Stream(serdes Serdes, topics ...string) *KStream { return &KStream{} }

// Table reads a topic as a table: each record is an upsert of its key (a record with
// a nil value deletes the key), materialized in store.
func (b *StreamsBuilder) Table(serdes Serdes, topic string, store StateStoreConfig) *KTable {
	return &KTable{}
}

// Stream represents a data stream of []byte keys and values within the topology
// (the seed document's API).
type Stream struct{ _ [0]func() }

// Filter applies a filtering function to the stream.
// The function returns true to keep the message.
func (s *Stream) Filter(f func(key, value []byte) bool) *Stream { return s }

// Map transforms each message in the stream. A changed key makes a later grouping
// repartition the stream.
func (s *Stream) Map(f func(key, value []byte) (newKey, newValue []byte)) *Stream { return s }

// GroupByKey groups the stream by key, preparing for an aggregation.
func (s *Stream) GroupByKey() *GroupedStream { return &GroupedStream{} }

// To defines a sink node that produces to a topic.
func (s *Stream) To(topic string) {}

// GroupedStream represents a stream that has been grouped by key.
type GroupedStream struct{ _ [0]func() }

// Aggregate performs a stateful aggregation.
// It requires an initializer, an adder, and a state store definition. The returned
// stream carries every updated aggregate, keyed like the group.
func (g *GroupedStream) Aggregate(
	initializer func() []byte,
	adder func(agg, value []byte) []byte,
	store StateStoreConfig,
) *Stream {
	return &Stream{}
}

// StateStoreConfig names and describes a state store.
type StateStoreConfig struct {
	name string
	kind storeKind
}

type storeKind uint8

const (
	rocksDB storeKind = iota
	inMemory
)

// RocksDBStore is a persistent store kept in RocksDB, backed by a changelog topic.
func RocksDBStore(name string) StateStoreConfig { return StateStoreConfig{name: name, kind: rocksDB} }

// InMemoryStore is a store kept in memory only, rebuilt from its changelog topic at start.
func InMemoryStore(name string) StateStoreConfig {
	return StateStoreConfig{name: name, kind: inMemory}
}
