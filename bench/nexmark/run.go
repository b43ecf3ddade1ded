package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/examples/nexmark/generator"
	"github.com/gofka/streams/examples/nexmark/model"
	"github.com/gofka/streams/examples/nexmark/reference"
)

// eventsTopic is the topic both contenders read (the gofka topologies' source).
const eventsTopic = "nexmark-events"

// input is the run's events: the JSON lines, as decoded events for the
// reference, and the end-of-input marks after them.
type input struct {
	lines  [][]byte
	events []model.Event
}

// generate makes n events as `nexmark gen --rate rate` does, then two end-of-input marks,
// an hour and two hours after the last event: every window and session closes
// (Kafka Streams closes the windows the first mark opened only when the second
// arrives).
func generate(n int64, rate int) (*input, error) {
	var buf bytes.Buffer
	cfg := generator.Default()
	cfg.Rate = rate
	if err := generator.New(cfg).Write(&buf, n); err != nil {
		return nil, err
	}
	in := &input{}
	var last int64
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var e model.Event
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("event %d: %w", len(in.lines), err)
		}
		in.lines, in.events = append(in.lines, line), append(in.events, e)
		last = max(last, e.DateTime)
	}
	for _, d := range []int64{3_600_000, 7_200_000} {
		in.lines = append(in.lines, fmt.Appendf(nil, `{"type":"end","dateTime":%d}`, last+d))
	}
	return in, nil
}

// canonical re-encodes a JSON row with sorted keys, so rows of either program
// compare by bytes.
func canonical(row []byte) (string, error) {
	var m map[string]any
	if err := json.Unmarshal(row, &m); err != nil {
		return "", err
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// expected is the reference's rows of q, canonical and sorted.
func expected(q string, events []model.Event) ([]string, error) {
	rows, err := reference.Run(q, events)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		c, err := canonical(b)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return out, nil
}

// keepForever is the config of every topic the driver creates: the events
// carry their event time (July 2015) as record timestamps, and a broker's
// time retention (7 days by default) would delete them at its next check
// (every 5 minutes) once the segment rolls, in the middle of a run: the
// cause of the runs that stalled with no row.
var keepForever = map[string]*string{"retention.ms": kadm.StringPtr("-1")}

// preload creates the events topic (one partition, as the suite's watermark
// assumes) and writes every line to it, its record timestamp its event time.
func preload(ctx context.Context, cl *kgo.Client, in *input) error {
	adm := kadm.NewClient(cl)
	adm.DeleteTopics(ctx, eventsTopic)
	for i := 0; ; i++ { // a deleted topic takes a moment to go
		r, err := adm.CreateTopic(ctx, 1, 1, keepForever, eventsTopic)
		if err == nil && r.Err == nil {
			break
		}
		if i == 50 {
			return fmt.Errorf("create %s: %v %v", eventsTopic, err, r.Err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i, line := range in.lines {
		var ts int64
		if i < len(in.events) {
			ts = in.events[i].DateTime
		} else {
			ts = in.events[len(in.events)-1].DateTime
		}
		cl.Produce(ctx, &kgo.Record{Topic: eventsTopic, Value: line, Timestamp: time.UnixMilli(ts)}, func(_ *kgo.Record, err error) {
			if err != nil {
				fmt.Fprintln(os.Stderr, "produce:", err)
			}
		})
	}
	return cl.Flush(ctx)
}

// result is one contender's run of one query.
type result struct {
	wall, cpu float64 // seconds, from start to the last expected row
	rows      int
	match     bool   // the rows equal the reference's
	diff      string // when not
	err       string // the run failed: no figures
	retried   bool   // the first run failed
}

// perSecond and perCPUSecond are 0 for a failed run (no figure).
func (r result) perSecond(n int64) float64    { return ratioOr0(float64(n), r.wall) }
func (r result) perCPUSecond(n int64) float64 { return ratioOr0(float64(n), r.cpu) }

func ratioOr0(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// runOne starts argv, reads topic from its current end until want rows came
// (or timeout, or stall without a row), samples the process's CPU time, stops it, and compares the rows
// with want. With table, the rows are the last value of each key (a null
// value deletes the key), and they came once they equal want.
func runOne(ctx context.Context, brokers []string, argv []string, dir, topic string, want []string, table bool, timeout, stall time.Duration) (result, error) {
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return result{}, err
	}
	defer adm.Close()
	ka := kadm.NewClient(adm)
	ka.CreateTopic(ctx, 1, 1, keepForever, topic) // gofka's sinks keep their names across runs: read from the end
	if _, err := ka.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kadm.StringPtr("-1")}}, topic); err != nil {
		return result{}, err // a sink made by an earlier run of the old driver
	}
	ends, err := ka.ListEndOffsets(ctx, topic)
	if err != nil {
		return result{}, err
	}
	start := ends.Offsets()
	cons, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		topic: {0: kgo.NewOffset().At(start[topic][0].At)},
	}))
	if err != nil {
		return result{}, err
	}
	defer cons.Close()

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return result{}, err
	}
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		return result{}, err
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logf, logf
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	got := &rows{table: table, latest: map[string]string{}}
	deadline := time.Now().Add(timeout)
	lastRow := time.Now()
	var res result
	for !got.complete(want) {
		if time.Since(lastRow) > stall {
			stop(cmd, exited)
			return result{}, fmt.Errorf("%s: no row for %s, %d of %d rows (log %s)", topic, stall, got.len(), len(want), logf.Name())
		}
		if time.Now().After(deadline) {
			stop(cmd, exited)
			return result{}, fmt.Errorf("%s: %d of %d rows after %s (%s; log %s)", topic, got.len(), len(want), timeout, firstDiff(got.sorted(), want), logf.Name())
		}
		select {
		case err := <-exited:
			return result{}, fmt.Errorf("%s exited: %v (log %s)", argv[0], err, logf.Name())
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cons.PollFetches(pctx)
		cancel()
		if fs.NumRecords() > 0 {
			lastRow = time.Now()
		}
		fs.EachRecord(got.add)
	}
	res.wall = time.Since(began).Seconds()
	res.cpu = procCPU(cmd.Process.Pid)
	// A moment more to see extra rows, then stop.
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	cons.PollFetches(pctx).EachRecord(got.add)
	cancel()
	stop(cmd, exited)
	rows := got.sorted()
	res.rows = len(rows)
	res.match = slices.Equal(rows, want)
	if !res.match {
		res.diff = firstDiff(rows, want)
	}
	return res, nil
}

// rows collects a run's output: every row, or with table the last value of
// each key.
type rows struct {
	table  bool
	all    []string
	latest map[string]string
}

func (g *rows) add(r *kgo.Record) {
	if g.table && r.Value == nil {
		delete(g.latest, string(r.Key))
		return
	}
	c, err := canonical(r.Value)
	if err != nil {
		c = string(r.Value)
	}
	if g.table {
		g.latest[string(r.Key)] = c
	} else {
		g.all = append(g.all, c)
	}
}

func (g *rows) len() int {
	if g.table {
		return len(g.latest)
	}
	return len(g.all)
}

// sorted is the rows, sorted.
func (g *rows) sorted() []string {
	out := slices.Clone(g.all)
	if g.table {
		out = slices.Collect(maps.Values(g.latest))
	}
	slices.Sort(out)
	return out
}

// complete reports whether the rows want expects came: as many (more are
// seen by the last poll), or for a table the very rows.
func (g *rows) complete(want []string) bool {
	if !g.table {
		return len(g.all) >= len(want)
	}
	return len(g.latest) == len(want) && slices.Equal(g.sorted(), want)
}

// firstDiff names the first row where got and want differ.
func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("row %d: got %s, want %s", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("%d rows, want %d", len(got), len(want))
}

// procCPU is the user + system CPU seconds of a running process and its
// threads so far (/proc/PID/stat, in clock ticks of 1/100 s).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	f := bytes.Fields(b[i+2:])
	var ut, st int64
	fmt.Sscan(string(f[11]), &ut)
	fmt.Sscan(string(f[12]), &st)
	return float64(ut+st) / 100
}

// stop sends SIGTERM and waits, then SIGKILL after 30 s.
func stop(cmd *exec.Cmd, exited <-chan error) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}
