package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// TestKcatIndependentClient writes the input and reads the output with kcat
// (librdkafka), a client that shares no code with the application.
func TestKcatIndependentClient(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not on PATH: install it (make deps, or apt-get install kcat) to run this test")
	}
	ctx := testContext(t, 60*time.Second)
	_, addr := startBroker(ctx, t)
	createTopics(ctx, t, kadm.NewClient(client(t, addr)))
	app := startApp(t, "app", addr, t.TempDir())

	clicks := makeClicks(0, 3000)
	want := expectedCounts(clicks)
	var in bytes.Buffer
	for _, c := range clicks {
		fmt.Fprintf(&in, "%s\t%s\n", c.id, c.value())
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	produce := exec.CommandContext(pctx, kcat, "-P", "-b", addr, "-t", inputTopic, "-K", `\t`)
	produce.Stdin = &in
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}

	// kcat -C -e reads every partition to its end and exits; -s value=Q decodes
	// the 8-byte big-endian counts. Read again until the counts are reached.
	var got map[string]int64
	var records int
	err = poll(ctx, "kcat reads every user's expected count", func() (bool, error) {
		if app.exited() {
			return false, fmt.Errorf("the application exited: %v", app.err)
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, kcat, "-C", "-b", addr, "-t", outputTopic, "-e", "-q", "-f", `%k %s\n`, "-s", "value=Q")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return false, fmt.Errorf("kcat -C: %v\n%s", err, stderr.String())
		}
		got, records = map[string]int64{}, 0
		for line := range strings.Lines(stdout.String()) {
			user, count, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
			n, err := strconv.ParseInt(count, 10, 64)
			if !ok || err != nil {
				return false, fmt.Errorf("kcat printed %q, want \"<user> <count>\"", line)
			}
			got[user] = n // kcat prints each partition in order; a user is in one partition
			records++
		}
		return diffCounts(got, want) == "", nil
	})
	if err != nil {
		t.Fatalf("%v: %s", err, diffCounts(got, want))
	}
	if n := realClicks(clicks); records != n {
		t.Errorf("kcat read %d output records, want %d", records, n)
	}
	stopClean(ctx, t, app)
}
