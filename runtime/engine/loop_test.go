package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTakeRecordsHandsOutEveryRecordOnceInOrder splits random fetches into
// batches of random sizes and checks, against a plain list of the fetched
// records, that every record comes out exactly once, each partition's in
// offset order, that a batch is full unless the fetch ran out, and that
// partitions without records (fetch errors) are handed out too.
func TestTakeRecordsHandsOutEveryRecordOnceInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var f kgo.Fetches
		var want []string // "topic/partition/offset" of every record, in fetch order
		empty := 0
		for range rng.IntN(3) + 1 {
			var fetch kgo.Fetch
			for ti := range rng.IntN(3) + 1 {
				topic := string(rune('a' + ti))
				ft := kgo.FetchTopic{Topic: topic}
				for p := range int32(rng.IntN(4) + 1) {
					fp := kgo.FetchPartition{Partition: p, HighWatermark: 1000}
					n := rng.IntN(30)
					if n == 0 {
						empty++
					}
					for o := range int64(n) {
						fp.Records = append(fp.Records, &kgo.Record{Topic: topic, Partition: p, Offset: o})
						want = append(want, key(topic, p, o))
					}
					ft.Partitions = append(ft.Partitions, fp)
				}
				fetch.Topics = append(fetch.Topics, ft)
			}
			f = append(f, fetch)
		}
		var got []string
		gotEmpty := 0
		for len(f) > 0 {
			n := rng.IntN(40) + 1
			batch := takeRecords(&f, n)
			taken := 0
			batch.EachPartition(func(p kgo.FetchTopicPartition) {
				if len(p.Records) == 0 {
					gotEmpty++
				}
				for _, r := range p.Records {
					if r.Topic != p.Topic || r.Partition != p.Partition || p.HighWatermark != 1000 {
						t.Fatalf("round %d: record %s/%d under %s/%d (hwm %d)", round, r.Topic, r.Partition, p.Topic, p.Partition, p.HighWatermark)
					}
					got = append(got, key(r.Topic, r.Partition, r.Offset))
					taken++
				}
			})
			if taken > n || (taken < n && len(f) > 0 && remaining(f) > 0) {
				t.Fatalf("round %d: took %d of at most %d with %d left", round, taken, n, remaining(f))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: %d records handed out, %d fetched", round, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d: record %d is %s, want %s", round, i, got[i], want[i])
			}
		}
		if gotEmpty != empty {
			t.Fatalf("round %d: %d partitions without records handed out, %d fetched", round, gotEmpty, empty)
		}
	}
}

func remaining(f kgo.Fetches) int {
	n := 0
	f.EachPartition(func(p kgo.FetchTopicPartition) { n += len(p.Records) })
	return n
}

func key(topic string, p int32, o int64) string {
	return topic + "/" + string(rune('0'+p)) + "/" + string(rune('0'+o))
}
