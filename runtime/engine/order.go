package engine

import (
	"slices"
	"time"

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
// default max.task.idle.ms of 0, a partition with nothing more on the broker
// does not hold the others back, and one with more that the fetch did not
// bring does, until the next fetch (timeOrdered).

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
//
// With hold, a group stops where one of its partitions has run out of fetched
// records while the broker has more of it (see lagging), or where a partition
// that was lagging at the last fetch brought nothing: the group's other
// records, later than everything handed out, go to hold, for the next fetch
// to be merged with.
func inTimeOrder(fetches kgo.Fetches, ordered map[string]bool, f func(kgo.FetchTopicPartition), hold *heldBack) {
	var merge map[int32][]kgo.FetchTopicPartition
	fetches.EachPartition(func(ftp kgo.FetchTopicPartition) {
		if !ordered[ftp.Topic] || len(ftp.Records) == 0 {
			f(ftp)
			return
		}
		if merge == nil {
			merge = map[int32][]kgo.FetchTopicPartition{}
		}
		merge[ftp.Partition] = append(merge[ftp.Partition], ftp)
	})
	var waited map[topicPartition]bool // lagging at the last fetch
	if hold != nil {
		waited, hold.lagging = hold.lagging, nil
	}
	for _, group := range merge {
		if hold != nil && stillWaiting(group, waited) {
			hold.keep(group, make([]int, len(group)))
			continue
		}
		mergeRuns(group, f, hold)
	}
}

// stillWaiting reports whether a partition of group's number that was lagging
// brought no record in this fetch.
func stillWaiting(group []kgo.FetchTopicPartition, waited map[topicPartition]bool) bool {
	for tp := range waited {
		if tp.partition != group[0].Partition {
			continue
		}
		if !slices.ContainsFunc(group, func(ftp kgo.FetchTopicPartition) bool { return ftp.Topic == tp.topic }) {
			return true
		}
	}
	return false
}

// mergeRuns hands f the records of group's partitions in timestamp order: it
// takes the partition with the smallest head timestamp (ties: the one listed
// first) and runs its records while they are no later than every other head.
// With hold, it stops when a lagging partition has no record left, and keeps
// what is left of the others in hold.
func mergeRuns(group []kgo.FetchTopicPartition, f func(kgo.FetchTopicPartition), hold *heldBack) {
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
			return
		}
		if hold != nil {
			waiting := false
			for i, ftp := range group {
				if next[i] == len(ftp.Records) && lagging(ftp) {
					hold.wait(ftp)
					waiting = true
				}
			}
			if waiting {
				hold.keep(group, next)
				return
			}
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
		f(run)
	}
}

// lagging reports whether the broker held records of a fetched partition past
// the last one fetched: its high watermark, or its last stable offset when
// that is lower (a reader of committed records gets nothing past it; counting
// too little only means not waiting). Transaction markers take offsets too;
// the consumer keeps them (rebuildConsumer), so they do not count as a lag.
func lagging(ftp kgo.FetchTopicPartition) bool {
	end := ftp.HighWatermark
	if ftp.LastStableOffset >= 0 && ftp.LastStableOffset < end {
		end = ftp.LastStableOffset
	}
	return end > ftp.Records[len(ftp.Records)-1].Offset+1
}

// heldBack is what timeOrdered kept of one fetch for the next.
type heldBack struct {
	parts   []kgo.FetchTopicPartition // records waiting, each partition's in log order
	lagging map[topicPartition]bool   // the partitions they wait for
	since   time.Time                 // when the records held now were first held
}

// keep holds what is left of group's partitions from next on.
func (h *heldBack) keep(group []kgo.FetchTopicPartition, next []int) {
	for i, ftp := range group {
		if next[i] < len(ftp.Records) {
			ftp.Records = ftp.Records[next[i]:]
			h.parts = append(h.parts, ftp)
		}
	}
}

// wait notes a lagging partition that the held records wait for.
func (h *heldBack) wait(ftp kgo.FetchTopicPartition) {
	if h.lagging == nil {
		h.lagging = map[topicPartition]bool{}
	}
	h.lagging[topicPartition{ftp.Topic, ftp.Partition}] = true
}

// maxHold bounds how long records wait for a lagging partition: the next
// fetch normally brings it at once; the bound keeps a lag that never
// arrives (a partition the broker stopped serving) from stalling the task.
const maxHold = time.Second

// timeOrdered returns fetches with the records of every group of partitions
// that need merging in timestamp order (inTimeOrder's runs, one after the
// other), so that any prefix of it is in order too: poll cuts it into batches.
// Without such topics, fetches is returned as it is.
//
// As Kafka Streams with its default max.task.idle.ms of 0 (KIP-695), a
// task's records wait while another of its inputs has records on the broker
// that were not fetched yet (its fetch reached a size limit): processing them
// would move the task's stream time past that input's records. held carries
// them to the next fetch, where they come first; processing goes on without
// the lagging input once they have waited maxHold. A partition with nothing
// on the broker past what was fetched does not hold the others back.
func timeOrdered(fetches kgo.Fetches, ordered map[string]bool, held *heldBack, now time.Time) kgo.Fetches {
	if len(ordered) == 0 {
		return fetches
	}
	fetches = withHeld(fetches, held.parts)
	held.parts = nil
	hold := held
	if held.since.IsZero() {
		held.since = now
	} else if now.Sub(held.since) >= maxHold {
		hold, held.lagging = nil, nil // waited long enough: everything goes
	}
	var out kgo.Fetches
	inTimeOrder(fetches, ordered, func(ftp kgo.FetchTopicPartition) {
		out = appendPartition(out, &kgo.FetchTopic{Topic: ftp.Topic}, ftp.FetchPartition)
	}, hold)
	if len(held.parts) == 0 {
		held.since, held.lagging = time.Time{}, nil
	}
	return out
}

// withHeld puts the records held from the last fetch before the same
// partitions' records of this one.
func withHeld(fetches kgo.Fetches, held []kgo.FetchTopicPartition) kgo.Fetches {
	for _, h := range held {
		found := false
		for fi := range fetches {
			for ti := range fetches[fi].Topics {
				t := &fetches[fi].Topics[ti]
				if t.Topic != h.Topic {
					continue
				}
				for pi := range t.Partitions {
					if p := &t.Partitions[pi]; p.Partition == h.Partition && !found {
						found = true
						p.Records = append(slices.Clip(h.Records), p.Records...)
					}
				}
			}
		}
		if !found {
			fetches = append(fetches, kgo.Fetch{Topics: []kgo.FetchTopic{{Topic: h.Topic, Partitions: []kgo.FetchPartition{h.FetchPartition}}}})
		}
	}
	return fetches
}
