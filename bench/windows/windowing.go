package windows

// Window assignment as Kafka Streams' TimeWindows does it (TimeWindows.windowsFor):
// windows of size ms start at multiples of advance ms since the epoch, and a
// record at ts belongs to every window [start, start+size) that contains ts. A
// window is still open for a record while its end plus grace is after stream
// time (KStreamWindowAggregate: windowEnd > streamTime − grace), and is kept
// until stream time passes its start plus size plus grace.

// windowStarts appends to dst the starts of the windows that contain ts.
func windowStarts(dst []int64, ts, size, advance int64) []int64 {
	first := max(0, ts-size+advance)
	first -= first % advance
	for start := first; start <= ts; start += advance {
		dst = append(dst, start)
	}
	return dst
}

// open reports whether the window starting at start still takes records when
// stream time is streamTime.
func open(start, size, grace, streamTime int64) bool {
	return start+size+grace > streamTime
}
