package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
)

// The memory scenario (issue 17, point 5): does --memory bound the whole
// process? For each key count K (-memory-keys) the input is K clicks of
// distinct users, loaded once; then, for each --memory M (-memory-sizes), one
// replica of the click-count binary counts all of it from scratch (a new
// application id, so new state and changelogs), once with the binary built
// from this tree and once with the binary built at -baseline (a git revision,
// the code before the change), alternating which goes first. Measured: peak
// RSS (VmHWM, sampled every 100 ms and at the end), the time from start until
// the output holds K more records (one count per key), and the CPU seconds.
//
//	load K clicks ─▶ for M: [after | before] replica --memory M ─▶ output += K ─▶ SIGTERM

// memoryRun is one replica counting the whole input.
type memoryRun struct {
	Binary    string  `json:"binary"` // "after" (this tree) or "before" (-baseline)
	Keys      int     `json:"keys"`
	Memory    string  `json:"memory"`
	Bytes     int64   `json:"memory_bytes"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"records_per_s"`
	CPU       float64 `json:"cpu_s"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// GoLimit is the process's Go memory limit (GOMEMLIMIT) as its /metrics
	// says (go_gc_gomemlimit_bytes); math.MaxInt64 when none is set.
	GoLimit float64 `json:"go_memory_limit_bytes"`
	Error   string  `json:"error,omitempty"`
}

type memoryResult struct {
	Baseline string      `json:"baseline"`
	Runs     []memoryRun `json:"runs"`
}

// memoryTarget: peak RSS at most this many times --memory, for --memory ≥ 128 MiB.
const memoryTarget = 1.1

// runMemory runs the memory scenario; a run that fails or times out is kept
// with its error, and the others still run.
func runMemory(ctx context.Context, e *env) (*memoryResult, error) {
	res := &memoryResult{Baseline: e.cfg.baseline}
	bins := map[string]string{"after": e.bin}
	order := []string{"after"}
	if e.cfg.baseline != "" {
		root, err := testkit.RepoRoot()
		if err != nil {
			return nil, err
		}
		e.cfg.logf("memory: building examples/clickcount at %s\n", e.cfg.baseline)
		b, err := buildAt(ctx, root, e.cfg.baseline, filepath.Join(e.scratch, "baseline"))
		if err != nil {
			return nil, err
		}
		bins["before"] = b
		order = append(order, "before")
	}
	l, err := e.brokers.acquire(ctx, "memory")
	if err != nil {
		return nil, err
	}
	var apps []string
	defer func() { l.release([]string{inputTopic, outputTopic}, apps) }()
	cl, err := kgo.NewClient(kgo.SeedBrokers(l.addr))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	i := 0
	for _, keys := range e.cfg.memoryKeys {
		if err := resetTopics(ctx, l.addr, e.cfg.partitions, inputTopic, outputTopic); err != nil {
			return nil, err
		}
		begin := time.Now()
		if err := load(ctx, l.addr, inputTopic, keys, distinctUsers); err != nil {
			return nil, err
		}
		e.cfg.logf("memory: loaded %d clicks of distinct users in %.1f s\n", keys, time.Since(begin).Seconds())
		for _, mem := range e.cfg.memorySizes {
			if slices.Contains(e.cfg.memorySkip, strconv.Itoa(keys)+"/"+mem) {
				continue
			}
			for j := range order {
				name := order[(i+j)%len(order)]
				appID := fmt.Sprintf("bench-memory-%s-%d", e.token, i*len(order)+j)
				apps = append(apps, appID)
				run := memoryOnce(ctx, e, adm, l.addr, appID, bins[name], keys, mem)
				run.Binary = name
				e.cfg.logf("memory: %s, %d keys, --memory %s: %.1f s, %.0f records/s, peak RSS %.0f MiB %s\n",
					name, keys, mem, run.Seconds, run.PerSecond, run.PeakRSSMB, run.Error)
				res.Runs = append(res.Runs, run)
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
			}
			i++
		}
	}
	return res, nil
}

// memoryOnce starts one replica of bin with --memory mem and waits until the
// output holds keys more records than before it started.
func memoryOnce(ctx context.Context, e *env, adm *kadm.Client, addr, appID, bin string, keys int, mem string) memoryRun {
	run := memoryRun{Keys: keys, Memory: mem}
	run.Bytes, _ = parseSize(mem)
	fail := func(err error) memoryRun { run.Error = err.Error(); return run }
	dir := filepath.Join(e.scratch, appID)
	if !e.cfg.keep {
		defer os.RemoveAll(dir) // RocksDB files of a 10M-key store add up over the runs
	}
	rs, err := newReplicas(&env{cfg: e.cfg, bin: bin}, dir, addr, appID, 1)
	if err != nil {
		return fail(err)
	}
	r := rs[0]
	defer r.killGroup()
	r.args = append(r.args, "--memory", mem)
	before, err := endOffsetSum(ctx, adm, outputTopic)
	if err != nil {
		return fail(err)
	}
	if err := r.start(); err != nil {
		return fail(err)
	}
	begin := time.Now()
	err = testkit.WaitFor(ctx, e.cfg.timeout, func() bool {
		r.sample()
		if r.exited() {
			return true
		}
		if run.GoLimit == 0 {
			run.GoLimit = goMemoryLimit(ctx, r.statusAddr)
		}
		n, err := endOffsetSum(ctx, adm, outputTopic)
		return err == nil && n-before >= int64(keys)
	})
	run.Seconds = time.Since(begin).Seconds()
	run.PerSecond = float64(keys) / run.Seconds
	if err == nil && r.exited() {
		err = fmt.Errorf("%s exited: %v\n%s", r.name, r.err, tailFile(r.logPath, 20))
	}
	if err != nil {
		r.stop(time.Minute)
		run.PeakRSSMB, run.CPU = float64(r.peakKB)/1024, r.cpuSecs
		return fail(fmt.Errorf("not done after %.0f s: %w", run.Seconds, err))
	}
	if err := r.stop(2 * time.Minute); err != nil {
		return fail(err)
	}
	run.PeakRSSMB, run.CPU = float64(r.peakKB)/1024, r.cpuSecs
	return run
}

// goMemoryLimit reads go_gc_gomemlimit_bytes from the replica's /metrics (0
// when it cannot yet).
func goMemoryLimit(ctx context.Context, addr string) float64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_gc_gomemlimit_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// buildAt builds examples/clickcount as it is at git revision rev (from git
// archive, so no worktree is touched) into dir.
func buildAt(ctx context.Context, root, rev, dir string) (string, error) {
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	archive := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, rev, src)
	if out, err := archive.CombinedOutput(); err != nil {
		return "", fmt.Errorf("git archive %s: %v\n%s", rev, err, out)
	}
	return buildBinary(ctx, src, dir)
}

// parseSize reads 128MiB, 1GiB or a number of bytes.
func parseSize(s string) (int64, error) {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			return v << u.shift, err
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

func (rep *report) memorySection(b *strings.Builder, m *memoryResult) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Memory: peak RSS under --memory\n\n")
	p("One replica counts K clicks of distinct users (so its store ends with K keys), from scratch, with --memory M; defaults otherwise (at-least-once, checkpoints every %s). \"before\" is the binary built at %s, \"after\" this tree. Target: peak RSS ≤ %.1f × --memory for every --memory ≥ 128 MiB.\n\n",
		rep.cfg.checkpointInterval, orDash(m.Baseline), memoryTarget)
	p("| keys | --memory | peak RSS before | peak RSS after | after / --memory | records/s before | records/s after | CPU s before | CPU s after | GOMEMLIMIT after | target |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	type cell struct {
		keys int
		mem  string
	}
	var cells []cell
	runs := map[cell]map[string]memoryRun{}
	for _, r := range m.Runs {
		c := cell{r.Keys, r.Memory}
		if runs[c] == nil {
			cells = append(cells, c)
			runs[c] = map[string]memoryRun{}
		}
		runs[c][r.Binary] = r
	}
	for _, c := range cells {
		bf, hasB := runs[c]["before"]
		af := runs[c]["after"]
		show := func(r memoryRun, ok bool, f func(memoryRun) string) string {
			switch {
			case !ok:
				return "–"
			case r.Error != "":
				return "failed: " + f(r)
			}
			return f(r)
		}
		rss := func(r memoryRun) string { return fmt.Sprintf("%.0f MiB", r.PeakRSSMB) }
		rate := func(r memoryRun) string { return thousands(int(r.PerSecond)) }
		cpu := func(r memoryRun) string { return fmt.Sprintf("%.1f", r.CPU) }
		ratio := af.PeakRSSMB * (1 << 20) / float64(af.Bytes)
		verdict := "met"
		switch {
		case af.Error != "":
			verdict = "no result"
		case af.Bytes < 128<<20:
			verdict = "(below 128 MiB: no target)"
		case ratio > memoryTarget:
			verdict = fmt.Sprintf("missed by %.0f MiB", af.PeakRSSMB-memoryTarget*float64(af.Bytes)/(1<<20))
		}
		limit := "none"
		if af.GoLimit > 0 && af.GoLimit < 1<<62 {
			limit = fmt.Sprintf("%.0f MiB", af.GoLimit/(1<<20))
		}
		p("| %s | %s | %s | %s | %.2f | %s | %s | %s | %s | %s | %s |\n", thousands(c.keys), c.mem,
			show(bf, hasB, rss), show(af, true, rss), ratio, show(bf, hasB, rate), show(af, true, rate),
			show(bf, hasB, cpu), show(af, true, cpu), limit, verdict)
	}
	p("\nPeak RSS is VmHWM in MiB, as --memory is (1.1 × 128 MiB = 140.8 MiB).")
	failed := false
	for _, r := range m.Runs {
		if r.Error != "" {
			if !failed {
				p(" Failed runs:\n\n")
				failed = true
			}
			p("- %s, %s keys, --memory %s: %s\n", r.Binary, thousands(r.Keys), r.Memory, strings.TrimSpace(r.Error))
		}
	}
	if !failed {
		p(" No run failed.\n")
	}
	p("\n")
}
