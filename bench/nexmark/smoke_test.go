package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestGofkaThroughEmbeddedBroker is the driver's gofka path on 10,000 events
// (100 a second: 100 s of event time, so q7 has ten windows)
// and the embedded kfake broker (the join queries q3, q4, q8 too; q4's rows
// are the last of each key): the events pre-loaded into nexmark-events,
// the gofkaq binary run per query, and its output topic equal to the
// brute-force reference's rows. (Kafka Streams runs only on a real broker, in
// make nexmark.)
func TestGofkaThroughEmbeddedBroker(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gofkaq")
	if msg, err := exec.Command("go", "build", "-o", bin, "./gofkaq").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	in, err := generate(10_000, 100)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if err := preload(ctx, cl, in); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"q2", "q3", "q4", "q7", "q8", "q11"} {
		t.Run(q, func(t *testing.T) {
			want, err := expected(q, in.events)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatalf("the reference gives no %s rows on 10,000 events: nothing to compare", q)
			}
			var topology string
			var table bool
			for _, x := range queries {
				if x.name == q {
					topology, table = x.topology, x.table
				}
			}
			dir := t.TempDir()
			res, err := runOne(ctx, brokers, []string{bin, "--brokers", brokers[0], "--topology", topology,
				"--app-id", "smoke-" + q, "--state-dir", filepath.Join(dir, "state"),
				"--status-addr", "", "--discovery=false", "--log-level", "warn"}, dir, "nexmark-"+q, want, table, 2*time.Minute, 2*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if !res.match {
				t.Fatalf("%s through the embedded broker: %s", q, res.diff)
			}
		})
	}
}
