package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func fetched(topic string, p int32, times ...int64) kgo.FetchTopicPartition {
	ftp := kgo.FetchTopicPartition{Topic: topic, FetchPartition: kgo.FetchPartition{Partition: p}}
	for i, ms := range times {
		ftp.Records = append(ftp.Records, &kgo.Record{Topic: topic, Partition: p, Offset: int64(i), Timestamp: time.UnixMilli(ms)})
	}
	return ftp
}

// TestInTimeOrderMergesATasksTopics checks that the partitions of a task that
// reads two topics are handed over in timestamp order, each partition's records
// in log order, and that a topic read alone is handed over whole.
func TestInTimeOrderMergesATasksTopics(t *testing.T) {
	routes := map[string][]route{
		"left":  {{subTopology: 0}},
		"right": {{subTopology: 0, source: 1}},
		"alone": {{subTopology: 1}},
	}
	ordered := orderedTopics(routes)
	if !ordered["left"] || !ordered["right"] || ordered["alone"] {
		t.Fatalf("ordered topics %v, want left and right", ordered)
	}
	fetches := kgo.Fetches{{Topics: []kgo.FetchTopic{
		{Topic: "left", Partitions: []kgo.FetchPartition{fetched("left", 0, 10, 30, 30, 50, 20).FetchPartition, fetched("left", 1, 5).FetchPartition}},
		{Topic: "right", Partitions: []kgo.FetchPartition{fetched("right", 0, 30, 40, 60).FetchPartition}},
		{Topic: "alone", Partitions: []kgo.FetchPartition{fetched("alone", 0, 9, 1).FetchPartition}},
	}}}
	var got []string
	inTimeOrder(fetches, ordered, func(ftp kgo.FetchTopicPartition) bool {
		var s string
		for _, r := range ftp.Records {
			s += fmt.Sprintf(" %d@%d", r.Offset, r.Timestamp.UnixMilli())
		}
		got = append(got, fmt.Sprintf("%s-%d:%s", ftp.Topic, ftp.Partition, s))
		return true
	})
	// Computed by hand: partition 0 of left and right is merged by head time
	// (ties go to the partition listed first, a run keeps its partition's log
	// order even where a later record is older); left-1 has no partner, and
	// alone-0 is handed over whole, first, as it needs no merging.
	wantMerged := []string{
		"left-0: 0@10 1@30 2@30",
		"right-0: 0@30 1@40",
		"left-0: 3@50 4@20",
		"right-0: 2@60",
	}
	var merged, rest []string
	for _, g := range got {
		if strings.HasSuffix(strings.SplitN(g, ":", 2)[0], "-0") && !strings.HasPrefix(g, "alone") {
			merged = append(merged, g)
		} else {
			rest = append(rest, g)
		}
	}
	if !slices.Equal(merged, wantMerged) {
		t.Errorf("task (0, 0) got runs\n%q\nwant\n%q", merged, wantMerged)
	}
	if want := []string{"alone-0: 0@9 1@1", "left-1: 0@5"}; !slices.Equal(rest, want) {
		t.Errorf("other partitions %q, want %q", rest, want)
	}
}

// TestPollBatchesKeepTimeOrder checks that cutting a fetch into batches keeps
// a task's topics merged by time across the batches: a batch taken in the
// fetch's own order would hold only the first topic's records (and move the
// task's stream time past the second topic's records in the next batch).
func TestPollBatchesKeepTimeOrder(t *testing.T) {
	routes := map[string][]route{"left": {{subTopology: 0}}, "right": {{subTopology: 0, source: 1}}}
	fetches := kgo.Fetches{{Topics: []kgo.FetchTopic{
		{Topic: "left", Partitions: []kgo.FetchPartition{fetched("left", 0, 10, 20, 30, 40, 50, 60).FetchPartition}},
		{Topic: "right", Partitions: []kgo.FetchPartition{fetched("right", 0, 15, 25, 35).FetchPartition}},
	}}}
	all := timeOrdered(fetches, orderedTopics(routes))
	var got []int64
	for len(all) > 0 {
		batch := takeRecords(&all, 2)
		batch.EachRecord(func(r *kgo.Record) { got = append(got, r.Timestamp.UnixMilli()) })
	}
	if want := []int64{10, 15, 20, 25, 30, 35, 40, 50, 60}; !slices.Equal(got, want) {
		t.Errorf("batches of 2 gave times %v, want %v", got, want)
	}
	unordered := timeOrdered(fetches, nil)
	if len(unordered[0].Topics) != 2 || len(unordered[0].Topics[0].Partitions[0].Records) != 6 {
		t.Errorf("without topics to merge the fetch must stay as it is")
	}
}
