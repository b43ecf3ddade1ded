package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// binaries are the programs a benchmark runs, built once per invocation.
type binaries struct {
	gofka, pipe, goka string
	kstreams          string // the Maven project's directory, built in place
}

// build builds what the chosen contenders need into dir: the Go programs with
// go build, the goka peer in its own module, and the Kafka Streams peer with
// mvn package when its classes are older than its sources.
func build(root, dir string, chosen []contender, logf func(string, ...any)) (*binaries, error) {
	b := &binaries{
		gofka:    filepath.Join(dir, "clickcount"),
		pipe:     filepath.Join(dir, "pipe"),
		goka:     filepath.Join(dir, "goka-clickcount"),
		kstreams: filepath.Join(root, "bench", "peers", "kstreams"),
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
	}
	for _, c := range chosen {
		if c.java {
			if err := buildKStreams(b.kstreams, logf); err != nil {
				return nil, err
			}
			break
		}
	}
	return b, nil
}

// buildKStreams runs mvn -q package in the Kafka Streams peer's directory unless
// target/classes and target/lib are newer than pom.xml and every source file.
// Maven keeps its downloads in ~/.m2, so a rebuild needs no network.
func buildKStreams(dir string, logf func(string, ...any)) error {
	for _, tool := range []string{"java", "mvn"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("the Kafka Streams peer needs %s on the PATH (apt-get install openjdk-17-jdk-headless maven)", tool)
		}
	}
	// The marker is written only after a whole successful build (classes and
	// the copied runtime classpath).
	marker := filepath.Join(dir, "target", ".bench-built")
	if fresh(marker, dir) {
		return nil
	}
	logf("building the Kafka Streams peer: mvn -q -B package in %s\n", dir)
	start := time.Now()
	cmd := exec.Command("mvn", "-q", "-B", "-Dstyle.color=never", "package")
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mvn package in %s: %v\n%s", dir, err, msg)
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return err
	}
	logf("built the Kafka Streams peer in %.0f s\n", time.Since(start).Seconds())
	return nil
}

// fresh reports whether marker exists and is newer than pom.xml and everything
// under src.
func fresh(marker, dir string) bool {
	st, err := os.Stat(marker)
	if err != nil {
		return false
	}
	oldest := st.ModTime()
	stale := false
	check := func(path string) {
		if st, err := os.Stat(path); err == nil && st.ModTime().After(oldest) {
			stale = true
		}
	}
	check(filepath.Join(dir, "pom.xml"))
	filepath.WalkDir(filepath.Join(dir, "src"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			check(path)
		}
		return nil
	})
	return !stale
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
