// Command pipe is the raw franz-go consume→produce pipe with no processing: the
// limit for a Kafka-to-Kafka topology on a given broker. It copies every record
// of --in to the same partition of --out until stopped. With --via it takes the
// path a repartitioning topology takes: --in to --via, and --via to --out.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "comma-separated brokers")
	in := flag.String("in", "user-clicks", "input topic")
	out := flag.String("out", "pipe-out", "output topic")
	via := flag.String("via", "", "an intermediate topic (a repartition hop), if any")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, strings.Split(*brokers, ","), *in, *via, *out); err != nil {
		fmt.Fprintln(os.Stderr, "pipe:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, brokers []string, in, via, out string) error {
	admin, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer admin.Close()
	next := map[string]string{in: out}
	if via != "" {
		next = map[string]string{in: via, via: out}
	}
	assign := map[string]map[int32]kgo.Offset{}
	for topic := range next {
		topics, err := kadm.NewClient(admin).ListTopics(ctx, topic)
		if err != nil {
			return err
		}
		assign[topic] = map[int32]kgo.Offset{}
		for _, p := range topics[topic].Partitions {
			assign[topic][p.Partition] = kgo.NewOffset().AtStart()
		}
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(assign),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(5*time.Millisecond), // as the gofka runtime
	)
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		fetches := cl.PollRecords(ctx, 10_000)
		if ctx.Err() != nil {
			return nil
		}
		fetches.EachRecord(func(r *kgo.Record) {
			cl.Produce(ctx, &kgo.Record{Topic: next[r.Topic], Partition: r.Partition, Key: r.Key, Value: r.Value}, nil)
		})
	}
}
