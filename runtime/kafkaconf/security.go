package kafkaconf

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// The SASL mechanisms --sasl-mechanism accepts, in the order the help lists them.
const (
	Plain       = "PLAIN"
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
	OAuthBearer = "OAUTHBEARER"
	AWSMSKIAM   = "AWS_MSK_IAM"
)

// Mechanisms are the SASL mechanisms a client can use.
var Mechanisms = []string{Plain, ScramSHA256, ScramSHA512, OAuthBearer, AWSMSKIAM}

// The environment variables that carry secrets, so that they need not be on a
// command line (where ps shows them to every user of the machine).
const (
	EnvPassword          = "GOFKA_SASL_PASSWORD"
	EnvOAuthClientSecret = "GOFKA_SASL_OAUTH_CLIENT_SECRET"
)

// Security is how a client authenticates to the brokers and protects the
// connection: TLS, SASL, or both. The zero value is plaintext without SASL.
// Its secrets (the SASL password, the OAuth client secret) are unexported and
// String, LogValue and %v never show them.
type Security struct {
	TLS        bool   // --tls: TLS with the system's roots; any other --tls-* flag implies it
	CAFile     string // --tls-ca: PEM certificates to verify the brokers with, instead of the system's roots
	CertFile   string // --tls-cert: client certificate (PEM), for brokers that require one
	KeyFile    string // --tls-key: its private key (PEM)
	ServerName string // --tls-server-name: the name the brokers' certificates must hold (default: the host dialled)

	Mechanism    string // --sasl-mechanism, one of Mechanisms (upper case once set through a flag)
	Username     string // --sasl-username (PLAIN, SCRAM)
	PasswordFile string // --sasl-password-file: the password is the file's first line

	OAuthTokenFile        string // --sasl-oauth-token-file: a token, re-read when the file changes
	OAuthTokenURL         string // --sasl-oauth-token-url: an OAuth 2 token endpoint (client-credentials grant)
	OAuthClientID         string // --sasl-oauth-client-id
	OAuthClientSecretFile string // --sasl-oauth-client-secret-file (else $GOFKA_SASL_OAUTH_CLIENT_SECRET)
	OAuthScope            string // --sasl-oauth-scope: space-separated scopes to ask for

	password *secret // --sasl-password; a pointer, so %v of an enclosing struct shows an address
	// Getenv reads the environment (nil: os.Getenv); tests replace it.
	Getenv func(string) string
}

// secret is a value that must not be shown.
type secret struct{ v string }

func (*secret) String() string { return "[redacted]" }

// SetPassword sets the SASL password as --sasl-password does.
func (s *Security) SetPassword(p string) { s.password = &secret{p} }

// flagDef is one flag: its name, its value and its help.
type flagDef struct {
	name  string
	value flagValue
	usage string
}

// flagValue is both a pflag.Value and a flag.Value.
type flagValue interface {
	String() string
	Set(string) error
	Type() string
}

func (s *Security) flags() []flagDef {
	return []flagDef{
		{"tls", (*boolValue)(&s.TLS), "connect to the brokers over TLS, verifying their certificates against the system's roots (any --tls-* flag turns TLS on)"},
		{"tls-ca", (*stringValue)(&s.CAFile), "PEM file of the CA certificates the brokers' certificates must be signed by (instead of the system's roots); turns TLS on"},
		{"tls-cert", (*stringValue)(&s.CertFile), "PEM file of a client certificate, for brokers that require one (with --tls-key); turns TLS on"},
		{"tls-key", (*stringValue)(&s.KeyFile), "PEM file of the client certificate's private key; turns TLS on"},
		{"tls-server-name", (*stringValue)(&s.ServerName), "name the brokers' certificates must hold (default: the host in --brokers); turns TLS on"},
		{"sasl-mechanism", (*mechanismValue)(&s.Mechanism), "SASL mechanism: " + strings.Join(Mechanisms, ", ") + " (none: no SASL)"},
		{"sasl-username", (*stringValue)(&s.Username), "SASL user name (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)"},
		{"sasl-password", secretValue{&s.password}, "SASL password; visible to other users in the process list: prefer $" + EnvPassword + " or --sasl-password-file"},
		{"sasl-password-file", (*stringValue)(&s.PasswordFile), "file whose first line is the SASL password"},
		{"sasl-oauth-token-file", (*stringValue)(&s.OAuthTokenFile), "OAUTHBEARER: file holding the token, re-read whenever it changes (a sidecar may refresh it)"},
		{"sasl-oauth-token-url", (*stringValue)(&s.OAuthTokenURL), "OAUTHBEARER: OAuth 2 token endpoint to get tokens from with the client-credentials grant (https, or http on loopback only)"},
		{"sasl-oauth-client-id", (*stringValue)(&s.OAuthClientID), "OAUTHBEARER: client id for --sasl-oauth-token-url"},
		{"sasl-oauth-client-secret-file", (*stringValue)(&s.OAuthClientSecretFile), "OAUTHBEARER: file whose first line is the client secret (else $" + EnvOAuthClientSecret + ")"},
		{"sasl-oauth-scope", (*stringValue)(&s.OAuthScope), "OAUTHBEARER: space-separated scopes to request from --sasl-oauth-token-url"},
	}
}

// AddFlags adds the Kafka security flags (--tls…, --sasl-…) to fs, bound to s.
func (s *Security) AddFlags(fs *pflag.FlagSet) {
	for _, d := range s.flags() {
		fs.Var(d.value, d.name, d.usage)
		if d.value.Type() == "bool" {
			fs.Lookup(d.name).NoOptDefVal = "true"
		}
	}
}

// AddGoFlags adds the same flags to a standard library flag set (for tools
// such as clickgen that use package flag).
func (s *Security) AddGoFlags(fs *flag.FlagSet) {
	for _, d := range s.flags() {
		fs.Var(d.value, d.name, d.usage)
	}
}

type stringValue string

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) Type() string       { return "string" }

type boolValue bool

func (v *boolValue) String() string {
	if *v {
		return "true"
	}
	return "false"
}

func (v *boolValue) Set(s string) error {
	switch strings.ToLower(s) {
	case "true", "1", "t", "yes":
		*v = true
	case "false", "0", "f", "no":
		*v = false
	default:
		return fmt.Errorf("not a boolean: %q", s)
	}
	return nil
}
func (v *boolValue) Type() string      { return "bool" }
func (v *boolValue) IsBoolFlag() bool  { return true }
func (v *boolValue) IsBoolValue() bool { return true }

// mechanismValue accepts a mechanism in any case and stores it in upper case.
type mechanismValue string

func (v *mechanismValue) String() string { return string(*v) }
func (v *mechanismValue) Type() string   { return "mechanism" }
func (v *mechanismValue) Set(s string) error {
	m, err := ParseMechanism(s)
	if err != nil {
		return err
	}
	*v = mechanismValue(m)
	return nil
}

// ParseMechanism returns the SASL mechanism named s (in any case), or an error
// listing the valid ones.
func ParseMechanism(s string) (string, error) {
	for _, m := range Mechanisms {
		if strings.EqualFold(s, m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown SASL mechanism %q: valid are %s", s, strings.Join(Mechanisms, ", "))
}

// secretValue never shows what it holds, not even as a flag's default in --help.
type secretValue struct{ p **secret }

func (v secretValue) String() string     { return "" }
func (v secretValue) Type() string       { return "string" }
func (v secretValue) Set(s string) error { *v.p = &secret{s}; return nil }

// Enabled reports whether any TLS or SASL flag is given (the environment
// variables do not count).
func (s *Security) Enabled() bool {
	return s.TLSOn() || s.Mechanism != "" || s.Username != "" || s.password != nil || s.PasswordFile != "" ||
		s.OAuthTokenFile != "" || s.OAuthTokenURL != "" || s.OAuthClientID != "" || s.OAuthClientSecretFile != "" || s.OAuthScope != ""
}

// PasswordOnCommandLine reports whether the password came with --sasl-password,
// where other users of the machine can read it in the process list.
func (s *Security) PasswordOnCommandLine() bool { return s.password != nil }

// TLSOn reports whether connections use TLS: --tls or any other --tls-* flag.
func (s *Security) TLSOn() bool {
	return s.TLS || s.CAFile != "" || s.CertFile != "" || s.KeyFile != "" || s.ServerName != ""
}

func (s *Security) getenv(k string) string {
	if s.Getenv != nil {
		return s.Getenv(k)
	}
	return os.Getenv(k)
}

// String describes the settings without any secret, e.g.
// "tls (ca /etc/kafka/ca.crt), SASL SCRAM-SHA-256 as alice (password from $GOFKA_SASL_PASSWORD)".
func (s *Security) String() string {
	var parts []string
	if s.TLSOn() {
		var d []string
		if s.CAFile != "" {
			d = append(d, "ca "+s.CAFile)
		} else {
			d = append(d, "system roots")
		}
		if s.CertFile != "" {
			d = append(d, "client certificate "+s.CertFile)
		}
		if s.ServerName != "" {
			d = append(d, "server name "+s.ServerName)
		}
		parts = append(parts, "TLS ("+strings.Join(d, ", ")+")")
	} else {
		parts = append(parts, "plaintext")
	}
	switch s.Mechanism {
	case "":
		parts = append(parts, "no SASL")
	case Plain, ScramSHA256, ScramSHA512:
		src, _ := s.passwordSource()
		parts = append(parts, fmt.Sprintf("SASL %s as %q (password from %s)", s.Mechanism, s.Username, orNone(src)))
	case OAuthBearer:
		if s.OAuthTokenFile != "" {
			parts = append(parts, "SASL OAUTHBEARER (token from file "+s.OAuthTokenFile+")")
		} else {
			parts = append(parts, fmt.Sprintf("SASL OAUTHBEARER (client %q at %s)", s.OAuthClientID, s.OAuthTokenURL))
		}
	case AWSMSKIAM:
		parts = append(parts, "SASL AWS_MSK_IAM (AWS default credential chain)")
	}
	return strings.Join(parts, ", ")
}

// LogValue is String's content as slog attributes, without any secret.
func (s *Security) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Bool("tls", s.TLSOn())}
	if s.CAFile != "" {
		attrs = append(attrs, slog.String("tls_ca", s.CAFile))
	}
	if s.CertFile != "" {
		attrs = append(attrs, slog.String("tls_cert", s.CertFile))
	}
	if s.ServerName != "" {
		attrs = append(attrs, slog.String("tls_server_name", s.ServerName))
	}
	if s.Mechanism != "" {
		attrs = append(attrs, slog.String("sasl", s.Mechanism))
	}
	if s.Username != "" {
		attrs = append(attrs, slog.String("user", s.Username))
	}
	if src, _ := s.passwordSource(); src != "" {
		attrs = append(attrs, slog.String("password_from", src))
	}
	if s.OAuthTokenFile != "" {
		attrs = append(attrs, slog.String("oauth_token_file", s.OAuthTokenFile))
	}
	if s.OAuthTokenURL != "" {
		attrs = append(attrs, slog.String("oauth_token_url", s.OAuthTokenURL), slog.String("oauth_client_id", s.OAuthClientID))
	}
	return slog.GroupValue(attrs...)
}

func orNone(s string) string {
	if s == "" {
		return "nowhere"
	}
	return s
}

// passwordSource names where the password comes from ("--sasl-password",
// "$GOFKA_SASL_PASSWORD" or "--sasl-password-file FILE"), or says that it is
// given more than one way. The lookup order is flag, environment, file; two at
// once are refused rather than ranked, since a password silently taken from
// the wrong place shows only as an authentication failure.
func (s *Security) passwordSource() (string, error) {
	var srcs []string
	if s.password != nil {
		srcs = append(srcs, "--sasl-password")
	}
	if s.getenv(EnvPassword) != "" {
		srcs = append(srcs, "$"+EnvPassword)
	}
	if s.PasswordFile != "" {
		srcs = append(srcs, "--sasl-password-file "+s.PasswordFile)
	}
	switch len(srcs) {
	case 0:
		return "", nil
	case 1:
		return srcs[0], nil
	default:
		return srcs[0], fmt.Errorf("the SASL password is given %d ways (%s): give it one way only", len(srcs), strings.Join(srcs, ", "))
	}
}

// readPassword returns the password from its one source.
func (s *Security) readPassword() (string, error) {
	src, err := s.passwordSource()
	if err != nil {
		return "", err
	}
	switch {
	case src == "":
		return "", fmt.Errorf("--sasl-mechanism %s needs a password: give --sasl-password-file FILE, $%s or --sasl-password", s.Mechanism, EnvPassword)
	case s.password != nil:
		return s.password.v, nil
	case s.PasswordFile != "":
		return readSecretFile("--sasl-password-file", s.PasswordFile)
	default:
		return s.getenv(EnvPassword), nil
	}
}

// readSecretFile returns the first line of a file holding a secret. Errors
// name the flag and the file, never the content.
func readSecretFile(flagName, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("%s %s: the first line is empty", flagName, path)
	}
	return line, nil
}

// validate checks that the flags fit together.
func (s *Security) validate() error {
	if (s.CertFile == "") != (s.KeyFile == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	userFlags := s.Username != "" || s.password != nil || s.PasswordFile != ""
	oauthFlags := s.OAuthTokenFile != "" || s.OAuthTokenURL != "" || s.OAuthClientID != "" || s.OAuthClientSecretFile != "" || s.OAuthScope != ""
	switch s.Mechanism {
	case "":
		if userFlags || oauthFlags {
			return errors.New("SASL flags given without --sasl-mechanism (" + strings.Join(Mechanisms, ", ") + ")")
		}
	case Plain, ScramSHA256, ScramSHA512:
		if oauthFlags {
			return fmt.Errorf("--sasl-oauth-* flags are for OAUTHBEARER, not %s", s.Mechanism)
		}
		if s.Username == "" {
			return fmt.Errorf("--sasl-mechanism %s needs --sasl-username", s.Mechanism)
		}
		if _, err := s.passwordSource(); err != nil {
			return err
		}
	case OAuthBearer:
		if userFlags {
			return errors.New("OAUTHBEARER takes no --sasl-username or password: give --sasl-oauth-token-file or --sasl-oauth-token-url")
		}
		return s.validateOAuth()
	case AWSMSKIAM:
		if userFlags || oauthFlags {
			return errors.New("AWS_MSK_IAM takes its credentials from the AWS default chain (environment, shared config, instance role), not from --sasl-username, a password or --sasl-oauth-* flags")
		}
	default:
		_, err := ParseMechanism(s.Mechanism)
		return err
	}
	return nil
}

func (s *Security) validateOAuth() error {
	switch {
	case s.OAuthTokenFile != "" && s.OAuthTokenURL != "":
		return errors.New("give --sasl-oauth-token-file or --sasl-oauth-token-url, not both")
	case s.OAuthTokenFile != "":
		if s.OAuthClientID != "" || s.OAuthClientSecretFile != "" || s.OAuthScope != "" {
			return errors.New("--sasl-oauth-client-id, --sasl-oauth-client-secret-file and --sasl-oauth-scope go with --sasl-oauth-token-url, not --sasl-oauth-token-file")
		}
		return nil
	case s.OAuthTokenURL != "":
		if s.OAuthClientID == "" {
			return errors.New("--sasl-oauth-token-url needs --sasl-oauth-client-id")
		}
		if s.OAuthClientSecretFile != "" && s.getenv(EnvOAuthClientSecret) != "" {
			return fmt.Errorf("the OAuth client secret is given 2 ways (--sasl-oauth-client-secret-file %s, $%s): give it one way only", s.OAuthClientSecretFile, EnvOAuthClientSecret)
		}
		if s.OAuthClientSecretFile == "" && s.getenv(EnvOAuthClientSecret) == "" {
			return fmt.Errorf("--sasl-oauth-token-url needs the client secret: --sasl-oauth-client-secret-file FILE or $%s", EnvOAuthClientSecret)
		}
		return checkTokenURL(s.OAuthTokenURL)
	default:
		return errors.New("--sasl-mechanism OAUTHBEARER needs --sasl-oauth-token-file FILE or --sasl-oauth-token-url URL")
	}
}
