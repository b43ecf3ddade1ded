package engine

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
)

// A barrier of a checkpoint that finished (an aborted one, still in flight
// on a repartition topic) counts for nothing: neither while no checkpoint
// runs nor toward the next one.
func TestBarriersOfAFinishedCheckpointIgnored(t *testing.T) {
	e := &Engine{log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: newMetrics(),
		routes: map[string][]route{"rep": {{subTopology: 1}}}}
	c := newCheckpoints(e)
	c.writers = map[string]int{"rep": 4} // four tasks write the repartition topic
	barrier := func(id uint64, from string) {
		c.barrier("rep", 0, &kgo.Record{Headers: []kgo.RecordHeader{
			{Key: barrierHeader, Value: []byte(strconv.FormatUint(id, 10))}, {Key: senderHeader, Value: []byte(from)}}})
	}
	k := coordinator.TaskID{SubTopology: 1, Partition: 0}
	c.start(4)
	barrier(4, "0_0")
	c.finished(context.Background(), 4, false) // aborted
	barrier(4, "0_1")                          // still in flight when it was aborted
	if len(c.seen) != 0 {
		t.Errorf("barriers of aborted checkpoint 4 kept: %v", c.seen)
	}
	barrier(5, "0_0") // the next checkpoint's, read before it started here
	c.start(5)
	barrier(4, "0_2")
	if got := c.seen[5][k]["rep"]; len(got) != 1 || !got["0_0"] || len(c.seen) != 1 {
		t.Errorf("checkpoint 5 saw %v (all: %v), want only 0_0's barrier", got, c.seen)
	}
}
