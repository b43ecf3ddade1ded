package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofka/streams/internal/testkit"
)

// peerTLSFlags writes a certificate for a replica, signed by ca, and returns
// the --peer-tls-* flags naming the files.
func peerTLSFlags(t *testing.T, caFile string, leaf testkit.Leaf, name string) []string {
	t.Helper()
	certFile, keyFile, err := leaf.Write(filepath.Dir(caFile), name)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"--peer-tls-ca", caFile, "--peer-tls-cert", certFile, "--peer-tls-key", keyFile}
}

var rejectedRE = regexp.MustCompile(`(?m)^gofka_peer_tls_rejected_total (\S+)$`)

// TestPeerTLSImpostorRefused runs click-count on three replicas whose Raft and
// control traffic is mutual TLS, each with its own certificate of the group's
// CA. Mid-stream an impostor starts: the same binary with the same --peers,
// trusting the group's CA (whose certificate is no secret) but holding a
// certificate of its own CA. It never joins: the group stays three members,
// each of which counts refused handshakes, the impostor's log shows its joins
// failing, and every click is counted exactly once.
func TestPeerTLSImpostorRefused(t *testing.T) {
	ctx := testContext(t, 150*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	dir := t.TempDir()
	ca, err := testkit.NewCA("click-count peers")
	if err != nil {
		t.Fatal(err)
	}
	caFile, err := ca.WriteCA(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, addr, 3, "--checkpoint-interval", "2s")
	base := c.extra
	for i := range 3 {
		leaf, err := ca.Issue("r"+strconv.Itoa(i), "127.0.0.1", "localhost")
		if err != nil {
			t.Fatal(err)
		}
		c.extra = append(append([]string(nil), base...), peerTLSFlags(t, caFile, leaf, "r"+strconv.Itoa(i))...)
		c.start(i)
	}
	c.everyTaskRunning(ctx, []int{0, 1, 2})

	clicks := makeClicks(0, 16000)
	var produced atomic.Int64
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: 100, gap: 25 * time.Millisecond})
	time.Sleep(time.Second)

	imp := startImpostor(t, dir, c)
	t.Logf("impostor started with %d clicks produced", produced.Load())
	err = poll(ctx, "the impostor logs its joins refused in the TLS handshake", func() (bool, error) {
		return strings.Contains(grepLines(imp.out.String(), "still joining"), "remote error: tls: unknown certificate authority"), nil
	})
	if err != nil {
		t.Fatalf("%v: %s", err, grepLines(imp.out.String(), "still joining"))
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkExact(ctx, t, addr, clicks)

	if strings.Contains(imp.out.String(), "coordinator: joined") || imp.exited() {
		t.Errorf("the impostor joined or exited:\n%s", lastLines(imp.out.String(), 30))
	}
	var st struct {
		Cluster struct {
			Members []struct{ ID string } `json:"members"`
		} `json:"cluster"`
	}
	for i := range 3 {
		if err := c.getJSON(ctx, i, &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Cluster.Members) != 3 {
			t.Errorf("r%d: members %+v, want r0, r1, r2 only", i, st.Cluster.Members)
		}
	}
	total := 0.0
	for i := range 3 {
		code, body := c.get(ctx, i, "/metrics")
		m := rejectedRE.FindStringSubmatch(body)
		if code != http.StatusOK || m == nil {
			t.Fatalf("r%d /metrics: %d, no gofka_peer_tls_rejected_total", i, code)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		total += v
	}
	if total == 0 {
		t.Error("no replica counted a refused handshake")
	}
	refusals := ""
	for i := range 3 {
		refusals += grepLines(c.procs[i].out.String(), "refused a connection: its TLS handshake failed")
	}
	if refusals == "" {
		t.Error("no replica logged a refused handshake")
	}
	t.Logf("a replica's log: %s", lastLines(refusals, 1))
	t.Logf("the group refused %v handshakes; the impostor's last attempt: %s", total, lastLines(grepLines(imp.out.String(), "still joining"), 1))
}

// startImpostor starts a process like c's replicas, with c's --peers, whose
// certificate is signed by a CA of its own, and which trusts both that CA and
// the group's (so that it passes its own start-up check and accepts the
// replicas' certificates: only the replicas' check of its certificate stops
// it).
func startImpostor(t *testing.T, dir string, c *cluster) *proc {
	t.Helper()
	own, err := testkit.NewCA("impostor")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := own.Issue("impostor", "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	groupCA, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "impostor-ca.crt")
	if err := os.WriteFile(bundle, append(append([]byte(nil), own.CertPEM...), groupCA...), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"run", "--brokers", c.broker, "--state-dir", t.TempDir(), "--replica-id", "impostor",
		"--commit-interval", "500ms", "--raft-addr", freeAddr(t), "--peers", strings.Join(c.raft, ","),
		"--status-addr", freeAddr(t), "--snapshots", c.snapshots, "--log-level", "debug",
	}, peerTLSFlags(t, bundle, leaf, "impostor")...)
	return start(t, "impostor", args...)
}
