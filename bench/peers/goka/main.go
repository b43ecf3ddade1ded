// Command goka is click-count written with github.com/lovoo/goka v1.1.17: the goka
// peer of gofka's examples/clickcount in the end-to-end benchmark (bench/e2e). It
// lives in its own module so that goka, Sarama and LevelDB stay out of gofka's
// go.mod.
//
// The idiomatic goka shape, one processor group:
//
//	user-clicks (key: click id, value: JSON {"user","url","bot"})
//	  → Input callback: drop bots, ctx.Loopback(user, click)      (goka's repartition:
//	                                                                topic <group>-loop)
//	  → Loop callback: count = ctx.Value()+1, ctx.SetValue(count)  (group table
//	                                                                <group>-table, LevelDB)
//	                   ctx.Emit(user-click-counts, user, count)
//	  → user-click-counts (key: user, value: int64, 8 bytes big-endian)
//
// The output bytes are exactly gofka's: goka's keys are strings sent as their
// bytes, and the count codec writes int64 big-endian in 8 bytes like gofka's
// IntSerde[int64] (goka's own codec.Int64 would write decimal text). Like gofka it
// emits every count update.
//
// Deviations from goka's defaults, each so that it runs on one local broker and
// reads the input that is already there: the topic manager creates the loop and
// table topics with one replica (goka's default is 2); the consumer starts at the
// oldest offset of the input (goka's default is the newest); the group table's
// LevelDB lives under --state-dir. Everything else (Sarama config, snappy
// compression, acks=1, LevelDB options, 1 s offset auto-commit) is goka's.
//
//	goka --brokers 127.0.0.1:9092 --group clickcount --in user-clicks --out user-click-counts --state-dir /tmp/goka
//
// It runs until SIGTERM or SIGINT and exits 1 when the processor fails.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
)

// Click is one click on a page: the JSON value of the input topic.
type Click struct {
	User string `json:"user"`
	URL  string `json:"url"`
	Bot  bool   `json:"bot"`
}

// clickCodec is the JSON codec of Click, for the input and the loop topic.
type clickCodec struct{}

func (clickCodec) Encode(v any) ([]byte, error) {
	c, ok := v.(*Click)
	if !ok {
		return nil, fmt.Errorf("click codec: cannot encode %T", v)
	}
	return json.Marshal(c)
}

func (clickCodec) Decode(data []byte) (any, error) {
	c := new(Click)
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("click codec: %w", err)
	}
	return c, nil
}

// countCodec encodes an int64 big-endian in 8 bytes, as gofka's IntSerde[int64]
// and Kafka's LongSerializer do; it is the codec of the group table and the output.
type countCodec struct{}

func (countCodec) Encode(v any) ([]byte, error) {
	n, ok := v.(int64)
	if !ok {
		return nil, fmt.Errorf("count codec: cannot encode %T", v)
	}
	return binary.BigEndian.AppendUint64(nil, uint64(n)), nil
}

func (countCodec) Decode(data []byte) (any, error) {
	if len(data) != 8 {
		return nil, fmt.Errorf("count codec: want 8 bytes, got %d", len(data))
	}
	return int64(binary.BigEndian.Uint64(data)), nil
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "comma-separated Kafka brokers")
	group := flag.String("group", "goka-clickcount", "processor group: names the consumer group, the loop and the table topic")
	in := flag.String("in", "user-clicks", "input topic (must exist)")
	out := flag.String("out", "user-click-counts", "output topic (must exist)")
	stateDir := flag.String("state-dir", "goka-state", "directory for the group table's LevelDB")
	quiet := flag.Bool("quiet", true, "discard goka's informational log lines")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, strings.Split(*brokers, ","), goka.Group(*group), goka.Stream(*in), goka.Stream(*out), *stateDir, *quiet); err != nil {
		fmt.Fprintln(os.Stderr, "goka click-count:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, brokers []string, group goka.Group, in, out goka.Stream, stateDir string, quiet bool) error {
	cfg := goka.DefaultConfig()
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest // read the input already loaded
	goka.ReplaceGlobalConfig(cfg)

	tm := goka.NewTopicManagerConfig()
	tm.Table.Replication = 1
	tm.Stream.Replication = 1

	g := goka.DefineGroup(group,
		goka.Input(in, clickCodec{}, func(ctx goka.Context, msg any) {
			c := msg.(*Click)
			if c.Bot {
				return
			}
			ctx.Loopback(c.User, c) // re-key by user: goka's repartition
		}),
		goka.Loop(clickCodec{}, func(ctx goka.Context, _ any) {
			var n int64
			if v := ctx.Value(); v != nil {
				n = v.(int64)
			}
			n++
			ctx.SetValue(n)
			ctx.Emit(out, ctx.Key(), n)
		}),
		goka.Output(out, countCodec{}),
		goka.Persist(countCodec{}),
	)
	opts := []goka.ProcessorOption{
		goka.WithTopicManagerBuilder(goka.TopicManagerBuilderWithTopicManagerConfig(tm)),
		goka.WithStorageBuilder(storage.DefaultBuilder(stateDir)),
	}
	if quiet {
		opts = append(opts, goka.WithLogger(log.New(io.Discard, "", 0)))
	}
	p, err := goka.NewProcessor(brokers, g, opts...)
	if err != nil {
		return fmt.Errorf("new processor: %w", err)
	}
	if err := p.Run(ctx); err != nil {
		return fmt.Errorf("processor: %w", err)
	}
	return nil
}
