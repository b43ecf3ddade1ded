package kafkaconf

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"
)

const pw = "hunter2-secret"

// parse parses args into a new Security with env as the environment.
func parse(t *testing.T, env map[string]string, args ...string) (*Security, error) {
	t.Helper()
	s := &Security{Getenv: func(k string) string { return env[k] }}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	s.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	_, err := s.Options(context.Background())
	return s, err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMechanismIsCaseInsensitiveAndChecked(t *testing.T) {
	for in, want := range map[string]string{"plain": Plain, "scram-sha-256": ScramSHA256, "Scram-Sha-512": ScramSHA512, "oauthbearer": OAuthBearer, "aws_msk_iam": AWSMSKIAM} {
		got, err := ParseMechanism(in)
		if err != nil || got != want {
			t.Errorf("ParseMechanism(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := parse(t, nil, "--sasl-mechanism", "GSSAPI")
	if err == nil || !strings.Contains(err.Error(), `unknown SASL mechanism "GSSAPI": valid are PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, AWS_MSK_IAM`) {
		t.Errorf("GSSAPI: %v", err)
	}
}

func TestAnyTLSFlagTurnsTLSOn(t *testing.T) {
	ca := filepath.Join("testdata", "none.pem")
	for _, args := range [][]string{{"--tls"}, {"--tls-ca", ca}, {"--tls-server-name", "kafka"}, {"--tls-cert", "c", "--tls-key", "k"}} {
		s := &Security{}
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		s.AddFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if !s.TLSOn() {
			t.Errorf("%v: TLS off", args)
		}
	}
	s, err := parse(t, nil, "--tls")
	if err != nil || !s.TLSOn() {
		t.Fatalf("--tls: %v", err)
	}
	opts, _ := s.Options(context.Background())
	if len(opts) != 1 {
		t.Errorf("--tls: %d options, want DialTLSConfig only", len(opts))
	}
	if s, _ := parse(t, nil); s.TLSOn() || s.Enabled() {
		t.Errorf("no flags: TLS or SASL on")
	}
}

func TestTLSFileErrors(t *testing.T) {
	notPEM := writeFile(t, "ca.pem", "not a certificate")
	cases := map[string][]string{
		"holds no PEM certificate":             {"--tls-ca", notPEM},
		"no such file":                         {"--tls-ca", "/nonexistent/ca.pem"},
		"--tls-cert and --tls-key go together": {"--tls-cert", "c.pem"},
	}
	for want, args := range cases {
		if _, err := parse(t, nil, args...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want %q", args, err, want)
		}
	}
}

// TestPasswordSources: the password comes from exactly one of --sasl-password,
// $GOFKA_SASL_PASSWORD and --sasl-password-file; two are refused, none is
// refused for mechanisms that need one.
func TestPasswordSources(t *testing.T) {
	file := writeFile(t, "pw", pw+"\r\nsecond line ignored\n")
	scram := []string{"--sasl-mechanism", "scram-sha-512", "--sasl-username", "alice"}
	env := map[string]string{EnvPassword: pw}
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		from string
	}{
		{"flag", nil, []string{"--sasl-password", pw}, "--sasl-password"},
		{"environment", env, nil, "$GOFKA_SASL_PASSWORD"},
		{"file", nil, []string{"--sasl-password-file", file}, "--sasl-password-file " + file},
	} {
		s, err := parse(t, c.env, append(scram, c.args...)...)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got, err := s.readPassword()
		if err != nil || got != pw {
			t.Errorf("%s: password %q, %v", c.name, got, err)
		}
		if from, _ := s.passwordSource(); from != c.from {
			t.Errorf("%s: from %q, want %q", c.name, from, c.from)
		}
	}
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{env, []string{"--sasl-password", pw}, "given 2 ways (--sasl-password, $GOFKA_SASL_PASSWORD)"},
		{nil, []string{"--sasl-password", pw, "--sasl-password-file", file}, "given 2 ways"},
		{env, []string{"--sasl-password-file", file}, "given 2 ways ($GOFKA_SASL_PASSWORD, --sasl-password-file"},
		{nil, nil, "needs a password: give --sasl-password-file FILE, $GOFKA_SASL_PASSWORD or --sasl-password"},
		{nil, []string{"--sasl-password-file", writeFile(t, "empty", "\n")}, "the first line is empty"},
	} {
		_, err := parse(t, c.env, append(scram, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("%v: the error shows the password: %v", c.args, err)
		}
	}
}

func TestFlagCombinations(t *testing.T) {
	tok := writeFile(t, "token", "tok\n")
	secret := writeFile(t, "secret", "s\n")
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string // "" for no error
	}{
		{[]string{"--sasl-username", "alice"}, nil, "without --sasl-mechanism"},
		{[]string{"--sasl-mechanism", "PLAIN", "--sasl-password", pw}, nil, "needs --sasl-username"},
		{[]string{"--sasl-mechanism", "PLAIN", "--sasl-username", "a", "--sasl-password", pw}, nil, ""},
		{[]string{"--sasl-mechanism", "OAUTHBEARER"}, nil, "needs --sasl-oauth-token-file FILE or --sasl-oauth-token-url URL"},
		{[]string{"--sasl-mechanism", "OAUTHBEARER", "--sasl-oauth-token-file", tok}, nil, ""},
		{[]string{"--sasl-mechanism", "OAUTHBEARER", "--sasl-oauth-token-file", tok, "--sasl-username", "a"}, nil, "takes no --sasl-username"},
		{[]string{"--sasl-mechanism", "OAUTHBEARER", "--sasl-oauth-token-file", tok, "--sasl-oauth-token-url", "https://x/t"}, nil, "not both"},
		{[]string{"--sasl-mechanism", "OAUTHBEARER", "--sasl-oauth-token-url", "https://idp/token"}, nil, "needs --sasl-oauth-client-id"},
		{[]string{"--sasl-mechanism", "OAUTHBEARER", "--sasl-oauth-token-url", "https://idp/token", "--sasl-oauth-client-id", "c"}, nil, "needs the client secret"},
		{[]string{"--sasl-mechanism", "OAUTHBEARER", "--sasl-oauth-token-url", "https://idp/token", "--sasl-oauth-client-id", "c", "--sasl-oauth-client-secret-file", secret}, nil, ""},
		{[]string{"--sasl-mechanism", "OAUTHBEARER", "--sasl-oauth-token-url", "https://idp/token", "--sasl-oauth-client-id", "c", "--sasl-oauth-client-secret-file", secret}, map[string]string{EnvOAuthClientSecret: "s"}, "given 2 ways"},
		{[]string{"--sasl-mechanism", "OAUTHBEARER", "--sasl-oauth-token-url", "http://idp.example.com/token", "--sasl-oauth-client-id", "c"}, map[string]string{EnvOAuthClientSecret: "s"}, "must be https"},
		{[]string{"--sasl-mechanism", "OAUTHBEARER", "--sasl-oauth-token-url", "http://127.0.0.1:8080/token", "--sasl-oauth-client-id", "c"}, map[string]string{EnvOAuthClientSecret: "s"}, ""},
		{[]string{"--sasl-mechanism", "AWS_MSK_IAM", "--sasl-username", "a"}, nil, "AWS default chain"},
		{[]string{"--sasl-mechanism", "PLAIN", "--sasl-username", "a", "--sasl-password", pw, "--sasl-oauth-token-file", tok}, nil, "are for OAUTHBEARER"},
	} {
		_, err := parse(t, c.env, c.args...)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v", c.args, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}

// TestAWSOptionsBuild: AWS_MSK_IAM builds from the AWS default chain (here,
// static keys from the environment). No MSK cluster can be reached from here,
// so only the option is checked.
func TestAWSOptionsBuild(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	s, err := parse(t, nil, "--tls", "--sasl-mechanism", "aws_msk_iam")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := s.Options(context.Background())
	if err != nil || len(opts) != 2 {
		t.Fatalf("options: %d, %v", len(opts), err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers("b-1.example.kafka.eu-west-1.amazonaws.com:9098"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if w := NewWatch(opts); len(w.mechanisms) != 1 || w.mechanisms[0] != AWSMSKIAM || w.tls == nil {
		t.Errorf("watch sees mechanisms %v, tls %v", w.mechanisms, w.tls != nil)
	}
}

// TestNothingShowsTheSecrets: String, LogValue, %v and %+v of the settings
// (alone and inside another struct), and --help show no secret.
func TestNothingShowsTheSecrets(t *testing.T) {
	s, err := parse(t, nil, "--tls", "--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", "alice", "--sasl-password", pw)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("kafka", "security", s)
	type holder struct {
		sec   Security
		Sec   *Security
		inner struct{ s Security }
	}
	h := holder{sec: *s, Sec: s}
	h.inner.s = *s
	shown := map[string]string{
		"String": s.String(), "log": logs.String(), "%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", *s),
		"%+v holder": fmt.Sprintf("%+v", h), "%#v holder": fmt.Sprintf("%#v", h),
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	s.AddFlags(fs)
	fs.Set("sasl-password", pw)
	shown["help"] = fs.FlagUsages()
	gfs := flag.NewFlagSet("test", flag.ContinueOnError)
	var help bytes.Buffer
	gfs.SetOutput(&help)
	s.AddGoFlags(gfs)
	gfs.Set("sasl-password", pw)
	gfs.PrintDefaults()
	shown["go help"] = help.String()
	for what, out := range shown {
		if strings.Contains(out, pw) {
			t.Errorf("%s shows the password: %s", what, out)
		}
	}
	if !strings.Contains(s.String(), `SASL SCRAM-SHA-256 as "alice" (password from --sasl-password)`) {
		t.Errorf("String() = %q", s.String())
	}
	if !strings.Contains(logs.String(), "security.password_from=--sasl-password") {
		t.Errorf("log: %s", logs.String())
	}
}

// TestGoFlags: clickgen's standard flag set takes the same flags, --tls as a
// boolean.
func TestGoFlags(t *testing.T) {
	s := &Security{Getenv: func(string) string { return "" }}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	s.AddGoFlags(fs)
	if err := fs.Parse([]string{"--tls", "--sasl-mechanism", "plain", "--sasl-username", "u", "--sasl-password", pw, "rest"}); err != nil {
		t.Fatal(err)
	}
	if !s.TLS || s.Mechanism != Plain || fs.Arg(0) != "rest" {
		t.Errorf("parsed %v, args %v", s, fs.Args())
	}
}
