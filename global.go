package streams

// GlobalKTable is a table read in full on every replica: each replica restores
// the whole topic into a local store before it processes anything, and keeps
// it up to date while it runs, so a stream can look up any key in it, whatever
// partition the stream record came from (Kafka Streams' GlobalKTable). A
// global table is no stream: it has no methods, and is used only as the table
// side of KStream.JoinGlobal and KStream.LeftJoinGlobal.
type GlobalKTable struct{ _ [0]func() }

// GlobalTable reads a topic as a global table into store (RocksDB in the state
// directory, or memory). Each record upserts its key; a record with a nil
// value deletes the key. The topic itself is the table's changelog: no other
// topic is written for it, and its partitions are not split among the
// replicas.
func (b *StreamsBuilder) GlobalTable(serdes Serdes, topic string, store StateStoreConfig) *GlobalKTable {
	return &GlobalKTable{}
}

// JoinGlobal joins each record with the row of the global table under the key
// keySelector computes from it; records without a row are dropped. The result
// keeps the stream's key, so no repartition is needed.
//
// keySelector: func(K, V) KG, where KG is the table's key type.
// joiner: func(V, VG) VR or func(K, V, VG) VR.
func (s *KStream) JoinGlobal(table *GlobalKTable, keySelector any, joiner any, opts ...Option) *KStream {
	return s
}

// LeftJoinGlobal is JoinGlobal keeping every stream record: when the table has
// no row for the key, the joiner gets a nil pointer.
//
// keySelector: func(K, V) KG; joiner: func(V, *VG) VR or func(K, V, *VG) VR.
func (s *KStream) LeftJoinGlobal(table *GlobalKTable, keySelector any, joiner any, opts ...Option) *KStream {
	return s
}
