package streams

import "time"

// Join joins this stream with other: a *KStream (windowed: needs a JoinWindows option) or a *KTable.
//
// Between two streams, a record of this stream (the left side) and a record of
// other (the right side) with equal keys join when the right record's time lies
// in the join window around the left one's (see JoinWindows); joiner is then
// called and its result emitted with the key, at the later of the two times.
// Both sides are buffered in window stores for that purpose, so a record joins
// the records of the other side that arrived before and after it. joiner:
// func(V1, V2) VR or func(K, V1, V2) VR. Options: a JoinWindows (required),
// and Named, which names the join's stores ("<name>-this", "<name>-other",
// "<name>-outer") and, where a side's key changed, its repartition topic
// ("<name>-left-repartition", "<name>-right-repartition"). The default name is
// "join-N", N counting the topology's joins from 0.
//
// Both sides must have the same key type, and be partitioned alike: a side whose
// key may have changed (Map, SelectKey, ...) is repartitioned first, and at
// start-up the runtime checks that the topics of both sides have as many
// partitions.
//
// With a *KTable, each stream record is joined with the table's value for its key
// at the time the record is processed (Kafka Streams' KStream-KTable join); a
// record whose key the table does not hold is dropped, and table updates emit
// nothing. joiner: func(V, VT) VR or func(K, V, VT) VR.
func (s *KStream) Join(other any, joiner any, opts ...Option) *KStream { return s }

// LeftJoin is Join that also emits every record of this stream that joins no
// record of other: joiner's right value is then nil. joiner: func(V1, *V2) VR or
// func(K, V1, *V2) VR; the pointer is valid only during the call. With a stream,
// a record that found no partner is emitted once its window has closed (stream
// time has passed its time + after + grace; Kafka Streams 3.x), at its own time.
// With a *KTable, joiner gets nil when the table holds no value for the key:
// func(V, *VT) VR or func(K, V, *VT) VR.
func (s *KStream) LeftJoin(other any, joiner any, opts ...Option) *KStream { return s }

// OuterJoin is LeftJoin in both directions: records of either stream that join
// none of the other are emitted, with nil for the absent side, once their
// window has closed. joiner: func(*V1, *V2) VR or func(K, *V1, *V2) VR; exactly
// one of the pointers may be nil, and they are valid only during the call.
func (s *KStream) OuterJoin(other *KStream, joiner any, opts ...Option) *KStream { return s }

// JoinWindowsSpec is the window of a stream-stream join, made by JoinWindows or
// JoinWindowsOf and written in place among the join's options.
type JoinWindowsSpec struct{ _ [0]func() }

func (JoinWindowsSpec) isOption() {}

// JoinWindows is the window of a stream-stream join (Kafka Streams'
// JoinWindows with before and after): a right record at time r joins a left
// record at time l when l-before <= r <= l+after. before and after must be
// constant whole milliseconds, not negative (JoinWindows(0, 0) joins records of
// equal times only). The grace is 0 unless Grace sets it.
func JoinWindows(before, after time.Duration) JoinWindowsSpec { return JoinWindowsSpec{} }

// JoinWindowsOf is JoinWindows(timeDifference, timeDifference): records whose
// times differ by at most timeDifference join (Kafka Streams'
// JoinWindows.ofTimeDifferenceWithNoGrace).
func JoinWindowsOf(timeDifference time.Duration) JoinWindowsSpec { return JoinWindowsSpec{} }

// Grace sets how long after a join window's end (by stream time) a record still
// joins, and how long a left or outer join waits before it emits a record that
// found no partner. The default is 0. It must be a constant, not negative.
func (w JoinWindowsSpec) Grace(d time.Duration) JoinWindowsSpec { return w }
