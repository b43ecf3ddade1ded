package testkit

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The Kafka Streams peer (bench/peers/kstreams) is a Maven project that the
// benchmarks and the real-Kafka tier's comparison tests run beside gofka.

// KStreamsPeerDir is the peer's directory under the repository root.
func KStreamsPeerDir(root string) string { return filepath.Join(root, "bench", "peers", "kstreams") }

// BuildKStreamsPeer runs mvn -q package in the peer's directory unless
// target/classes and target/lib are newer than pom.xml and every source file.
// Maven keeps its downloads in ~/.m2, so a rebuild needs no network.
func BuildKStreamsPeer(dir string, logf func(string, ...any)) error {
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

// KStreamsPeerCommand is the command line that runs the peer's class (for
// example "gofka.bench.ClickCount") with heap as -Xmx and args as its flags.
func KStreamsPeerCommand(dir, heap, class string, args ...string) []string {
	cp := filepath.Join(dir, "target", "classes") + string(filepath.ListSeparator) + filepath.Join(dir, "target", "lib", "*")
	return append([]string{"java", "-Xmx" + heap, "-cp", cp, class}, args...)
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
