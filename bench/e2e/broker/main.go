// Command broker is the embedded development broker of the end-to-end benchmark:
// franz-go's kfake, as a generated binary's `broker` command runs it, with two
// protocol versions held back so that Kafka's own Java clients (Kafka Streams)
// work against it too:
//
//   - CreateTopics at most v4: from v5 kfake answers each created topic's configs
//     with config_source -1, which the Java admin client rejects ("id should be
//     positive, id: -1"), so Kafka Streams cannot create its internal topics;
//   - no DescribeTopicPartitions (key 75): kfake answers it with a null
//     eligible_leader_replicas list, on which the Java admin client's
//     describeTopics throws a NullPointerException; without the key the client
//     falls back to Metadata, as with brokers older than 3.8.
//
// It listens on --listen, creates missing topics with --partitions partitions,
// and keeps data in memory until SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kversion"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9092", "address to listen on")
	partitions := flag.Int("partitions", 4, "partitions of topics created automatically")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(19, 4)  // CreateTopics: no configs in the response
	versions.SetMaxKeyVersion(75, -1) // DescribeTopicPartitions: removed
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(*partitions),
		kfake.MaxVersions(versions),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, *listen) }),
	)
	if err != nil {
		fmt.Fprintf(os.Stderr, "broker on %s: %v\n", *listen, err)
		os.Exit(1)
	}
	defer c.Close()
	fmt.Fprintf(os.Stderr, "benchmark broker (kfake) listening on %s\n", c.ListenAddrs()[0])
	<-ctx.Done()
}
