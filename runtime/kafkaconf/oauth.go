package kafkaconf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// TokenSource gives the OAUTHBEARER token for a connection's authentication.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

func (s *Security) tokenSource() (TokenSource, error) {
	if s.OAuthTokenFile != "" {
		src := &FileToken{Path: s.OAuthTokenFile}
		if _, err := src.Token(context.Background()); err != nil {
			return nil, err // a missing or empty file is a start-up error, not a broker's
		}
		return src, nil
	}
	secret := s.getenv(EnvOAuthClientSecret)
	if s.OAuthClientSecretFile != "" {
		var err error
		if secret, err = readSecretFile("--sasl-oauth-client-secret-file", s.OAuthClientSecretFile); err != nil {
			return nil, err
		}
	}
	return &ClientCredentials{URL: s.OAuthTokenURL, ClientID: s.OAuthClientID, Scope: s.OAuthScope, secret: secret}, nil
}

// FileToken reads the token from a file, again whenever the file's
// modification time or size changes: something else (a sidecar, a cron job)
// keeps it fresh.
type FileToken struct {
	Path string

	mu    sync.Mutex
	mod   time.Time
	size  int64
	token string
}

// Token returns the file's token, re-reading the file if it changed.
func (f *FileToken) Token(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := os.Stat(f.Path)
	if err != nil {
		return "", fmt.Errorf("--sasl-oauth-token-file: %w", err)
	}
	if f.token != "" && fi.ModTime().Equal(f.mod) && fi.Size() == f.size {
		return f.token, nil
	}
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return "", fmt.Errorf("--sasl-oauth-token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--sasl-oauth-token-file %s is empty", f.Path)
	}
	f.token, f.mod, f.size = tok, fi.ModTime(), fi.Size()
	return tok, nil
}

// ClientCredentials gets tokens from an OAuth 2 token endpoint with the
// client-credentials grant (RFC 6749 section 4.4), the client authenticating
// with HTTP Basic (section 2.3.1), and keeps each token until shortly before
// it expires.
type ClientCredentials struct {
	URL      string
	ClientID string
	Scope    string
	secret   string
	Client   *http.Client // nil: a client with a 15 s timeout
	now      func() time.Time

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

// NewClientCredentials is a token source for the endpoint url.
func NewClientCredentials(url, clientID, clientSecret, scope string) *ClientCredentials {
	return &ClientCredentials{URL: url, ClientID: clientID, secret: clientSecret, Scope: scope}
}

// Token returns the cached token, or a new one once the cached one is close to
// expiring: after four fifths of its lifetime, and at least a minute before its
// end when it lives longer than five minutes. A token without expires_in is
// kept for a minute.
func (c *ClientCredentials) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	if c.token != "" && now().Before(c.renewAt) {
		return c.token, nil
	}
	tok, life, err := c.fetch(ctx)
	if err != nil {
		return "", err
	}
	if life <= 0 {
		life = time.Minute
	}
	c.token, c.renewAt = tok, now().Add(life-min(life/5, time.Minute))
	return tok, nil
}

// tokenResponse is the endpoint's answer (RFC 6749 sections 5.1 and 5.2).
// expires_in is a number, but some servers send it as a string.
type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Error       string          `json:"error"`
	Description string          `json:"error_description"`
}

func (c *ClientCredentials) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if c.Scope != "" {
		form.Set("scope", c.Scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("--sasl-oauth-token-url: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.secret))
	hc := c.Client
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("OAuth token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, fmt.Errorf("OAuth token endpoint %s: %w", c.URL, err)
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK || tr.Error != "" {
		// Only the error fields are shown, and never the secret, should the
		// server echo it.
		why := strings.TrimSpace(tr.Error + " " + tr.Description)
		if why == "" {
			why = "no OAuth error in the answer"
		}
		if c.secret != "" {
			why = strings.ReplaceAll(why, c.secret, "[redacted]")
			why = strings.ReplaceAll(why, url.QueryEscape(c.secret), "[redacted]")
		}
		return "", 0, fmt.Errorf("OAuth token endpoint %s answered %s: %s", c.URL, resp.Status, why)
	}
	if jsonErr != nil || tr.AccessToken == "" {
		return "", 0, fmt.Errorf("OAuth token endpoint %s: no access_token in the answer", c.URL)
	}
	return tr.AccessToken, parseExpiresIn(tr.ExpiresIn), nil
}

func parseExpiresIn(raw json.RawMessage) time.Duration {
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0
		}
		if _, err := fmt.Sscanf(s, "%g", &n); err != nil {
			return 0
		}
	}
	return time.Duration(n * float64(time.Second))
}

// checkTokenURL accepts https URLs, and http ones only to a loopback address:
// the client secret must not cross a network in the clear.
func checkTokenURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("--sasl-oauth-token-url: %w", err)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return errors.New("--sasl-oauth-token-url must be https (http only to a loopback address): the client secret would cross the network in the clear")
	default:
		return fmt.Errorf("--sasl-oauth-token-url %q: not an http(s) URL", raw)
	}
}
