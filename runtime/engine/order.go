package engine

import (
	"github.com/twmb/franz-go/pkg/kgo"
)

// Records of a task that reads several topics (a join, a merge, a stream read
// beside a table) are processed in timestamp order across those topics, as
// Kafka Streams' PartitionGroup does, so that a windowed join or a windowed
// aggregation over a merge sees the same stream time whichever topic a poll
// happened to return first:
//
//	fetch ─▶ partitions of one task ─▶ merge by head timestamp ─▶ runs ─▶ processPartition
//	          (orders-3, clicks-3)        (smallest head first)     (a partition's
//	                                                                 records up to the
//	                                                                 other heads' time)
//
// Within a partition the order is the log's. Like Kafka Streams with its
// default max.task.idle.ms of 0, a partition with nothing fetched does not hold
// the others back: ordering is by what one fetch returned.

// orderedTopics marks the input topics of sub-topologies that read more than
// one topic: only their partitions need merging.
func orderedTopics(routes map[string][]route) map[string]bool {
	inputs := map[int]int{} // sub-topology → topics it reads
	for _, rts := range routes {
		seen := map[int]bool{}
		for _, rt := range rts {
			if !seen[rt.subTopology] {
				seen[rt.subTopology] = true
				inputs[rt.subTopology]++
			}
		}
	}
	ordered := map[string]bool{}
	for topic, rts := range routes {
		for _, rt := range rts {
			if inputs[rt.subTopology] > 1 {
				ordered[topic] = true
			}
		}
	}
	return ordered
}

// inTimeOrder calls f for every fetched partition, or, for partitions of the
// same number whose topics need merging, for runs of their records in
// timestamp order. A run is a FetchTopicPartition holding a sub-slice of the
// fetched records, so f handles it as it would a whole partition.
func inTimeOrder(fetches kgo.Fetches, ordered map[string]bool, f func(kgo.FetchTopicPartition) bool) {
	var merge map[int32][]kgo.FetchTopicPartition
	ok := true
	fetches.EachPartition(func(ftp kgo.FetchTopicPartition) {
		if !ok {
			return
		}
		if !ordered[ftp.Topic] || len(ftp.Records) == 0 {
			ok = f(ftp)
			return
		}
		if merge == nil {
			merge = map[int32][]kgo.FetchTopicPartition{}
		}
		merge[ftp.Partition] = append(merge[ftp.Partition], ftp)
	})
	for _, group := range merge {
		if !ok {
			return
		}
		if len(group) == 1 {
			ok = f(group[0])
			continue
		}
		ok = mergeRuns(group, f)
	}
}

// mergeRuns hands f the records of group's partitions in timestamp order: it
// takes the partition with the smallest head timestamp (ties: the one listed
// first) and runs its records while they are no later than every other head.
func mergeRuns(group []kgo.FetchTopicPartition, f func(kgo.FetchTopicPartition) bool) bool {
	next := make([]int, len(group)) // index of each partition's head record
	for {
		pick, pickTS := -1, int64(0)
		for i, ftp := range group {
			if next[i] == len(ftp.Records) {
				continue
			}
			if ts := ftp.Records[next[i]].Timestamp.UnixMilli(); pick < 0 || ts < pickTS {
				pick, pickTS = i, ts
			}
		}
		if pick < 0 {
			return true
		}
		bound := int64(1<<63 - 1) // the earliest head among the others
		for i, ftp := range group {
			if i != pick && next[i] < len(ftp.Records) {
				bound = min(bound, ftp.Records[next[i]].Timestamp.UnixMilli())
			}
		}
		recs := group[pick].Records
		end := next[pick] + 1
		for end < len(recs) && recs[end].Timestamp.UnixMilli() <= bound {
			end++
		}
		run := group[pick]
		run.Records = recs[next[pick]:end]
		next[pick] = end
		if !f(run) {
			return false
		}
	}
}

// timeOrdered returns fetches with the records of every group of partitions
// that need merging in timestamp order (inTimeOrder's runs, one after the
// other), so that any prefix of it is in order too: poll cuts it into batches.
// Without such topics, fetches is returned as it is.
func timeOrdered(fetches kgo.Fetches, ordered map[string]bool) kgo.Fetches {
	if len(ordered) == 0 {
		return fetches
	}
	var out kgo.Fetches
	inTimeOrder(fetches, ordered, func(ftp kgo.FetchTopicPartition) bool {
		out = appendPartition(out, &kgo.FetchTopic{Topic: ftp.Topic}, ftp.FetchPartition)
		return true
	})
	return out
}
