package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/state/rocks"
)

// The click-count application's names.
const (
	inputTopic       = "user-clicks"
	outputTopic      = "user-click-counts"
	repartitionTopic = "click-count-click-counts-repartition"
	changelogTopic   = "click-count-click-counts-changelog"
	deadLetterTopic  = "click-count-dead-letter"
	group            = "click-count"
	storeName        = "click-counts"
	partitions       = 4
)

// click is the application's input value, declared here independently of it.
type click struct {
	User string `json:"user"`
	URL  string `json:"url"`
	Bot  bool   `json:"bot"`
}

// inClick is one input record: a click id (the key) and the click.
type inClick struct {
	id string
	c  click
}

func (c inClick) value() []byte {
	b, err := json.Marshal(c.c)
	if err != nil {
		panic(err)
	}
	return b
}

// makeClicks returns clicks number from to from+n-1: deterministic, over 97 users,
// exactly one in ten (number%10 == 3) a bot.
func makeClicks(from, n int) []inClick {
	out := make([]inClick, n)
	for j := range out {
		i := from + j
		out[j] = inClick{
			id: fmt.Sprintf("click-%07d", i),
			c:  click{User: fmt.Sprintf("user-%03d", (i*7919)%97), URL: fmt.Sprintf("/page/%d", i%13), Bot: i%10 == 3},
		}
	}
	return out
}

// randomClicks returns clicks number 0 to n-1 whose users rng draws from
// users of them (user-00000, …) and of which rng makes about one in ten a bot:
// the chaos input, the same again for the same seed. User and URL strings are
// shared between clicks, so that a million clicks stay small.
func randomClicks(rng *rand.Rand, n, users int) []inClick {
	names := make([]string, users)
	for u := range names {
		names[u] = fmt.Sprintf("user-%05d", u)
	}
	urls := make([]string, 13)
	for i := range urls {
		urls[i] = fmt.Sprintf("/page/%d", i)
	}
	out := make([]inClick, n)
	for i := range out {
		out[i] = inClick{
			id: fmt.Sprintf("click-%07d", i),
			c:  click{User: names[rng.IntN(users)], URL: urls[rng.IntN(len(urls))], Bot: rng.IntN(10) == 0},
		}
	}
	return out
}

// expectedCounts counts the real (non-bot) clicks of each user.
func expectedCounts(clicks []inClick) map[string]int64 {
	want := map[string]int64{}
	for _, c := range clicks {
		if !c.c.Bot {
			want[c.c.User]++
		}
	}
	return want
}

func realClicks(clicks []inClick) int {
	n := 0
	for _, c := range clicks {
		if !c.c.Bot {
			n++
		}
	}
	return n
}

// client is a franz-go client to the broker at addr (or a comma-separated
// list of brokers), closed at the end of the test.
func client(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(strings.Split(addr, ",")...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// clickCountBroker starts a broker (or takes the shared one) with click-count's
// input and output topics, and returns its address, a client and an admin client.
func clickCountBroker(ctx context.Context, t *testing.T) (string, *kgo.Client, *kadm.Client) {
	t.Helper()
	_, addr := startBroker(ctx, t)
	cl := client(t, addr)
	adm := kadm.NewClient(cl)
	createTopics(ctx, t, adm)
	return addr, cl, adm
}

// createTopics creates the application's input and output topics with 4
// partitions (the application requires its source topic to exist).
func createTopics(ctx context.Context, t *testing.T, adm *kadm.Client) {
	t.Helper()
	resp, err := adm.CreateTopics(ctx, partitions, 1, nil, inputTopic, outputTopic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("create topics: %v", err)
	}
}

// produce writes clicks to the input topic and waits for the acks.
func produce(ctx context.Context, t *testing.T, cl *kgo.Client, clicks []inClick) {
	t.Helper()
	if err := produceClicks(ctx, cl, clicks); err != nil {
		t.Fatal(err)
	}
}

func produceClicks(ctx context.Context, cl *kgo.Client, clicks []inClick) error {
	recs := make([]*kgo.Record, len(clicks))
	for i, c := range clicks {
		recs[i] = &kgo.Record{Topic: inputTopic, Key: []byte(c.id), Value: c.value()}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce %d clicks: %w", len(clicks), err)
	}
	return nil
}

// kafkaPartitioner is franz-go's implementation of Kafka's default partitioner
// for keyed records.
var kafkaPartitioner = kgo.StickyKeyPartitioner(nil).ForTopic(outputTopic)

// counts is what the output topic says: every update, and the latest per user.
type counts struct {
	records int
	latest  map[string]int64
	where   map[string]int32   // the partition each user's updates are in
	updates map[string][]int64 // every value, in order, per user
}

func newCounts() *counts {
	return &counts{latest: map[string]int64{}, where: map[string]int32{}, updates: map[string][]int64{}}
}

func (c *counts) add(r *kgo.Record) error {
	if len(r.Value) != 8 {
		return fmt.Errorf("output record at partition %d offset %d: value has %d bytes, want an 8-byte int64", r.Partition, r.Offset, len(r.Value))
	}
	user := string(r.Key)
	if p, ok := c.where[user]; ok && p != r.Partition {
		return fmt.Errorf("output for %s is in partitions %d and %d: updates of one key must stay in one partition", user, p, r.Partition)
	}
	// The application partitions by key as Kafka's Java client does (murmur2),
	// so that other clients agree on where a key lives; franz-go's default
	// partitioner is that one too.
	if want := int32(kafkaPartitioner.Partition(&kgo.Record{Key: r.Key}, partitions)); r.Partition != want {
		return fmt.Errorf("output for %s is in partition %d, but Kafka's default partitioner puts the key in %d", user, r.Partition, want)
	}
	c.where[user] = r.Partition
	v := int64(binary.BigEndian.Uint64(r.Value))
	c.records++
	c.latest[user] = v
	c.updates[user] = append(c.updates[user], v)
	return nil
}

// tail reads the output topic from its start as it grows.
type tail struct {
	cl *kgo.Client
	c  *counts
}

// opts are extra client options (TLS, SASL: conn.opts).
func newTail(t *testing.T, addr, topic string, opts ...kgo.Opt) *tail {
	cl := client(t, addr, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100 * time.Millisecond), kgo.MetadataMinAge(100 * time.Millisecond)}, opts...)...)
	return &tail{cl: cl, c: newCounts()}
}

// pollOnce takes what has arrived, waiting at most 200ms.
func (tl *tail) pollOnce(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	fetches := tl.cl.PollFetches(pctx)
	var err error
	fetches.EachError(func(topic string, p int32, e error) {
		if !errors.Is(e, context.DeadlineExceeded) && !errors.Is(e, context.Canceled) && err == nil {
			err = fmt.Errorf("consume %s partition %d: %w", topic, p, e)
		}
	})
	fetches.EachRecord(func(r *kgo.Record) {
		if err == nil {
			err = tl.c.add(r)
		}
	})
	return err
}

// until polls the output until cond holds for what has been read.
func (tl *tail) until(ctx context.Context, what string, cond func(c *counts) bool) error {
	for !cond(tl.c) {
		if err := tl.pollOnce(ctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting until %s: %w (read %d output records)", what, ctx.Err(), tl.c.records)
		}
	}
	return nil
}

// readAll reads a topic from its start to the end offsets it has now
// (read_uncommitted); opts are extra client options (TLS, SASL: conn.opts).
func readAll(ctx context.Context, t *testing.T, addr, topic string, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	var out []*kgo.Record
	readTopic(ctx, t, addr, topic, false, func(r *kgo.Record) { out = append(out, r) }, opts...)
	return out
}

// endOffsetSum is the number of records written to topic so far.
func endOffsetSum(ctx context.Context, t *testing.T, adm *kadm.Client, topic string) int {
	t.Helper()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	n := 0
	ends.Each(func(o kadm.ListedOffset) { n += int(o.Offset) })
	return n
}

// readCounts reads the whole output topic as it is now; opts are extra client
// options (TLS, SASL: conn.opts).
func readCounts(ctx context.Context, t *testing.T, addr string, opts ...kgo.Opt) *counts {
	t.Helper()
	c := newCounts()
	for _, r := range readAll(ctx, t, addr, outputTopic, opts...) {
		if err := c.add(r); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// compactedChangelog is the changelog as compaction would leave it: the latest
// value per key (a nil value deletes).
func compactedChangelog(ctx context.Context, t *testing.T, addr string) (map[string]int64, int) {
	t.Helper()
	recs := readAll(ctx, t, addr, changelogTopic)
	m := map[string]int64{}
	for _, r := range recs {
		if r.Value == nil {
			delete(m, string(r.Key))
			continue
		}
		if len(r.Value) != 8 {
			t.Fatalf("changelog record at partition %d offset %d has a %d-byte value", r.Partition, r.Offset, len(r.Value))
		}
		m[string(r.Key)] = int64(binary.BigEndian.Uint64(r.Value))
	}
	return m, len(recs)
}

// consumedAll reports whether the group has committed the end offset of every
// partition of the input and repartition topics, with a description when not.
func consumedAll(ctx context.Context, adm *kadm.Client) (bool, string, error) {
	ends, err := adm.ListEndOffsets(ctx, inputTopic, repartitionTopic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return false, "", err
	}
	committed, err := fetchCommitted(ctx, adm)
	if err != nil {
		return false, "", err
	}
	lag := ""
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(o.Topic, o.Partition)
		at := int64(0)
		if ok {
			at = c.At
		}
		if at != o.Offset {
			lag += fmt.Sprintf(" %s/%d committed %d of %d;", o.Topic, o.Partition, at, o.Offset)
		}
	})
	return lag == "", lag, nil
}

// fetchCommitted returns the group's committed offsets: none before its first commit.
func fetchCommitted(ctx context.Context, adm *kadm.Client) (kadm.OffsetResponses, error) {
	committed, err := adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil, nil
	}
	return committed, err
}

// committedSum is the sum of the group's committed offsets on topic.
func committedSum(ctx context.Context, adm *kadm.Client, topic string) (int64, error) {
	committed, err := fetchCommitted(ctx, adm)
	if err != nil {
		return 0, err
	}
	var n int64
	committed.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.At > 0 {
			n += o.At
		}
	})
	return n, nil
}

// readStore opens the application's RocksDB instance (the application must have
// exited) and returns every entry of the click-counts store.
func readStore(t *testing.T, stateDir string) map[string]int64 {
	t.Helper()
	out, seen := readReplicaStores(t, filepath.Join(stateDir, group, "0"), nil)
	if seen != partitions {
		t.Fatalf("the state has %d partitions of store %s, want %d", seen, storeName, partitions)
	}
	return out
}

// readReplicaStores adds to out (made if nil) the click-count store partitions
// held by the RocksDB instances of one replica's directory, and says how many
// partitions it found. A key in two partitions is an error.
func readReplicaStores(t *testing.T, replicaDir string, out map[string]int64) (map[string]int64, int) {
	t.Helper()
	if out == nil {
		out = map[string]int64{}
	}
	pool, err := rocks.OpenPool(filepath.Join(replicaDir, "state"), rocks.Memory{BlockCache: 8 << 20, WriteBuffers: 8 << 20})
	if err != nil {
		t.Fatalf("open the application's state: %v", err)
	}
	defer pool.Close()
	names, err := pool.Instances()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, name := range names {
		db, err := pool.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range db.Stores() {
			if sp.Store != storeName {
				continue
			}
			seen++
			s, err := db.Store(sp.Store, sp.Partition)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Range(func(k, v []byte) error {
				if len(v) != 8 {
					return fmt.Errorf("%v: key %q has a %d-byte value", sp, k, len(v))
				}
				if _, dup := out[string(k)]; dup {
					return fmt.Errorf("key %q is in more than one partition of the store", k)
				}
				out[string(k)] = int64(binary.BigEndian.Uint64(v))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
	}
	return out, seen
}

// diffCounts describes how got differs from want (empty when equal).
func diffCounts(got, want map[string]int64) string {
	var s string
	n := 0
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			if n < 10 {
				if _, ok := got[k]; !ok {
					s += fmt.Sprintf(" %s: missing, want %d;", k, want[k])
				} else {
					s += fmt.Sprintf(" %s: %d, want %d;", k, got[k], want[k])
				}
			}
			n++
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			if n < 10 {
				s += fmt.Sprintf(" %s: %d, want none;", k, got[k])
			}
			n++
		}
	}
	if n > 0 {
		s = fmt.Sprintf("%d keys differ:%s", n, s)
	}
	return s
}

// equalCounts is a tail condition: the latest count of every user is want's.
func equalCounts(want map[string]int64) func(*counts) bool {
	return func(c *counts) bool { return diffCounts(c.latest, want) == "" }
}
