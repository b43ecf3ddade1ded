package engine

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofka/streams/internal/testkit"
)

// statusEngine is the least of an Engine the status server needs.
func statusEngine(cfg Config, log *slog.Logger) *Engine {
	e := &Engine{cfg: cfg, metrics: newMetrics(), log: log}
	e.ckpt = newCheckpoints(e)
	return e
}

func get(t *testing.T, c *http.Client, url, token string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

func TestStatusServerTLSAndToken(t *testing.T) {
	dir := t.TempDir()
	ca, err := testkit.NewCA("status")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("status", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := leaf.Write(dir, "status")
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	e := statusEngine(Config{StatusTLSCert: certFile, StatusTLSKey: keyFile, StatusTokenFile: tokenFile},
		slog.New(slog.NewTextHandler(&logs, nil)))
	s, err := startStatus(e, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + s.addr

	if code, hdr := get(t, c, base+"/status", ""); code != http.StatusUnauthorized || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("/status without a token: %d %v, want 401 with WWW-Authenticate", code, hdr)
	}
	if code, _ := get(t, c, base+"/metrics", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d, want 401", code)
	}
	for _, p := range []string{"/status", "/metrics"} {
		if code, _ := get(t, c, base+p, "s3cret-token"); code != http.StatusOK {
			t.Errorf("%s with the token: %d, want 200", p, code)
		}
	}
	if code, _ := get(t, c, base+"/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz without a token: %d, want 200", code)
	}
	// The web view's page and assets hold nothing of the group; its data does.
	for _, p := range []string{"/", "/ui/static/app.js", "/ui/static/mermaid.min.js"} {
		if code, _ := get(t, c, base+p, ""); code != http.StatusOK {
			t.Errorf("%s without a token: %d, want 200", p, code)
		}
	}
	for _, p := range []string{"/ui/group.json", "/ui/topology.json", "/ui/static/../status", "/ui/static/%2e%2e/status"} {
		if code, _ := get(t, c, base+p, ""); code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", p, code)
		}
	}
	for _, p := range []string{"/ui/group.json", "/ui/topology.json"} {
		if code, _ := get(t, c, base+p, "s3cret-token"); code != http.StatusOK {
			t.Errorf("%s with the token: %d, want 200", p, code)
		}
	}
	if code, _ := get(t, c, base+"/readyz", ""); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz without a token, not a member yet: %d, want 503", code)
	}
	// Go's server answers plain HTTP on a TLS port with a 400.
	if resp, err := http.Get("http://" + s.addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered on the TLS port")
		}
	}
	if strings.Contains(logs.String(), "beyond this machine") {
		t.Errorf("warned about a loopback address:\n%s", logs.String())
	}
}

func TestStatusServerWarnsWhenExposed(t *testing.T) {
	var logs bytes.Buffer
	e := statusEngine(Config{}, slog.New(slog.NewTextHandler(&logs, nil)))
	s, err := startStatus(e, "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if !strings.Contains(logs.String(), "beyond this machine without TLS") || !strings.Contains(logs.String(), "a token") {
		t.Errorf("no warning for a status server on every interface without TLS or token:\n%s", logs.String())
	}
	if _, err := loadStatusSecurity(&Config{StatusTLSCert: "x.crt"}); err == nil {
		t.Error("a certificate without a key was accepted")
	}
}
