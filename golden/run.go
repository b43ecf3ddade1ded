package golden

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/streamstest"
)

// Partitions is the number of partitions of every topic when a case runs. It is
// more than one so that a missing repartition shows: records with equal new keys
// would then be counted in different tasks, and a store would hold a key twice.
const Partitions = 3

// InputRecord is one line of an input.txt: a record to pipe into Topic.
type InputRecord struct {
	Line       int
	Topic      string
	Key, Value []byte // nil for the word nil
	// Time is the record's timestamp in ms when the line gives one (@N);
	// otherwise the driver's clock, which advances 1 ms per record.
	Time    int64
	HasTime bool
}

// ParseInput reads an input.txt. Each line is
//
//	<topic> <key> <value> [@<timestamp>]
//
// where key and value are each a Go string literal (interpreted or raw, e.g.
// "alice" or `{"User":"ann"}`), int64(N) for N as 8 big-endian bytes (the int64
// serde), float64(F) for F as 8 big-endian IEEE 754 bytes (the float64 serde), or
// nil, and the optional @N gives the record the timestamp N ms (without it,
// records get 0, 1, 2, ... ms). Blank lines and lines starting with # are skipped;
// a line "@partitions N" makes topics have N partitions instead of Partitions
// (for a scenario ported from a single-partition test, whose stream time and
// buffers are those of one task); a line "@timestamps" makes the report show
// each sink record's timestamp (see Run).
func ParseInput(data []byte) ([]InputRecord, error) {
	var recs []InputRecord
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "@partitions ") || line == "@timestamps" {
			continue
		}
		topic, rest, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("input.txt:%d: want <topic> <key> <value>", i+1)
		}
		key, rest, err := parseBytes(strings.TrimLeft(rest, " "))
		if err != nil {
			return nil, fmt.Errorf("input.txt:%d: key: %v", i+1, err)
		}
		value, rest, err := parseBytes(strings.TrimLeft(rest, " "))
		if err != nil {
			return nil, fmt.Errorf("input.txt:%d: value: %v", i+1, err)
		}
		rec := InputRecord{Line: i + 1, Topic: topic, Key: key, Value: value}
		if at, ok := strings.CutPrefix(strings.TrimSpace(rest), "@"); ok {
			if rec.Time, err = strconv.ParseInt(at, 10, 64); err != nil {
				return nil, fmt.Errorf("input.txt:%d: timestamp: %v", i+1, err)
			}
			rec.HasTime, rest = true, ""
		}
		if strings.TrimSpace(rest) != "" {
			return nil, fmt.Errorf("input.txt:%d: unexpected %q after the value", i+1, rest)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// parseBytes reads one key or value token from the start of s and returns the rest.
func parseBytes(s string) (b []byte, rest string, err error) {
	switch {
	case s == "":
		return nil, "", fmt.Errorf("missing")
	case s[0] == '"' || s[0] == '`':
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, "", err
		}
		u, _ := strconv.Unquote(q)
		return []byte(u), s[len(q):], nil
	case strings.HasPrefix(s, "nil") && (len(s) == 3 || s[3] == ' '):
		return nil, s[3:], nil
	case strings.HasPrefix(s, "int64("), strings.HasPrefix(s, "float64("):
		open := strings.IndexByte(s, '(')
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return nil, "", fmt.Errorf("missing ) in %q", s)
		}
		arg := s[open+1 : end]
		if s[:open] == "int64" {
			n, err := strconv.ParseInt(arg, 10, 64)
			if err != nil {
				return nil, "", err
			}
			return binary.BigEndian.AppendUint64(nil, uint64(n)), s[end+1:], nil
		}
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil {
			return nil, "", err
		}
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(f)), s[end+1:], nil
	}
	return nil, "", fmt.Errorf("want a quoted string, int64(N), float64(F) or nil at %q", s)
}

// FormatBytes prints a key or value of an output record or store entry: nil, or
// the bytes as a Go string literal.
func FormatBytes(b []byte) string {
	if b == nil {
		return "nil"
	}
	return strconv.Quote(string(b))
}

// FormatValue is FormatBytes followed, for a value of 8 bytes, by the int64 it
// encodes big-endian: " (int64 N)". Eight bytes of printable ASCII are taken for
// text, and get no int64.
func FormatValue(b []byte) string {
	s := FormatBytes(b)
	if len(b) == 8 && slices.ContainsFunc(b, func(c byte) bool { return c < 0x20 || c > 0x7e }) {
		s += fmt.Sprintf(" (int64 %d)", int64(binary.BigEndian.Uint64(b)))
	}
	return s
}

// Run runs each program in its own streamstest.Driver with Partitions partitions:
// it pipes, in order, every input record whose topic the program reads, then
// writes to w the program's name, the records of its sink topics (topics in name
// order, records in produce order) and the entries of its stores (stores in name
// order, entries in key order):
//
//	program ClickCount
//	user-click-counts "alice" "\x00\x00\x00\x00\x00\x00\x00\x01" (int64 1)
//	store click-counts "alice" "\x00\x00\x00\x00\x00\x00\x00\x01" (int64 1)
//
// With a line "@timestamps" in the input, each sink record's line ends with
// @N, its timestamp in ms.
//
// A record that fails to process is reported in place of its outputs as
// "error: input line N: <error>". It is an error for an input record to be read
// by no program.
//
// Run also checks two invariants, and reports a violation as a line starting with
// "error:": replaying a store's changelog topic gives the store's contents; and a
// second run, in which every store's cache holds a single entry (so that it is
// flushed all the time), gives the same report.
func Run(w io.Writer, programs []*runtime.Program, input []byte) error {
	recs, err := ParseInput(input)
	if err != nil {
		return err
	}
	parts := streamstest.WithPartitions(Partitions)
	times := false
	for _, line := range strings.Split(string(input), "\n") {
		if strings.TrimSpace(line) == "@timestamps" {
			times = true
		}
		if n, ok := strings.CutPrefix(strings.TrimSpace(line), "@partitions "); ok {
			np, err := strconv.ParseInt(strings.TrimSpace(n), 10, 32)
			if err != nil || np < 1 {
				return fmt.Errorf("input.txt: %q: want @partitions N, N >= 1", line)
			}
			parts = streamstest.WithPartitions(int32(np))
		}
	}
	read := make([]bool, len(recs))
	for _, p := range programs {
		var report, small bytes.Buffer
		runProgram(&report, p, recs, read, times, parts)
		runProgram(&small, p, recs, read, times, parts, streamstest.WithCacheEntries(1))
		w.Write(report.Bytes())
		if !bytes.Equal(report.Bytes(), small.Bytes()) {
			fmt.Fprintf(w, "error: with a store cache of 1 entry, the report is instead:\n%s", small.Bytes())
		}
	}
	for i, r := range recs {
		if !read[i] {
			return fmt.Errorf("input.txt:%d: no program reads topic %q", r.Line, r.Topic)
		}
	}
	return nil
}

// runProgram pipes recs into a new driver of p (with opts, which set its
// partitions) and writes the report of Run; with times, each sink record's
// timestamp too.
func runProgram(w io.Writer, p *runtime.Program, recs []InputRecord, read []bool, times bool, opts ...streamstest.Option) {
	fmt.Fprintf(w, "program %s\n", p.Name)
	d := streamstest.NewDriver(p, opts...)
	sources := map[string]bool{}
	var sinks []string
	for id, t := range p.Topics {
		name := d.TopicName(runtime.TopicID(id))
		switch t.Kind {
		case runtime.SourceTopic:
			sources[name] = true
		case runtime.SinkTopic:
			sinks = append(sinks, name)
		}
	}
	for i, r := range recs {
		if !sources[r.Topic] {
			continue
		}
		read[i] = true
		pipe := d.PipeRaw
		if r.HasTime {
			pipe = func(topic string, key, value []byte) error { return d.PipeRawAt(topic, key, value, r.Time) }
		}
		if err := pipe(r.Topic, r.Key, r.Value); err != nil {
			msg := strings.ReplaceAll(err.Error(), "\n", "\n  ")
			fmt.Fprintf(w, "error: input line %d: %s\n", r.Line, msg)
		}
	}
	slices.Sort(sinks)
	for _, name := range sinks {
		for _, r := range d.ReadRaw(name) {
			fmt.Fprintf(w, "%s %s %s", name, FormatBytes(r.Key), FormatValue(r.Value))
			if times {
				fmt.Fprintf(w, " @%d", r.Timestamp)
			}
			fmt.Fprintln(w)
		}
	}
	stores := slices.Clone(p.Stores)
	slices.SortFunc(stores, func(a, b runtime.StoreSpec) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range stores {
		kvs, err := streamstest.RawStore(d, s.Name).All()
		if err != nil {
			fmt.Fprintf(w, "error: store %s: %v\n", s.Name, err)
		}
		for _, kv := range kvs {
			fmt.Fprintf(w, "store %s %s %s\n", s.Name, FormatBytes(kv.Key), FormatValue(kv.Value))
		}
		if err := checkChangelog(kvs, d.ReadRaw(d.TopicName(s.Changelog)), s.Timestamped); err != nil {
			fmt.Fprintf(w, "error: store %s: %v\n", s.Name, err)
		}
	}
	if err := d.Close(); err != nil {
		fmt.Fprintf(w, "error: close: %v\n", err)
	}
}

// checkChangelog replays a store's changelog records (a nil value deletes its key)
// and compares the result with the store's entries, which are in key order
// (without their timestamps, in a timestamped store).
func checkChangelog(entries []streams.KeyValue[[]byte, []byte], changelog []runtime.Record, timestamped bool) error {
	type pk struct {
		partition int32
		key       string
	}
	replay := map[pk][]byte{}
	for _, r := range changelog {
		if r.Value == nil {
			delete(replay, pk{r.Partition, string(r.Key)})
		} else {
			v := r.Value
			if timestamped {
				var err error
				if v, _, err = state.TimestampedValue(v); err != nil {
					return fmt.Errorf("changelog record of key %q: %w", r.Key, err)
				}
			}
			replay[pk{r.Partition, string(r.Key)}] = v
		}
	}
	keys := slices.Collect(maps.Keys(replay))
	slices.SortFunc(keys, func(a, b pk) int { return cmp.Or(strings.Compare(a.key, b.key), cmp.Compare(a.partition, b.partition)) })
	// The driver logs a nil value put in a store as an empty one (nil would be a
	// tombstone), so the two are compared as equal.
	entry := func(k, v []byte) string { return strconv.Quote(string(k)) + " " + strconv.Quote(string(v)) }
	var got []string
	for _, k := range keys {
		got = append(got, entry([]byte(k.key), replay[k]))
	}
	var want []string
	for _, kv := range entries {
		want = append(want, entry(kv.Key, kv.Value))
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("replaying the changelog gives %v, not the store's entries", got)
	}
	return nil
}

// Main is the body of the runner program that the golden test generates and
// builds: cases maps each working case to a function returning its programs (the
// Compiled<Topology>() of its package, in graph order). args are a case name and
// the path of its input.txt; the report of Run goes to stdout.
func Main(cases map[string]func() []*runtime.Program, args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: runner <case> <input.txt>")
		return 2
	}
	programs, ok := cases[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "runner: no case %q\n", args[0])
		return 2
	}
	input, err := os.ReadFile(args[1])
	if err != nil {
		fmt.Fprintln(stderr, "runner:", err)
		return 1
	}
	var out bytes.Buffer
	err = Run(&out, programs(), input)
	stdout.Write(out.Bytes())
	if err != nil {
		fmt.Fprintln(stderr, "runner:", err)
		return 1
	}
	return 0
}
