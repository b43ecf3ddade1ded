package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gofka/streams/internal/testkit"
)

// binaries are the programs a benchmark runs, built once per invocation.
type binaries struct {
	gofka, pipe, goka string
	pageviews         string // examples/pageviews, for -windowed
	kstreams          string // the Maven project's directory, built in place
}

// build builds what the chosen contenders need into dir: the Go programs with
// go build, the goka peer in its own module, and the Kafka Streams peer with
// mvn package when its classes are older than its sources.
func build(root, dir string, chosen []contender, logf func(string, ...any)) (*binaries, error) {
	b := &binaries{
		gofka:     filepath.Join(dir, "clickcount"),
		pipe:      filepath.Join(dir, "pipe"),
		goka:      filepath.Join(dir, "goka-clickcount"),
		pageviews: filepath.Join(dir, "pageviews"),
		kstreams:  testkit.KStreamsPeerDir(root),
	}
	goBuild := func(workdir, out, pkg string) error {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = workdir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s in %s: %v\n%s", pkg, workdir, err, msg)
		}
		return nil
	}
	// examples/clickcount is in the library's module, the pipe in the bench module.
	if err := goBuild(root, b.gofka, "./examples/clickcount"); err != nil {
		return nil, err
	}
	if err := goBuild(filepath.Join(root, "bench"), b.pipe, "./e2e/pipe"); err != nil {
		return nil, err
	}
	for _, c := range chosen {
		if c.id == "goka" {
			if err := goBuild(filepath.Join(root, "bench", "peers", "goka"), b.goka, "."); err != nil {
				return nil, err
			}
		}
		if c.id == "gofka-windowed" {
			if err := goBuild(root, b.pageviews, "./examples/pageviews"); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range chosen {
		if c.java {
			if err := testkit.BuildKStreamsPeer(b.kstreams, logf); err != nil {
				return nil, err
			}
			break
		}
	}
	return b, nil
}

// javaVersion is the first line of java -version, for the report.
func javaVersion() string {
	out, err := exec.Command("java", "-version").CombinedOutput()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "--- " + path + " (last lines) ---\n" + strings.Join(lines, "\n") + "\n"
}
