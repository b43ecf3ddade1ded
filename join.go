package streams

// Join joins this stream with other: a *KStream (windowed: needs a JoinWindows option) or a *KTable.
//
// With a *KTable, each stream record is joined with the table's value for its key
// at the time the record is processed (Kafka Streams' KStream-KTable join); a
// record whose key the table does not hold is dropped, and table updates emit
// nothing. joiner: func(V, VT) VR or func(K, V, VT) VR.
func (s *KStream) Join(other any, joiner any, opts ...Option) *KStream { return s }

// LeftJoin is Join that keeps every stream record: with a *KTable, joiner gets nil
// when the table holds no value for the key. joiner: func(V, *VT) VR or
// func(K, V, *VT) VR.
func (s *KStream) LeftJoin(other any, joiner any, opts ...Option) *KStream { return s }

// OuterJoin joins two streams within a window, keeping records of either side
// without a match.
func (s *KStream) OuterJoin(other *KStream, joiner any, opts ...Option) *KStream { return s }
