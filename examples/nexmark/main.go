// Command nexmark generates Nexmark events and runs the Nexmark queries, written
// in the Gofka DSL, over them (issue 15, point 7). Build it with
//
//	go build -o nexmark ./examples/nexmark
//
// # nexmark gen --events N --out FILE [--rate R] [--seed S]
//
// Writes N events as JSON lines, made as the suite's nexmark-flink generator
// makes them (package generator): person:auction:bid = 1:3:46, the first ids,
// hot sellers, bidders and auctions, prices, auction expiry, and event times R
// events per second of event time apart (default 10,000, the suite's), from
// 2015-07-15T00:00:00Z. The same flags always give the same bytes.
//
//	{"type":"auction","id":1001,"itemName":"…","description":"…","initialBid":…,"reserve":…,"dateTime":1436918400000,"expires":…,"seller":1000,"category":…,"extra":"…"}
//	{"type":"bid","auction":1000,"bidder":2001,"price":…,"dateTime":1436918400000,"extra":"…"}
//	{"type":"person","id":1001,"name":"…","emailAddress":"…","creditCard":"…","city":"…","state":"…","dateTime":…,"extra":"…"}
//
// # nexmark query --query qN --events FILE --out FILE
//
// Runs the generated topology of query qN (package queries) over the events in
// process (queries.Runner: the generated tasks, one partition, in-memory
// stores, batches of 500 events each followed by the watermark, a commit every
// 10,000 events), and writes its final rows.
//
//	events FILE ──one record per line──▶ topic nexmark-events ──Compiled<qN>──▶ topic nexmark-<qN> ──sorted──▶ out FILE
//	            then one end-of-input mark: {"type":"end","dateTime":last + 1 h}
//
// Event time is each event's dateTime and the watermark the suite's (dateTime −
// 4 s). After the last event the runner writes an end-of-input mark, an event of
// no Nexmark type that every query drops but whose time moves stream time and
// the watermark an hour past the last event: every window and session then
// closes, as Flink closes them at the end of a bounded input.
//
// Rows are JSON objects, one a line, whose keys are the SQL sink's column names,
// times in epoch milliseconds and q1's price a number (0.908 × price, to the
// thousandth). The file lists them sorted by their bytes, so one input always
// gives the same file whatever order the topology wrote them in.
//
// q4's sink gets its table's updates (a category's average each time it
// changes): its rows are the last one of each category, as Flink's final
// result of the aggregation.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/gofka/streams/examples/nexmark/generator"
	"github.com/gofka/streams/examples/nexmark/queries"
	"github.com/gofka/streams/runtime"
)

// query is one Nexmark query as this command runs it.
type query struct {
	name    string
	program func() *runtime.Program
	out     string // the topology's sink topic
	// final: the sink gets a table's updates (a nil value deletes its key),
	// and the query's rows are the last value of each key.
	final bool
}

// table is every query the suite's q0–q11 subset names, in order.
var table = []query{
	{"q0", queries.CompiledQ0, "nexmark-q0", false},
	{"q1", queries.CompiledQ1, "nexmark-q1", false},
	{"q2", queries.CompiledQ2, "nexmark-q2", false},
	{"q3", queries.CompiledQ3, "nexmark-q3", false},
	{"q4", queries.CompiledQ4, "nexmark-q4", true},
	{"q5", queries.CompiledQ5, "nexmark-q5", false},
	{"q7", queries.CompiledQ7, "nexmark-q7", false},
	{"q8", queries.CompiledQ8, "nexmark-q8", false},
	{"q11", queries.CompiledQ11, "nexmark-q11", false},
}

func findQuery(name string) (query, error) {
	for _, q := range table {
		if q.name == name {
			return q, nil
		}
	}
	var names []string
	for _, q := range table {
		names = append(names, q.name)
	}
	return query{}, fmt.Errorf("no query %q (queries: %v)", name, names)
}

func main() {
	root := &cobra.Command{Use: "nexmark", Short: "generate Nexmark events and run the Nexmark queries", SilenceUsage: true}
	root.AddCommand(genCommand(), queryCommand())
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}

func genCommand() *cobra.Command {
	cfg := generator.Default()
	var events int64
	var out string
	cmd := &cobra.Command{
		Use:   "gen --events N --out FILE [--rate R] [--seed S]",
		Short: "write N Nexmark events as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if events < 0 || cfg.Rate <= 0 {
				return fmt.Errorf("--events must be at least 0 and --rate positive")
			}
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			if err := generator.New(cfg).Write(f, events); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
	}
	cmd.Flags().Int64Var(&events, "events", 0, "number of events")
	cmd.Flags().StringVar(&out, "out", "", "file to write")
	cmd.Flags().IntVar(&cfg.Rate, "rate", cfg.Rate, "events per second of event time")
	cmd.Flags().Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the random draws")
	cmd.MarkFlagRequired("events")
	cmd.MarkFlagRequired("out")
	return cmd
}

func queryCommand() *cobra.Command {
	var name, events, out string
	cmd := &cobra.Command{
		Use:   "query --query qN --events FILE --out FILE",
		Short: "run query qN over the events and write its final rows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := findQuery(name)
			if err != nil {
				return err
			}
			in, err := os.ReadFile(events)
			if err != nil {
				return err
			}
			rows, err := Run(q, in)
			if err != nil {
				return err
			}
			return os.WriteFile(out, bytes.Join(append(rows, nil), []byte("\n")), 0o644)
		},
	}
	cmd.Flags().StringVar(&name, "query", "", "query to run: q0, q1, q2, q3, q4, q5, q7, q8, q11")
	cmd.Flags().StringVar(&events, "events", "", "events file, as nexmark gen writes it")
	cmd.Flags().StringVar(&out, "out", "", "file to write the rows to")
	for _, f := range []string{"query", "events", "out"} {
		cmd.MarkFlagRequired(f)
	}
	return cmd
}

// endMarkDelay is how far past the last event the end-of-input mark is: more
// than any window, gap and watermark delay of the queries.
const endMarkDelay = 3_600_000

// batchSize is how many events Run hands the tasks at once, as one fetch would,
// and commitEvery how many between two commits: 1 s of event time at the
// suite's rate; the engine commits every 5 s of wall-clock time by default.
const (
	batchSize   = 500
	commitEvery = 10_000
)

// Run runs each line of events (JSON events) through q's topology (a
// queries.Runner: the generated tasks, one partition, a watermark after every
// batch of 500, a commit every 10,000 events), then the end-of-input mark, and
// returns the rows written to q's sink (for a query whose sink gets a table's
// updates, the last row of each key), sorted by their bytes.
func Run(q query, events []byte) ([][]byte, error) { return runBatches(q, events, batchSize) }

// runBatches is Run with batches of size events.
func runBatches(q query, events []byte, size int) ([][]byte, error) {
	records, mark, err := decodeEvents(events)
	if err != nil {
		return nil, err
	}
	r, err := queries.NewRunner(q.program())
	if err != nil {
		return nil, err
	}
	var rows [][]byte
	latest := map[string][]byte{} // q.final: each key's last value
	r.Sink = func(key, value []byte) {
		switch {
		case !q.final:
			rows = append(rows, bytes.Clone(value))
		case value == nil:
			delete(latest, string(key))
		default:
			latest[string(key)] = bytes.Clone(value)
		}
	}
	if err := feed(r, records, mark, size); err != nil {
		return nil, err
	}
	for _, v := range latest {
		rows = append(rows, v)
	}
	slices.SortFunc(rows, func(a, b []byte) int { return cmp.Compare(string(a), string(b)) })
	return rows, nil
}

// decodeEvents makes a nexmark-events record of each line, stamped with its
// dateTime and numbered from 0, and the end-of-input mark after them.
func decodeEvents(events []byte) (records []runtime.Record, mark runtime.Record, err error) {
	last := int64(0)
	sc := bufio.NewScanner(bytes.NewReader(events))
	sc.Buffer(nil, 1<<24)
	for line := int64(0); sc.Scan(); line++ {
		var t struct {
			DateTime int64 `json:"dateTime"`
		}
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return nil, mark, fmt.Errorf("events line %d: %w", line+1, err)
		}
		last = max(last, t.DateTime)
		records = append(records, runtime.Record{Topic: queries.EventsTopic, Offset: line, Timestamp: t.DateTime, Value: bytes.Clone(sc.Bytes())})
	}
	if err := sc.Err(); err != nil {
		return nil, mark, err
	}
	end := last + endMarkDelay
	mark = runtime.Record{Topic: queries.EventsTopic, Offset: int64(len(records)), Timestamp: end,
		Value: fmt.Appendf(nil, `{"type":"end","dateTime":%d}`, end)}
	return records, mark, nil
}

// feed runs records through r in batches of size, with a commit every
// commitEvery records, then mark, and commits.
func feed(r *queries.Runner, records []runtime.Record, mark runtime.Record, size int) error {
	for done := 0; done < len(records); {
		n := min(size, len(records)-done)
		if err := r.Process(records[done : done+n]); err != nil {
			return err
		}
		if done/commitEvery != (done+n)/commitEvery {
			if err := r.Commit(); err != nil {
				return err
			}
		}
		done += n
	}
	if err := r.Process([]runtime.Record{mark}); err != nil {
		return fmt.Errorf("end of input: %w", err)
	}
	return r.Commit()
}
