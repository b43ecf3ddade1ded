package engine

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/gofka/streams/runtime/webview"
)

// statusSecurity is how the status server protects itself: TLS with a
// certificate and key, and a bearer token for everything but /healthz and
// /readyz (the probes of an orchestrator, which carry no credentials and
// reveal nothing). Both are read once, at start.
type statusSecurity struct {
	tls   *tls.Config
	token []byte // sha256 of the token; nil: no token
}

func loadStatusSecurity(cfg *Config) (statusSecurity, error) {
	var s statusSecurity
	if (cfg.StatusTLSCert == "") != (cfg.StatusTLSKey == "") {
		return s, fmt.Errorf("status endpoint: give both a TLS certificate and a key, or neither")
	}
	if cfg.StatusTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.StatusTLSCert, cfg.StatusTLSKey)
		if err != nil {
			return s, fmt.Errorf("status endpoint TLS: %w", err)
		}
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	if cfg.StatusTokenFile != "" {
		b, err := os.ReadFile(cfg.StatusTokenFile)
		if err != nil {
			return s, fmt.Errorf("status endpoint token: %w", err)
		}
		tok := bytes.TrimSpace(b)
		if len(tok) == 0 {
			return s, fmt.Errorf("status endpoint token file %s is empty", cfg.StatusTokenFile)
		}
		sum := sha256.Sum256(tok)
		s.token = sum[:]
	}
	return s, nil
}

// open are the paths served without the token: the probes, and the web view's
// page and assets (webview.StaticPrefix), which hold nothing of the group: the
// page asks for the token and sends it with its JSON requests.
var openPaths = map[string]bool{"/healthz": true, "/readyz": true, "/": true}

func openPath(p string) bool {
	p = path.Clean(p) // "/ui/static/../status" is not open
	return openPaths[p] || strings.HasPrefix(p, webview.StaticPrefix)
}

// wrap requires the bearer token on every path but the open ones. Tokens are
// compared as SHA-256 digests in constant time, so neither their content nor
// their length leaks through timing.
func (s statusSecurity) wrap(h http.Handler) http.Handler {
	if s.token == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openPath(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		given, ok := strings.CutPrefix(auth, "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(given)))
		if !ok || subtle.ConstantTimeCompare(sum[:], s.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gofka status"`)
			http.Error(w, "a bearer token is required (--status-token-file)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// warnExposed logs a warning when the status server listens beyond this
// machine without TLS or without a token.
func (s statusSecurity) warnExposed(addr string, log *slog.Logger) {
	if loopback(addr) {
		return
	}
	var missing []string
	if s.tls == nil {
		missing = append(missing, "TLS (--status-tls-cert, --status-tls-key)")
	}
	if s.token == nil {
		missing = append(missing, "a token (--status-token-file)")
	}
	if len(missing) > 0 {
		log.Warn("status endpoint listens beyond this machine without "+strings.Join(missing, " or ")+
			": anyone who reaches it reads the group's members, assignment and metrics", "addr", addr)
	}
}

// loopback says whether addr (host:port) only listens on a loopback address.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
