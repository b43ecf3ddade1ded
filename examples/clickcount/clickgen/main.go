// Command clickgen feeds the clickcount example and checks its output.
//
// It produces --n deterministic clicks (seeded by --seed; about a tenth of them by
// bots, spread over --users users) to the topic --topic, keyed by a click id with a
// JSON value like examples/clickcount's Click, and computes the count of real clicks
// per user itself. With --verify it then reads --counts-topic (string key, 8-byte
// big-endian int64 value) from the beginning until the latest count of every user
// equals the expected one, and prints a table:
//
//	user     count  expected  ok
//	user-00  451    451       ok
//	...
//
// If --timeout passes first it prints the table with the differences and exits 1.
//
//	clickgen --brokers 127.0.0.1:9092 --n 10000 --verify
//
// It takes the application's Kafka security flags (--tls, --tls-ca, --tls-cert,
// --tls-key, --tls-server-name, --sasl-mechanism, --sasl-username,
// --sasl-password-file, $GOFKA_SASL_PASSWORD, --sasl-oauth-…).
//
// The expected counts assume the application started from empty state: run it
// against a fresh broker (the clickcount binary's embedded one, for example).
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime/kafkaconf"
)

// Click is one click on a page: the same JSON as examples/clickcount's Click.
type Click struct {
	User string `json:"user"`
	URL  string `json:"url"`
	Bot  bool   `json:"bot"`
}

// options are the command-line flags.
type options struct {
	brokers     string
	topic       string
	countsTopic string
	n           int
	users       int
	seed        uint64
	verify      bool
	timeout     time.Duration
	security    kafkaconf.Security // --tls…, --sasl-… as the application takes them
	kafkaOpts   []kgo.Opt          // what they give
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("clickgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.brokers, "brokers", "127.0.0.1:9092", "comma-separated Kafka brokers")
	fs.StringVar(&o.topic, "topic", "user-clicks", "topic to produce clicks to")
	fs.StringVar(&o.countsTopic, "counts-topic", "user-click-counts", "topic of counts to verify (string key, big-endian int64 value)")
	fs.IntVar(&o.n, "n", 10000, "number of clicks to produce")
	fs.IntVar(&o.users, "users", 20, "number of distinct users")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed: the same seed gives the same clicks")
	fs.BoolVar(&o.verify, "verify", false, "after producing, read the counts topic until every user's count is the expected one")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long --verify waits for the expected counts")
	o.security.AddGoFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "clickgen: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if o.n < 0 || o.users <= 0 {
		fmt.Fprintln(stderr, "clickgen: --n must be >= 0 and --users > 0")
		return 2
	}

	clicks := Generate(o.seed, o.n, o.users)
	want := Expected(clicks)

	ctx := context.Background()
	if err := secure(ctx, &o); err != nil {
		fmt.Fprintln(stderr, "clickgen:", err)
		return 1
	}
	start := time.Now()
	if err := produce(ctx, o, clicks); err != nil {
		fmt.Fprintln(stderr, "clickgen:", err)
		return 1
	}
	bots := 0
	for _, c := range clicks {
		if c.Bot {
			bots++
		}
	}
	fmt.Fprintf(stderr, "clickgen: produced %d clicks (%d by bots) over %d users to %s in %v\n",
		len(clicks), bots, len(want), o.topic, time.Since(start).Round(time.Millisecond))
	if !o.verify {
		return 0
	}

	got, err := consume(ctx, o, want, stderr)
	printTable(stdout, userNames(o.users), got, want)
	if err != nil {
		fmt.Fprintln(stderr, "clickgen:", err)
		return 1
	}
	fmt.Fprintf(stderr, "clickgen: every count matches (%v after the first click was produced)\n", time.Since(start).Round(time.Millisecond))
	return 0
}

// userNames are the users clicks are spread over, in order.
func userNames(users int) []string {
	names := make([]string, users)
	width := len(fmt.Sprint(users - 1))
	for i := range names {
		names[i] = fmt.Sprintf("user-%0*d", width, i)
	}
	return names
}

// Generate makes n clicks from seed over the given number of users, about a tenth
// of them by bots. Click i has id ClickID(i).
func Generate(seed uint64, n, users int) []Click {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	names := userNames(users)
	clicks := make([]Click, n)
	for i := range clicks {
		clicks[i] = Click{
			User: names[rng.IntN(len(names))],
			URL:  fmt.Sprintf("/page/%d", rng.IntN(50)),
			Bot:  rng.IntN(10) == 0,
		}
	}
	return clicks
}

// ClickID is the key of the i-th click.
func ClickID(i int) string { return fmt.Sprintf("click-%06d", i) }

// Expected counts the real (non-bot) clicks of each user.
func Expected(clicks []Click) map[string]int64 {
	want := map[string]int64{}
	for _, c := range clicks {
		if !c.Bot {
			want[c.User]++
		}
	}
	return want
}

// secure turns the security flags into client options and, with any given,
// checks them against the brokers at once: a refused password or certificate
// ends clickgen with the broker and the cause named, instead of a timeout.
func secure(ctx context.Context, o *options) error {
	var err error
	if o.kafkaOpts, err = o.security.Options(ctx); err != nil {
		return err
	}
	if !o.security.Enabled() {
		return nil
	}
	w := kafkaconf.NewWatch(o.kafkaOpts)
	if err := w.Check(ctx, strings.Split(o.brokers, ","), o.kafkaOpts, 10*time.Second); kafkaconf.IsFatal(err) {
		return err
	}
	return nil // reachable, or not yet: the clients retry as they do without security
}

func newClient(o options, extra ...kgo.Opt) (*kgo.Client, error) {
	opts := append([]kgo.Opt{kgo.SeedBrokers(strings.Split(o.brokers, ",")...)}, o.kafkaOpts...)
	opts = append(opts, extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", o.brokers, err)
	}
	return cl, nil
}

// produce writes the clicks to o.topic and waits until every one is acknowledged.
func produce(ctx context.Context, o options, clicks []Click) error {
	// A broker that creates topics on demand (the embedded one does) creates the
	// topic if the application has not yet.
	cl, err := newClient(o, kgo.DefaultProduceTopic(o.topic), kgo.AllowAutoTopicCreation(),
		kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()

	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	errs := make(chan error, 1)
	for i, c := range clicks {
		value, err := json.Marshal(c)
		if err != nil {
			return err
		}
		cl.Produce(ctx, &kgo.Record{Key: []byte(ClickID(i)), Value: value}, func(r *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- fmt.Errorf("produce %s to %s: %w", r.Key, o.topic, err):
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("produce to %s: %w", o.topic, err)
	}
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// consume reads o.countsTopic from the start until the latest count of every user
// equals want (users missing from want must have no count, or 0), or until
// o.timeout. It returns the latest counts it saw.
func consume(ctx context.Context, o options, want map[string]int64, stderr io.Writer) (map[string]int64, error) {
	got := map[string]int64{}
	cl, err := newClient(o,
		kgo.ConsumeTopics(o.countsTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond),
	)
	if err != nil {
		return got, err
	}
	defer cl.Close()

	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var bad []string
	reported := map[string]bool{}
	for !matches(got, want) {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return got, fmt.Errorf("after %v, counts in %s differ from the expected ones (%d records with a bad value)", o.timeout, o.countsTopic, len(bad))
		}
		fetches.EachError(func(topic string, p int32, err error) {
			// Unknown topic while the application starts up, and the like:
			// the client retries. Say so once per kind of error.
			if msg := err.Error(); !reported[msg] {
				reported[msg] = true
				fmt.Fprintf(stderr, "clickgen: fetch %s[%d]: %v (retrying)\n", topic, p, err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			if len(r.Value) != 8 {
				bad = append(bad, fmt.Sprintf("%s[%d]@%d", r.Topic, r.Partition, r.Offset))
				return
			}
			got[string(r.Key)] = int64(binary.BigEndian.Uint64(r.Value))
		})
	}
	if len(bad) > 0 {
		return got, fmt.Errorf("%d records in %s have a value that is not 8 bytes, first at %s", len(bad), o.countsTopic, bad[0])
	}
	return got, nil
}

// matches reports whether every user has its expected count and no other user has
// a non-zero one.
func matches(got, want map[string]int64) bool {
	for u, n := range want {
		if got[u] != n {
			return false
		}
	}
	for u, n := range got {
		if want[u] != n {
			return false
		}
	}
	return true
}

// printTable prints one line per user (the known users, then any other key seen).
func printTable(w io.Writer, users []string, got, want map[string]int64) {
	rows := slices.Clone(users)
	var extra []string
	for u := range got {
		if !slices.Contains(users, u) {
			extra = append(extra, u)
		}
	}
	slices.Sort(extra)
	rows = append(rows, extra...)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "user\tcount\texpected\tok")
	var total, totalWant int64
	ok := 0
	for _, u := range rows {
		mark := "ok"
		if got[u] != want[u] {
			mark = "DIFF"
		} else {
			ok++
		}
		total += got[u]
		totalWant += want[u]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", u, got[u], want[u], mark)
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d/%d ok\n", total, totalWant, ok, len(rows))
	tw.Flush()
}
