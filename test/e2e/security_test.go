package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/gofka/streams/internal/testkit"
)

// The kfake tier of issue 12's Kafka client security: the development broker
// secured with TLS and SCRAM-SHA-256, the click-count application run against
// it, and each misconfiguration ending the run quickly with a clear error.

const (
	secUser     = "alice"
	secPassword = "pw-8f3a1c-never-shown" // looked for in every output
)

// secBroker is a development broker listening with TLS (a certificate of a
// CA made for the test) and requiring SCRAM-SHA-256.
type secBroker struct {
	addr    string
	proc    *proc
	dir     string
	caFile  string // the CA that signed the broker's certificate
	otherCA string // a CA that did not
	pwFile  string // holds secPassword
	ca      *testkit.CA
}

func startSecuredBroker(ctx context.Context, t *testing.T) *secBroker {
	t.Helper()
	b := &secBroker{dir: t.TempDir()}
	var err error
	if b.ca, err = testkit.NewCA("gofka e2e CA"); err != nil {
		t.Fatal(err)
	}
	leaf, err := b.ca.Issue("broker", "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := leaf.Write(b.dir, "broker")
	if err != nil {
		t.Fatal(err)
	}
	if b.caFile, err = b.ca.WriteCA(b.dir, "ca"); err != nil {
		t.Fatal(err)
	}
	other, err := testkit.NewCA("impostor CA")
	if err != nil {
		t.Fatal(err)
	}
	if b.otherCA, err = other.WriteCA(b.dir, "other-ca"); err != nil {
		t.Fatal(err)
	}
	b.pwFile = filepath.Join(b.dir, "password")
	if err := os.WriteFile(b.pwFile, []byte(secPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		b.addr = freeAddr(t)
		b.proc = start(t, "secured broker", "broker", "--listen", b.addr, "--partitions", "4",
			"--tls-cert", certFile, "--tls-key", keyFile, "--sasl-user", "SCRAM-SHA-256:"+secUser+":"+secPassword)
		err := b.proc.waitLog(ctx, "listening on "+b.addr)
		if err == nil {
			return b
		}
		if attempt == 2 || ctx.Err() != nil {
			t.Fatalf("secured broker: %v\n%s", err, b.proc.out.String())
		}
	}
}

// opts are the franz-go options of the test's own clients to the broker.
func (b *secBroker) opts() []kgo.Opt {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b.ca.CertPEM)
	return []kgo.Opt{
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
		kgo.SASL(scram.Auth{User: secUser, Pass: secPassword}.AsSha256Mechanism()),
	}
}

// appFlags are run's flags for the broker, the password from a file.
func (b *secBroker) appFlags() []string {
	return []string{"--tls-ca", b.caFile, "--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", secUser, "--sasl-password-file", b.pwFile}
}

// TestSecuredBrokerClickCount: click-count on the development broker secured
// with TLS and SCRAM-SHA-256 writes exactly one update per real click, each
// user's updates counting 1, 2, …, n as computed here.
func TestSecuredBrokerClickCount(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	b := startSecuredBroker(ctx, t)
	cl := client(t, b.addr, b.opts()...)
	createTopics(ctx, t, kadm.NewClient(cl))

	app := startApp(t, "app", b.addr, t.TempDir(), append(b.appFlags(), "--status-addr", freeAddr(t))...)
	clicks := makeClicks(0, 3000)
	want := expectedCounts(clicks)
	nReal := realClicks(clicks)
	produce(ctx, t, cl, clicks)

	out := &tail{cl: client(t, b.addr, append(b.opts(), kgo.ConsumeTopics(outputTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond), kgo.MetadataMinAge(100*time.Millisecond))...), c: newCounts()}
	if err := out.until(ctx, "every user's count is reached", equalCounts(want)); err != nil {
		t.Fatalf("%v: %s", err, diffCounts(out.c.latest, want))
	}
	stopClean(ctx, t, app)
	// Whatever else arrives within a second is a duplicate.
	end, cancel := context.WithTimeout(ctx, time.Second)
	for end.Err() == nil {
		if err := out.pollOnce(end); err != nil && end.Err() == nil {
			t.Fatal(err)
		}
	}
	cancel()
	if out.c.records != nReal {
		t.Errorf("%d output records, want %d (one per real click)", out.c.records, nReal)
	}
	checkUpdates(t, out.c, want)
	if !strings.Contains(app.out.String(), "kafka.sasl=SCRAM-SHA-256") {
		t.Errorf("the application does not log its Kafka security settings")
	}
}

// runFails runs the application with args against the broker and requires it
// to exit non-zero within 60 s with output containing every one of wants.
func runFails(ctx context.Context, t *testing.T, b *secBroker, args []string, wants ...string) string {
	t.Helper()
	app := start(t, "app", append([]string{"run", "--brokers", b.addr, "--state-dir", t.TempDir(), "--status-addr", ""}, args...)...)
	began := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	code, err := app.wait(wctx)
	took := time.Since(began)
	if err != nil {
		t.Fatalf("the run did not end within 60 s: %v\n%s", err, lastLines(app.out.String(), 20))
	}
	t.Logf("exit status %d after %v", code, took.Round(time.Millisecond))
	if code == 0 {
		t.Errorf("exit status 0, want non-zero")
	}
	out := app.out.String()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output does not say %q:\n%s", w, lastLines(out, 10))
		}
	}
	if strings.Contains(out, secPassword) {
		t.Errorf("the output shows the password:\n%s", out)
	}
	return out
}

// TestSecurityFailuresEndTheRun: each misconfiguration ends run within 60 s
// (in practice well under a second, but about 10 s for TLS on a plaintext
// listener) with a non-zero status and an error naming the broker and the
// cause, instead of retrying for ever.
func TestSecurityFailuresEndTheRun(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	b := startSecuredBroker(ctx, t)
	wrongPW := filepath.Join(b.dir, "wrong-password")
	if err := os.WriteFile(wrongPW, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	token := filepath.Join(b.dir, "token")
	if err := os.WriteFile(token, []byte("eyJhbGciOiJub25lIn0.e30.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	broker := "error: broker " + b.addr + ": "
	t.Run("wrong password", func(t *testing.T) {
		runFails(ctx, t, b, []string{"--tls-ca", b.caFile, "--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", secUser, "--sasl-password-file", wrongPW},
			broker+"SASL authentication failed")
	})
	t.Run("unknown mechanism", func(t *testing.T) {
		runFails(ctx, t, b, []string{"--tls-ca", b.caFile, "--sasl-mechanism", "GSSAPI", "--sasl-username", secUser, "--sasl-password-file", b.pwFile},
			`unknown SASL mechanism "GSSAPI": valid are PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, AWS_MSK_IAM`)
	})
	t.Run("mechanism the broker does not enable", func(t *testing.T) {
		runFails(ctx, t, b, []string{"--tls-ca", b.caFile, "--sasl-mechanism", "oauthbearer", "--sasl-oauth-token-file", token},
			broker+"SASL mechanism OAUTHBEARER is not enabled on the broker", "the broker offers PLAIN, SCRAM-SHA-256, SCRAM-SHA-512")
	})
	t.Run("unknown CA", func(t *testing.T) {
		runFails(ctx, t, b, []string{"--tls-ca", b.otherCA, "--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", secUser, "--sasl-password-file", b.pwFile},
			broker+"TLS handshake failed: x509: certificate signed by unknown authority")
	})
	t.Run("plaintext on the TLS listener", func(t *testing.T) {
		runFails(ctx, t, b, []string{"--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", secUser, "--sasl-password-file", b.pwFile},
			broker+"the broker speaks TLS, this client plaintext", "add --tls")
	})
	// The other way round, kfake never answers the TLS handshake: the run
	// ends after the start-up check's 10 s wait and a plaintext probe.
	t.Run("TLS on a plaintext listener", func(t *testing.T) {
		_, plain := startDevBroker(ctx, t)
		runFails(ctx, t, &secBroker{addr: plain}, []string{"--tls-ca", b.caFile},
			"error: broker "+plain+": the broker does not speak TLS", "remove the --tls flags")
	})
}

// TestPasswordNeverShown: the password, given by flag, by environment or by
// file, appears in no output of the application (logs at debug level, a
// failed run's error), in /status, /metrics, describe or --help, nor in the
// broker's output.
func TestPasswordNeverShown(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	b := startSecuredBroker(ctx, t)
	createTopics(ctx, t, kadm.NewClient(client(t, b.addr, b.opts()...)))
	base := []string{"--tls-ca", b.caFile, "--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", secUser, "--log-level", "debug"}
	ways := []struct {
		name string
		args []string
		env  []string
	}{
		{"flag", []string{"--sasl-password", secPassword}, nil},
		{"environment", nil, []string{"GOFKA_SASL_PASSWORD=" + secPassword}},
		{"file", []string{"--sasl-password-file", b.pwFile}, nil},
	}
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			status := freeAddr(t)
			args := append([]string{"run", "--brokers", b.addr, "--state-dir", t.TempDir(), "--status-addr", status}, append(base, w.args...)...)
			app := startEnv(t, w.env, args...)
			if err := app.waitLog(ctx, "msg=consuming"); err != nil {
				t.Fatal(err)
			}
			st, err := httpGet(ctx, "http://"+status+"/status")
			if err != nil {
				t.Fatal(err)
			}
			metrics, err := httpGet(ctx, "http://"+status+"/metrics")
			if err != nil {
				t.Fatal(err)
			}
			stopClean(ctx, t, app)
			for what, s := range map[string]string{"output": app.out.String(), "/status": st, "/metrics": metrics} {
				if strings.Contains(s, secPassword) {
					t.Errorf("the password appears in %s", what)
				}
			}
			if !strings.Contains(app.out.String(), "kafka.password_from=") {
				t.Errorf("the log does not say where the password came from")
			}
			if w.name == "flag" && !strings.Contains(app.out.String(), "visible to other users") {
				t.Errorf("no warning that --sasl-password is visible in the process list")
			}
		})
	}
	for _, args := range [][]string{{"describe"}, {"run", "--help"}, {"broker", "--help"}} {
		out, _ := exec.CommandContext(ctx, appBinary, args...).CombinedOutput()
		if strings.Contains(string(out), secPassword) {
			t.Errorf("the password appears in %v's output", args)
		}
	}
	if strings.Contains(b.proc.out.String(), secPassword) {
		t.Errorf("the broker's output shows the password:\n%s", b.proc.out.String())
	}
}

// startEnv is start with extra environment variables.
func startEnv(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	if len(env) == 0 {
		return start(t, "app", args...)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return start(t, "app", args...)
}

// TestKcatOnSecuredBroker: librdkafka (kcat) produces to and consumes from the
// development broker over TLS with SCRAM-SHA-256. kfake alone refuses
// librdkafka's SASL ("SASL Handshake not supported by broker"); the broker
// command answers librdkafka's ApiVersions so that it works (see
// runtime/app/librdkafka.go).
func TestKcatOnSecuredBroker(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not on PATH: install it (make deps, or apt-get install kcat) to run this test")
	}
	ctx := testContext(t, 60*time.Second)
	b := startSecuredBroker(ctx, t)
	conf := filepath.Join(b.dir, "kcat.conf") // the password stays off the command line
	os.WriteFile(conf, []byte("security.protocol=SASL_SSL\nsasl.mechanisms=SCRAM-SHA-256\nsasl.username="+secUser+
		"\nsasl.password="+secPassword+"\nssl.ca.location="+b.caFile+"\n"), 0o600)
	kc := func(stdin string, args ...string) (string, error) {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, kcat, append([]string{"-F", conf, "-b", b.addr}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := kc("k1\tone\nk2\ttwo\nk3\tthree\n", "-P", "-t", "kcat-secured", "-K", `\t`); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	out, err := kc("", "-C", "-t", "kcat-secured", "-e", "-q", "-f", `%k=%s\n`)
	if err != nil {
		t.Fatalf("kcat -C: %v\n%s", err, out)
	}
	for _, w := range []string{"k1=one", "k2=two", "k3=three"} {
		if !strings.Contains(out, w) {
			t.Errorf("kcat -C read %q, want %s in it", out, w)
		}
	}
	// And a wrong password is refused.
	os.WriteFile(conf, []byte("security.protocol=SASL_SSL\nsasl.mechanisms=SCRAM-SHA-256\nsasl.username="+secUser+
		"\nsasl.password=wrong\nssl.ca.location="+b.caFile+"\n"), 0o600)
	if out, err := kc("", "-L", "-m", "3"); err == nil || !strings.Contains(out, "SASL authentication error") {
		t.Errorf("kcat with a wrong password: %v\n%s", err, out)
	}
}

// TestSecuredAppWaitsForUnreachableBroker: with TLS and SASL settings, a broker
// that is only unreachable is still waited for (the start-up check retries),
// and the run goes on once it answers. As in TestAppStartsBeforeBroker, a TCP
// forwarder opens on the application's broker address after 3 seconds.
func TestSecuredAppWaitsForUnreachableBroker(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	b := startSecuredBroker(ctx, t)
	createTopics(ctx, t, kadm.NewClient(client(t, b.addr, b.opts()...)))
	appAddr := freeAddr(t)
	app := startApp(t, "app", appAddr, t.TempDir(), append(b.appFlags(), "--status-addr", "")...)
	select {
	case <-app.done:
		t.Fatalf("the application exited while its broker was unreachable, instead of retrying:\n%s", lastLines(app.out.String(), 10))
	case <-time.After(3 * time.Second):
	}
	if !strings.Contains(app.out.String(), "cannot reach the brokers; retrying") {
		t.Errorf("no warning that the broker is unreachable:\n%s", lastLines(app.out.String(), 10))
	}
	l, err := net.Listen("tcp", appAddr)
	if err != nil {
		t.Fatalf("listen on the application's broker address: %v", err)
	}
	proxy(t, l, b.addr)
	if err := app.waitLog(ctx, "msg=consuming"); err != nil {
		t.Fatal(err)
	}
	stopClean(ctx, t, app)
}
