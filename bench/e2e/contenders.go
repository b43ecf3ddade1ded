package main

import (
	"cmp"
	"fmt"
	"strconv"

	"github.com/gofka/streams/internal/testkit"
)

// outputKind says what a contender's output holds once its input is processed,
// which decides when a measurement is complete and how its output is checked.
type outputKind int

const (
	// copies: one record per input record (the raw pipes).
	copies outputKind = iota
	// updates: one count update per real click; each user's counts are 1..n.
	updates
	// finals: some count updates per user, the last being the final count (a
	// record cache forwards only the latest value of a key at each flush).
	finals
)

// contender is one program the benchmark runs.
type contender struct {
	id   string // for -contenders
	name string // in the report
	// args is the command line of one measurement.
	args func(m *measurement) []string
	// fixedIn and fixedOut name the topics when the program cannot be told
	// (gofka's topology names them); otherwise every measurement gets fresh ones.
	fixedIn, fixedOut string
	mid               bool // needs an intermediate topic (the two-hop pipe)
	// windowed: a windowed page-view count (windowed.go), which also writes
	// final counts (fixedFinal, if named by the topology) and, gofka only,
	// late views (fixedLate).
	windowed              bool
	fixedFinal, fixedLate string
	kind                  outputKind
	java                  bool   // needs java and mvn (the Kafka Streams peer)
	note                  string // its settings, for the report
}

var contenders = []contender{
	{
		id:   "pipe",
		name: "raw franz-go pipe",
		args: func(m *measurement) []string {
			return []string{m.bins.pipe, "-brokers", m.addr, "-in", m.in, "-out", m.out}
		},
		kind: copies,
		note: "bench/e2e/pipe: consume every input partition, produce each record unchanged to the same partition of the output (franz-go defaults, linger 5 ms); the broker-bound limit",
	},
	{
		id:   "pipe2",
		name: "raw pipe, two hops",
		args: func(m *measurement) []string {
			return []string{m.bins.pipe, "-brokers", m.addr, "-in", m.in, "-via", m.mid, "-out", m.out}
		},
		mid:  true,
		kind: copies,
		note: "the same pipe through an intermediate topic: the limit for a topology with one repartition, as click-count has",
	},
	{
		id:      "gofka",
		name:    "gofka click-count",
		args:    func(m *measurement) []string { return gofkaArgs(m, m.bins.gofka) },
		fixedIn: "user-clicks", fixedOut: "user-click-counts",
		kind: updates,
		note: "the binary generated from examples/clickcount: defaults (RocksDB store behind gofka's typed write-back cache, --memory 256MiB, at-least-once), --commit-interval as above; forwards every count update; the repartition topic carries the key only",
	},
	{
		id:   "kstreams",
		name: "Kafka Streams (10 MiB cache)",
		args: func(m *measurement) []string { return kstreamsArgs(m, "gofka.bench.ClickCount", -1) },
		kind: finals,
		java: true,
		note: "bench/peers/kstreams, Kafka Streams 3.9.1 defaults: statestore.cache.max.bytes 10 MiB (so only the latest count of a user is forwarded at each commit), RocksDB store, 1 stream thread, commit.interval.ms as gofka's; the repartition topic carries the click as JSON",
	},
	{
		id:   "kstreams-nocache",
		name: "Kafka Streams (no cache)",
		args: func(m *measurement) []string { return kstreamsArgs(m, "gofka.bench.ClickCount", 0) },
		kind: updates,
		java: true,
		note: "the same with statestore.cache.max.bytes=0: every count update is forwarded (gofka's output) and written to the changelog",
	},
	{
		id:   "goka",
		name: "goka click-count",
		args: func(m *measurement) []string {
			return []string{m.bins.goka, "--brokers", m.addr, "--group", m.appID, "--in", m.in, "--out", m.out, "--state-dir", m.stateDir}
		},
		kind: updates,
		note: "bench/peers/goka, goka v1.1.17 (Sarama): Input → ctx.Loopback (loop topic) → Loop callback with the count in the group table (LevelDB, table topic) → ctx.Emit; goka's defaults otherwise",
	},
}

// gofkaArgs runs the gofka binary bin with the measurement's settings.
func gofkaArgs(m *measurement, bin string) []string {
	level := cmp.Or(m.cfg.gofkaLogLevel, "warn")
	args := []string{bin, "run", "--brokers", m.addr, "--app-id", m.appID,
		"--state-dir", m.stateDir, "--log-level", level,
		"--commit-interval", m.commit().String()}
	if m.set.eos {
		args = append(args, "--guarantee", "exactly-once")
	}
	if m.set.memory != "" {
		args = append(args, "--memory", m.set.memory)
	}
	if m.set.checkpoint > 0 {
		args = append(args, "--checkpoint-interval", m.set.checkpoint.String())
	}
	if m.set.profile != "" {
		args = append(args, "--cpu-profile", m.set.profile)
	}
	return args
}

// kstreamsArgs runs the peer's class with the measurement's settings, then
// extra flags; cacheBytes < 0 leaves Kafka Streams' default cache.
func kstreamsArgs(m *measurement, class string, cacheBytes int, extra ...string) []string {
	args := testkit.KStreamsPeerCommand(m.bins.kstreams, m.cfg.javaHeap, class,
		"--bootstrap", m.addr, "--app-id", m.appID, "--in", m.in, "--out", m.out, "--state-dir", m.stateDir,
		"--commit-ms", strconv.FormatInt(m.commit().Milliseconds(), 10))
	if m.set.eos {
		args = append(args, "--guarantee", "exactly_once_v2")
	}
	if cacheBytes >= 0 {
		args = append(args, "--cache-bytes", strconv.Itoa(cacheBytes))
	}
	return append(args, extra...)
}

// baseContender runs -gofka-base, another build of click-count, as gofka runs
// its own; it is never among the defaults.
var baseContender = contender{
	id:      "gofka-base",
	name:    "gofka click-count, -gofka-base build",
	args:    func(m *measurement) []string { return gofkaArgs(m, m.cfg.gofkaBase) },
	fixedIn: "user-clicks", fixedOut: "user-click-counts",
	kind: updates,
	note: "the click-count binary given by -gofka-base (built from another commit), with gofka's settings: the before of a before/after comparison",
}

func contenderIDs() []string { return idsOf(contenders) }

func idsOf(list []contender) []string {
	var ids []string
	for _, c := range list {
		ids = append(ids, c.id)
	}
	return ids
}

func lookupContender(id string) (contender, error) { return lookupIn(contenders, id) }

func lookupIn(list []contender, id string) (contender, error) {
	for _, c := range list {
		if c.id == id {
			return c, nil
		}
	}
	return contender{}, fmt.Errorf("no contender %q (there are %v)", id, idsOf(list))
}
