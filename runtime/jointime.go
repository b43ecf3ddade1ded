package runtime

// JoinTimes are the stream times of one windowed stream-stream join, kept as
// Kafka Streams keeps them, apart from the task's: a task may read records
// that never reach the join (a filter drops them, or they go to another join),
// and those must not expire the join's buffers or close its windows.
//
//	Join        the largest timestamp that reached either side (Kafka Streams'
//	            shared time tracker): unmatched records are emitted by it
//	Left, Right the largest that reached each side (a window store's observed
//	            stream time): each side's buffer expires by its own
//
// A task starts them at its stream time (TaskContext.StreamTime), which is at
// least each of them.
type JoinTimes struct {
	Join, Left, Right int64
}

// NewJoinTimes returns a join's times for a task starting at streamTime.
func NewJoinTimes(streamTime int64) JoinTimes {
	return JoinTimes{Join: streamTime, Left: streamTime, Right: streamTime}
}

// Advance counts a record at ts reaching the left side (else the right) and
// returns that side's time.
func (j *JoinTimes) Advance(left bool, ts int64) int64 {
	j.Join = max(j.Join, ts)
	if left {
		j.Left = max(j.Left, ts)
		return j.Left
	}
	j.Right = max(j.Right, ts)
	return j.Right
}
