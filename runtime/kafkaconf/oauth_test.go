package kafkaconf

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
)

// tokenServer is an OAuth 2 token endpoint for client "gofka" with secret
// "cs-secret", handing out tok-1, tok-2, … valid for expiresIn.
func tokenServer(t *testing.T, expiresIn any) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || !ok || id != "gofka" || secret != "cs-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "bad client credentials (got " + secret + ")"})
			return
		}
		if r.FormValue("grant_type") != "client_credentials" || r.FormValue("scope") != "kafka.read kafka.write" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "tok-" + string(rune('0'+n.Add(1))), "token_type": "Bearer", "expires_in": expiresIn})
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestClientCredentialsCachesUntilShortlyBeforeExpiry(t *testing.T) {
	srv, calls := tokenServer(t, 600)
	now := time.Now()
	c := NewClientCredentials(srv.URL, "gofka", "cs-secret", "kafka.read kafka.write")
	c.now = func() time.Time { return now }
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		tok, err := c.Token(ctx)
		if err != nil || tok != "tok-1" {
			t.Fatalf("token %q, %v", tok, err)
		}
	}
	now = now.Add(8*time.Minute + 59*time.Second) // renewed a minute before the 10 minutes end
	if tok, _ := c.Token(ctx); tok != "tok-1" || calls.Load() != 1 {
		t.Errorf("at 8m59s: %q after %d calls, want the cached tok-1", tok, calls.Load())
	}
	now = now.Add(2 * time.Second)
	if tok, _ := c.Token(ctx); tok != "tok-2" {
		t.Errorf("at 9m01s: %q, want a new token", tok)
	}
}

func TestClientCredentialsExpiresInAsString(t *testing.T) {
	srv, _ := tokenServer(t, "100")
	c := NewClientCredentials(srv.URL, "gofka", "cs-secret", "kafka.read kafka.write")
	if _, err := c.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if life := time.Until(c.renewAt); life < 70*time.Second || life > 81*time.Second {
		t.Errorf("a 100 s token is renewed after %v, want 80 s", life)
	}
}

func TestClientCredentialsRefused(t *testing.T) {
	srv, _ := tokenServer(t, 600)
	c := NewClientCredentials(srv.URL, "gofka", "wrong-secret", "kafka.read kafka.write")
	_, err := c.Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized: invalid_client") {
		t.Fatalf("error %v, want the endpoint's 401 and its error", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error shows the secret: %v", err)
	}
}

// firstMessage runs the client side of the first SASL step of the mechanism
// the options hold, as franz-go does when it connects.
func firstMessage(t *testing.T, opts []kgo.Opt) string {
	t.Helper()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ms := cl.OptValue(kgo.SASL).([]sasl.Mechanism)
	_, msg, err := ms[0].Authenticate(context.Background(), "127.0.0.1:9092")
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

// TestOAuthBearerFromEndpoint: --sasl-oauth-token-url gives franz-go's
// OAUTHBEARER the endpoint's token. kfake has no OAUTHBEARER (its SASL
// handshake offers PLAIN and SCRAM only), so the client's first message is
// checked instead of a broker's verdict.
func TestOAuthBearerFromEndpoint(t *testing.T) {
	srv, calls := tokenServer(t, 3600)
	secret := writeFile(t, "secret", "cs-secret\n")
	s, err := parse(t, nil, "--sasl-mechanism", "OAUTHBEARER", "--sasl-oauth-token-url", srv.URL+"/token",
		"--sasl-oauth-client-id", "gofka", "--sasl-oauth-client-secret-file", secret, "--sasl-oauth-scope", "kafka.read kafka.write")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := s.Options(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // two connections, one token
		if msg := firstMessage(t, opts); !strings.Contains(msg, "auth=Bearer tok-1\x01") {
			t.Errorf("first message %q carries no token tok-1", msg)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls to the endpoint for two connections, want 1", calls.Load())
	}
	if strings.Contains(s.String(), "cs-secret") {
		t.Errorf("String() shows the client secret: %s", s)
	}
}

// TestOAuthBearerTokenFileReread: the token file is read again when it changes.
func TestOAuthBearerTokenFileReread(t *testing.T) {
	tok := writeFile(t, "token", "first-token\n")
	s, err := parse(t, nil, "--sasl-mechanism", "oauthbearer", "--sasl-oauth-token-file", tok)
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := s.Options(context.Background())
	if msg := firstMessage(t, opts); !strings.Contains(msg, "auth=Bearer first-token\x01") {
		t.Fatalf("first message %q", msg)
	}
	if err := os.WriteFile(tok, []byte("second-token-longer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(tok, time.Now().Add(time.Second), time.Now().Add(time.Second))
	if msg := firstMessage(t, opts); !strings.Contains(msg, "auth=Bearer second-token-longer\x01") {
		t.Fatalf("after the file changed: %q", msg)
	}
	if _, err := parse(t, nil, "--sasl-mechanism", "oauthbearer", "--sasl-oauth-token-file", writeFile(t, "empty", " \n")); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty token file: %v", err)
	}
}
