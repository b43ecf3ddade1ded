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
	inTimeOrder(fetches, ordered, func(ftp kgo.FetchTopicPartition) {
		var s string
		for _, r := range ftp.Records {
			s += fmt.Sprintf(" %d@%d", r.Offset, r.Timestamp.UnixMilli())
		}
		got = append(got, fmt.Sprintf("%s-%d:%s", ftp.Topic, ftp.Partition, s))
	}, nil)
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
	all := timeOrdered(fetches, orderedTopics(routes), &heldBack{}, time.Now())
	var got []int64
	for len(all) > 0 {
		batch := takeRecords(&all, 2)
		batch.EachRecord(func(r *kgo.Record) { got = append(got, r.Timestamp.UnixMilli()) })
	}
	if want := []int64{10, 15, 20, 25, 30, 35, 40, 50, 60}; !slices.Equal(got, want) {
		t.Errorf("batches of 2 gave times %v, want %v", got, want)
	}
	unordered := timeOrdered(fetches, nil, &heldBack{}, time.Now())
	if len(unordered[0].Topics) != 2 || len(unordered[0].Topics[0].Partitions[0].Records) != 6 {
		t.Errorf("without topics to merge the fetch must stay as it is")
	}
}

// TestLaggingInputHoldsTheOthers checks the wait of Kafka Streams'
// max.task.idle.ms=0: records wait for the next fetch while another input of
// their task has records on the broker past what was fetched, and go once
// they have waited maxHold.
func TestLaggingInputHoldsTheOthers(t *testing.T) {
	ordered := orderedTopics(map[string][]route{"left": {{subTopology: 0}}, "right": {{subTopology: 0, source: 1}}})
	part := func(topic string, first, hwm int64, times ...int64) kgo.FetchPartition {
		p := fetched(topic, 0, times...).FetchPartition
		for i, r := range p.Records {
			r.Offset = first + int64(i)
		}
		p.HighWatermark, p.LastStableOffset = hwm, hwm
		return p
	}
	one := func(topic string, p kgo.FetchPartition) kgo.Fetches {
		return kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: topic, Partitions: []kgo.FetchPartition{p}}}}}
	}
	both := func(l, r kgo.FetchPartition) kgo.Fetches {
		return kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: "left", Partitions: []kgo.FetchPartition{l}}, {Topic: "right", Partitions: []kgo.FetchPartition{r}}}}}
	}
	times := func(f kgo.Fetches) (out []string) {
		f.EachRecord(func(r *kgo.Record) { out = append(out, fmt.Sprintf("%s%d", r.Topic[:1], r.Timestamp.UnixMilli())) })
		return out
	}
	now := time.Unix(1000, 0)
	var held heldBack
	// right has 5 records on the broker, 1 fetched: left's records past it wait.
	got := times(timeOrdered(both(part("left", 0, 4, 10, 20, 30, 40), part("right", 0, 5, 15)), ordered, &held, now))
	if want := []string{"l10", "r15"}; !slices.Equal(got, want) {
		t.Fatalf("first fetch gave %v, want %v (the rest held)", got, want)
	}
	got = times(timeOrdered(one("right", part("right", 1, 5, 25, 35, 45, 55)), ordered, &held, now.Add(10*time.Millisecond)))
	if want := []string{"l20", "r25", "l30", "r35", "l40", "r45", "r55"}; !slices.Equal(got, want) || len(held.parts) != 0 {
		t.Fatalf("second fetch gave %v (held %d), want %v", got, len(held.parts), want)
	}
	// A lag that never arrives holds records at most maxHold.
	got = times(timeOrdered(both(part("left", 4, 6, 60, 70), part("right", 5, 9, 65)), ordered, &held, now))
	if want := []string{"l60", "r65"}; !slices.Equal(got, want) {
		t.Fatalf("third fetch gave %v, want %v", got, want)
	}
	if got = times(timeOrdered(nil, ordered, &held, now.Add(maxHold/2))); len(got) != 0 {
		t.Fatalf("within maxHold, an empty fetch gave %v, want nothing", got)
	}
	if got = times(timeOrdered(nil, ordered, &held, now.Add(maxHold))); !slices.Equal(got, []string{"l70"}) {
		t.Fatalf("after maxHold an empty fetch gave %v, want [l70]", got)
	}
}
