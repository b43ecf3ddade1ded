package e2e

// The secured listeners of the real-Kafka tier. test/kafka/kafka.sh gives the
// broker, besides the PLAINTEXT listener every test uses, a SASL_SSL listener
// (SCRAM-SHA-512) and an SSL listener that requires a client certificate
// (mutual TLS); run-tier.sh passes them to the tests in the variables below.
// Without them (the kfake tier, or GOFKA_TEST_BROKERS pointing at another
// broker) the tests of this file skip.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/gofka/streams/internal/testkit"
)

// The variables run-tier.sh sets from kafka.sh's secured.env (test/kafka/README.md).
var securedEnv = []string{
	"GOFKA_TEST_SASL_SSL_BROKERS", // host:port of the SASL_SSL listener
	"GOFKA_TEST_MTLS_BROKERS",     // host:port of the SSL listener (ssl.client.auth=required)
	"GOFKA_TEST_KAFKA_CA",         // the CA certificate (PEM) of both listeners' certificates
	"GOFKA_TEST_MTLS_CERT",        // a client certificate (PEM) the CA signed
	"GOFKA_TEST_MTLS_KEY",         // its key (PEM)
	"GOFKA_TEST_SCRAM_USER",       // the SCRAM-SHA-512 user made when the storage was formatted
	"GOFKA_TEST_SCRAM_PASSWORD",   // its password
}

// securedKafka is the shared real broker's secured listeners.
type securedKafka struct {
	saslAddr, mtlsAddr     string
	caFile                 string
	certFile, keyFile      string
	scramUser, scramPasswd string
	roots                  *x509.CertPool
	clientCert             tls.Certificate
}

// secured returns the secured listeners of the shared broker, and skips the
// test when there are none.
func secured(t *testing.T) *securedKafka {
	t.Helper()
	var set, unset []string
	v := map[string]string{}
	for _, name := range securedEnv {
		if v[name] = strings.TrimSpace(os.Getenv(name)); v[name] == "" {
			unset = append(unset, name)
		} else {
			set = append(set, name)
		}
	}
	if len(set) == 0 {
		t.Skipf("no secured Kafka listeners: this test runs in the real-Kafka tier (make test-kafka, test/kafka/run-tier.sh), which sets %s", strings.Join(securedEnv, ", "))
	}
	if len(unset) > 0 {
		t.Fatalf("%s set but not %s: the secured listeners need all of them", strings.Join(set, ", "), strings.Join(unset, ", "))
	}
	if sharedBroker() == "" {
		t.Fatalf("the secured listeners are set but %s is not: the tests empty the broker through its PLAINTEXT listener", brokersEnv)
	}
	s := &securedKafka{
		saslAddr: v["GOFKA_TEST_SASL_SSL_BROKERS"], mtlsAddr: v["GOFKA_TEST_MTLS_BROKERS"],
		caFile: v["GOFKA_TEST_KAFKA_CA"], certFile: v["GOFKA_TEST_MTLS_CERT"], keyFile: v["GOFKA_TEST_MTLS_KEY"],
		scramUser: v["GOFKA_TEST_SCRAM_USER"], scramPasswd: v["GOFKA_TEST_SCRAM_PASSWORD"],
	}
	ca, err := os.ReadFile(s.caFile)
	if err != nil {
		t.Fatal(err)
	}
	s.roots = x509.NewCertPool()
	if !s.roots.AppendCertsFromPEM(ca) {
		t.Fatalf("GOFKA_TEST_KAFKA_CA=%s holds no PEM certificate", s.caFile)
	}
	if s.clientCert, err = tls.LoadX509KeyPair(s.certFile, s.keyFile); err != nil {
		t.Fatalf("GOFKA_TEST_MTLS_CERT/KEY: %v", err)
	}
	return s
}

// conn is how a test's clients and the application reach the broker: an
// address, with the franz-go options and the application's flags for its
// security (none for PLAINTEXT).
type conn struct {
	name  string
	addr  string
	opts  []kgo.Opt // for the test's clients
	flags []string  // for the application: run --brokers addr flags...
	logs  []string  // what the application logs of its security settings
}

// plaintext is the broker at addr without TLS or SASL.
func plaintext(addr string) conn { return conn{name: "PLAINTEXT", addr: addr} }

// tlsConfig trusts the broker's CA only, and presents cert when there is one.
func (s *securedKafka) tlsConfig(cert *tls.Certificate) *tls.Config {
	c := &tls.Config{RootCAs: s.roots, MinVersion: tls.VersionTLS12}
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	return c
}

// scram is the SASL_SSL listener with the SCRAM-SHA-512 user; the application
// reads the password from a file (--sasl-password-file).
func (s *securedKafka) scram(t *testing.T) conn {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "sasl-password")
	if err := os.WriteFile(pw, []byte(s.scramPasswd), 0o600); err != nil {
		t.Fatal(err)
	}
	return conn{
		name: "SASL_SSL SCRAM-SHA-512",
		addr: s.saslAddr,
		opts: []kgo.Opt{
			kgo.DialTLSConfig(s.tlsConfig(nil)),
			kgo.SASL(scram.Auth{User: s.scramUser, Pass: s.scramPasswd}.AsSha512Mechanism()),
		},
		flags: []string{"--tls-ca", s.caFile, "--sasl-mechanism", "SCRAM-SHA-512",
			"--sasl-username", s.scramUser, "--sasl-password-file", pw},
		logs: []string{"kafka.tls=true", "kafka.sasl=SCRAM-SHA-512", "kafka.user=" + s.scramUser, "kafka.password_from="},
	}
}

// mtls is the SSL listener, with the client certificate.
func (s *securedKafka) mtls() conn {
	return conn{
		name:  "SSL mutual TLS",
		addr:  s.mtlsAddr,
		opts:  []kgo.Opt{kgo.DialTLSConfig(s.tlsConfig(&s.clientCert))},
		flags: []string{"--tls-ca", s.caFile, "--tls-cert", s.certFile, "--tls-key", s.keyFile},
		logs:  []string{"kafka.tls=true", "kafka.tls_cert=" + s.certFile},
	}
}

// TestSecuredListeners proves the broker side of the secured listeners with
// franz-go alone: a record produced over SASL_SSL with SCRAM-SHA-512 is read
// back over mutual TLS and the other way round, and a wrong password, a
// missing or foreign client certificate, and a client that does not trust the
// broker's CA are all refused.
func TestSecuredListeners(t *testing.T) {
	s := secured(t)
	ctx := testContext(t, 90*time.Second)
	_, addr := startBroker(ctx, t)
	const topic = "secured-probe"
	adm := kadm.NewClient(client(t, addr))
	if resp, err := adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", topic, err, resp.Err)
	}

	sc, mt := s.scram(t), s.mtls()
	for _, c := range []struct{ from, to conn }{{sc, mt}, {mt, sc}} {
		value := fmt.Sprintf("written over %s", c.from.name)
		cl := client(t, c.from.addr, c.from.opts...)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(value)}).FirstErr(); err != nil {
			t.Fatalf("produce over %s: %v", c.from.name, err)
		}
		found := false
		for _, r := range readAll(ctx, t, c.to.addr, topic, c.to.opts...) {
			found = found || string(r.Value) == value
		}
		if !found {
			t.Errorf("the record written over %s was not read over %s", c.from.name, c.to.name)
		}
	}

	// What must be refused: each client lists the topics, which needs a
	// connection that passed TLS and SASL.
	impostor, err := testkit.SelfSigned("gofka-client", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := tls.X509KeyPair(impostor.CertPEM, impostor.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		name string
		addr string
		opts []kgo.Opt
		want string // in the error the client reports
	}{
		{"SCRAM-SHA-512 with a wrong password", s.saslAddr, []kgo.Opt{
			kgo.DialTLSConfig(s.tlsConfig(nil)),
			kgo.SASL(scram.Auth{User: s.scramUser, Pass: s.scramPasswd + "x"}.AsSha512Mechanism()),
		}, kerr.SaslAuthenticationFailed.Message},
		{"SCRAM-SHA-512 with an unknown user", s.saslAddr, []kgo.Opt{
			kgo.DialTLSConfig(s.tlsConfig(nil)),
			kgo.SASL(scram.Auth{User: s.scramUser + "-nobody", Pass: s.scramPasswd}.AsSha512Mechanism()),
		}, kerr.SaslAuthenticationFailed.Message},
		{"SASL_SSL without the broker's CA (system roots)", s.saslAddr, []kgo.Opt{
			kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}),
			kgo.SASL(scram.Auth{User: s.scramUser, Pass: s.scramPasswd}.AsSha512Mechanism()),
		}, "x509: certificate signed by unknown authority"},
		// The broker ends the handshake with an alert (Java: bad_certificate).
		{"mutual TLS without a client certificate", s.mtlsAddr, []kgo.Opt{kgo.DialTLSConfig(s.tlsConfig(nil))}, "remote error: tls: "},
		{"mutual TLS with a certificate the CA did not sign", s.mtlsAddr, []kgo.Opt{kgo.DialTLSConfig(s.tlsConfig(&foreign))}, "remote error: tls: "},
	}
	for _, r := range refused {
		cl := client(t, r.addr, append([]kgo.Opt{kgo.RequestRetries(1), kgo.RetryTimeout(5 * time.Second)}, r.opts...)...)
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		_, err := kadm.NewClient(cl).ListTopics(rctx)
		cancel()
		switch {
		case err == nil:
			t.Errorf("%s: the broker answered, want it refused", r.name)
		case !strings.Contains(err.Error(), r.want):
			t.Errorf("%s: %v, want an error with %q", r.name, err, r.want)
		default:
			t.Logf("%s: refused: %v", r.name, err)
		}
	}
}

// TestSecuredClickCountSCRAM runs click-count over the SASL_SSL listener with
// SCRAM-SHA-512 (--tls-ca, --sasl-mechanism, --sasl-username,
// --sasl-password-file), with the test's producer and reader on the same
// listener, and checks every user's count update by update.
func TestSecuredClickCountSCRAM(t *testing.T) {
	s := secured(t)
	app := securedClickCount(t, s.scram(t))
	if strings.Contains(app.out.String(), s.scramPasswd) {
		t.Errorf("the application's output shows the SCRAM password")
	}
}

// TestSecuredClickCountMTLS is the same over the mutual-TLS listener (--tls-ca,
// --tls-cert, --tls-key).
func TestSecuredClickCountMTLS(t *testing.T) {
	s := secured(t)
	securedClickCount(t, s.mtls())
}

func securedClickCount(t *testing.T, c conn) *proc {
	ctx := testContext(t, 60*time.Second)
	// Topics are made and the group is checked over PLAINTEXT; the application
	// and the clicks it counts go over c only.
	_, _, adm := clickCountBroker(ctx, t)
	app := countExactlyOnce(ctx, t, c, client(t, c.addr, c.opts...), adm, makeClicks(0, 3000))
	log := grepLines(app.out.String(), "kafka client security")
	for _, w := range c.logs {
		if !strings.Contains(log, w) {
			t.Errorf("the application's log of its Kafka security has no %q:\n%s", w, log)
		}
	}
	return app
}

// TestSecuredFailuresEndTheRun: on the real broker, each security
// misconfiguration ends run quickly with a non-zero status and an error that
// names the listener and the cause (runFails, as on the development broker in
// TestSecurityFailuresEndTheRun), from the answers Apache Kafka gives: a
// SASL_AUTHENTICATION_FAILED error code, a SaslHandshake that offers only
// SCRAM-SHA-512, a TLS alert for a missing client certificate.
func TestSecuredFailuresEndTheRun(t *testing.T) {
	s := secured(t)
	ctx := testContext(t, 4*time.Minute)
	_, plainAddr := startBroker(ctx, t)
	dir := t.TempDir()
	pw, wrongPW := filepath.Join(dir, "password"), filepath.Join(dir, "wrong-password")
	if err := os.WriteFile(pw, []byte(s.scramPasswd+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrongPW, []byte(s.scramPasswd+"-wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sasl, mtls, plain := &secBroker{addr: s.saslAddr}, &secBroker{addr: s.mtlsAddr}, &secBroker{addr: plainAddr}
	scram := func(mechanism, pwFile string) []string {
		return []string{"--tls-ca", s.caFile, "--sasl-mechanism", mechanism, "--sasl-username", s.scramUser, "--sasl-password-file", pwFile}
	}
	for _, c := range []struct {
		name  string
		b     *secBroker
		args  []string
		wants []string
	}{
		{"wrong password", sasl, scram("SCRAM-SHA-512", wrongPW), []string{"SASL authentication failed"}},
		{"mechanism the broker does not enable", sasl, scram("SCRAM-SHA-256", pw),
			[]string{"SASL mechanism SCRAM-SHA-256 is not enabled on the broker", "the broker offers SCRAM-SHA-512"}},
		{"system roots do not hold the test CA", sasl, []string{"--tls", "--sasl-mechanism", "SCRAM-SHA-512", "--sasl-username", s.scramUser, "--sasl-password-file", pw},
			[]string{"TLS handshake failed: x509: certificate signed by unknown authority"}},
		{"plaintext on the SASL_SSL listener", sasl, []string{"--sasl-mechanism", "SCRAM-SHA-512", "--sasl-username", s.scramUser, "--sasl-password-file", pw},
			[]string{"the broker speaks TLS, this client plaintext"}},
		{"no client certificate on the mutual-TLS listener", mtls, []string{"--tls-ca", s.caFile},
			[]string{"the broker refused the TLS handshake", "give --tls-cert and --tls-key"}},
		{"TLS on the PLAINTEXT listener", plain, []string{"--tls-ca", s.caFile}, []string{"the broker does not speak TLS"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wants := append([]string{"error: broker " + c.b.addr + ": "}, c.wants...)
			out := runFails(ctx, t, c.b, c.args, wants...)
			t.Log(strings.TrimSpace(grepLines(out, "error: broker ")))
			if strings.Contains(out, s.scramPasswd) {
				t.Errorf("the output shows the SCRAM password:\n%s", out)
			}
		})
	}
}
