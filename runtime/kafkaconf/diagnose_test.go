package kafkaconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
)

// pki is a CA, a broker certificate it signed, and files for both.
type pki struct {
	ca       *testkit.CA
	caFile   string
	server   tls.Certificate
	certFile string // a client certificate the CA signed
	keyFile  string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	ca, err := testkit.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("broker", "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile, err := ca.WriteCA(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Issue("client", "client")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := client.Write(dir, "client")
	if err != nil {
		t.Fatal(err)
	}
	return pki{ca: ca, caFile: caFile, server: cert, certFile: certFile, keyFile: keyFile}
}

// cluster starts a kfake broker with opts and returns its address.
func cluster(t *testing.T, opts ...kfake.Opt) string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// secured is a broker with TLS and a SCRAM-SHA-256 user alice.
func secured(t *testing.T, p pki, tlsOpts ...func(*tls.Config)) string {
	cfg := &tls.Config{Certificates: []tls.Certificate{p.server}}
	for _, o := range tlsOpts {
		o(cfg)
	}
	return cluster(t, kfake.TLS(cfg), kfake.EnableSASL(), kfake.Superuser(ScramSHA256, "alice", "s3cret-pw"))
}

// check runs Check with the options s gives.
func check(t *testing.T, addr string, s *Security) (error, time.Duration) {
	t.Helper()
	if s.Getenv == nil {
		s.Getenv = func(string) string { return "" }
	}
	opts, err := s.Options(context.Background())
	if err != nil {
		t.Fatalf("options: %v", err)
	}
	start := time.Now()
	err = NewWatch(opts).Check(context.Background(), []string{addr}, opts, 2*time.Second)
	took := time.Since(start)
	t.Logf("%s: %v (%v)", addr, err, took.Round(time.Millisecond))
	return err, took
}

func scramUser(p pki, pass string) *Security {
	s := &Security{CAFile: p.caFile, Mechanism: ScramSHA256, Username: "alice"}
	s.SetPassword(pass)
	return s
}

func wantFatal(t *testing.T, err error, took time.Duration, parts ...string) {
	t.Helper()
	if !IsFatal(err) {
		t.Fatalf("got %v, want a fatal error", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
	if strings.Contains(err.Error(), "s3cret-pw") || strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("error %q shows the password", err)
	}
	if took > 10*time.Second {
		t.Errorf("took %v to classify", took)
	}
}

func TestCheckSecuredBroker(t *testing.T) {
	p := newPKI(t)
	addr := secured(t, p)

	if err, _ := check(t, addr, scramUser(p, "s3cret-pw")); err != nil {
		t.Fatalf("right settings: %v", err)
	}
	t.Run("wrong password", func(t *testing.T) {
		err, took := check(t, addr, scramUser(p, "wrong-pw"))
		wantFatal(t, err, took, "broker "+addr+": SASL authentication failed", "SCRAM-SHA-256")
	})
	t.Run("unknown CA", func(t *testing.T) {
		s := scramUser(p, "s3cret-pw")
		s.CAFile = ""
		s.TLS = true // the system's roots
		err, took := check(t, addr, s)
		wantFatal(t, err, took, "broker "+addr+": TLS handshake failed", "certificate signed by unknown authority", "--tls-ca")
	})
	t.Run("wrong server name", func(t *testing.T) {
		s := scramUser(p, "s3cret-pw")
		s.ServerName = "kafka.example.com"
		err, took := check(t, addr, s)
		wantFatal(t, err, took, "TLS handshake failed", "not kafka.example.com", "--tls-server-name")
	})
	t.Run("plaintext on TLS listener", func(t *testing.T) {
		s := scramUser(p, "s3cret-pw")
		s.CAFile = ""
		err, took := check(t, addr, s)
		wantFatal(t, err, took, "broker "+addr+": the broker speaks TLS, this client plaintext", "add --tls")
	})
	t.Run("unsupported mechanism", func(t *testing.T) {
		tok := filepath.Join(t.TempDir(), "token")
		os.WriteFile(tok, []byte("eyJ.a.b\n"), 0o600)
		s := &Security{CAFile: p.caFile, Mechanism: OAuthBearer, OAuthTokenFile: tok}
		err, took := check(t, addr, s)
		wantFatal(t, err, took, "SASL mechanism OAUTHBEARER is not enabled on the broker", "offers PLAIN, SCRAM-SHA-256, SCRAM-SHA-512")
	})
	t.Run("no SASL", func(t *testing.T) {
		err, took := check(t, addr, &Security{CAFile: p.caFile})
		wantFatal(t, err, took, "closed the connection after the first request", "requires SASL")
	})
}

func TestCheckTLSOnPlaintext(t *testing.T) {
	p := newPKI(t)
	addr := cluster(t)
	err, took := check(t, addr, &Security{CAFile: p.caFile})
	wantFatal(t, err, took, "broker "+addr+": the broker does not speak TLS", "remove the --tls flags")
}

func TestCheckClientCertificateRequired(t *testing.T) {
	p := newPKI(t)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.ca.CertPEM)
	addr := secured(t, p, func(c *tls.Config) { c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, pool })
	err, took := check(t, addr, scramUser(p, "s3cret-pw"))
	wantFatal(t, err, took, "the broker refused the TLS handshake", "--tls-cert")

	s := scramUser(p, "s3cret-pw")
	s.CertFile, s.KeyFile = p.certFile, p.keyFile
	if err, _ := check(t, addr, s); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
}

func TestCheckUnreachableIsRetryable(t *testing.T) {
	addr := cluster(t)
	if err, _ := check(t, addr, &Security{}); err != nil {
		t.Fatalf("plaintext: %v", err)
	}
	free, err := testkit.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	err, _ = check(t, free, &Security{})
	if IsFatal(err) || !IsUnreachable(err) {
		t.Fatalf("nothing listening: got %v, want an UnreachableError", err)
	}
	// One seed down, one up: fine.
	s := &Security{Getenv: func(string) string { return "" }}
	opts, _ := s.Options(context.Background())
	if err := NewWatch(opts).Check(context.Background(), []string{free, addr}, opts, 2*time.Second); err != nil {
		t.Fatalf("one seed of two up: %v", err)
	}
}

// TestWatchFatalDuringRun: a client whose password stops working after it
// connected (here: a new client with the wrong one) sees Fatal after repeated
// failures, and Explain names the broker.
func TestWatchFatalDuringRun(t *testing.T) {
	p := newPKI(t)
	addr := secured(t, p)
	s := scramUser(p, "wrong-pw")
	s.Getenv = func(string) string { return "" }
	opts, err := s.Options(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w := NewWatch(opts)
	cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(addr), kgo.WithHooks(w), kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for w.Fatal() == nil && ctx.Err() == nil {
		perr := cl.Ping(ctx)
		if perr != nil {
			if e := w.Explain(perr); !IsFatal(e) {
				t.Logf("ping: %v (not yet classified)", perr)
			}
		}
	}
	err = w.Fatal()
	if err == nil || !strings.Contains(err.Error(), "broker "+addr+": SASL authentication failed") {
		t.Fatalf("Fatal() = %v", err)
	}
}
