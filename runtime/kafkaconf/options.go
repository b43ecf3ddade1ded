package kafkaconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	awssasl "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Options checks the settings, reads the files they name (CA, client
// certificate, password) and returns the franz-go options every client to the
// brokers takes: kgo.DialTLSConfig and kgo.SASL. None for the zero Security.
// Errors name the flag at fault and never contain a secret.
func (s *Security) Options(ctx context.Context) ([]kgo.Opt, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	var opts []kgo.Opt
	if s.TLSOn() {
		c, err := s.TLSConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(c))
	}
	if s.Mechanism != "" {
		m, err := s.mechanism(ctx)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// TLSConfig is the client's TLS configuration: TLS 1.2 at least, the brokers
// verified against --tls-ca (else the system's roots) under the name
// --tls-server-name (else the host dialled), and the client certificate if any.
func (s *Security) TLSConfig() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.ServerName}
	if s.CAFile != "" {
		pool, err := LoadCAs(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		c.RootCAs = pool
	}
	if s.CertFile != "" {
		r := &certReloader{certFile: s.CertFile, keyFile: s.KeyFile}
		if _, err := r.get(); err != nil {
			return nil, err
		}
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return r.get() }
	}
	return c, nil
}

// certReloader gives the client certificate, read again when either file
// changes (a certificate renewed in place, as cert-manager does), so that new
// connections present the current one. If a changed pair does not load (the
// two files caught mid-update), the previous one is used until it does.
type certReloader struct {
	certFile, keyFile string

	mu   sync.Mutex
	mods [2]time.Time
	cert *tls.Certificate
}

func (r *certReloader) get() (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var mods [2]time.Time
	for i, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			if r.cert != nil {
				return r.cert, nil
			}
			return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", r.certFile, r.keyFile, err)
		}
		mods[i] = fi.ModTime()
	}
	if r.cert != nil && mods == r.mods {
		return r.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		if r.cert != nil {
			return r.cert, nil
		}
		return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.mods = &cert, mods
	return r.cert, nil
}

// LoadCAs reads a PEM file of CA certificates.
func LoadCAs(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// mechanism builds the SASL mechanism. Passwords are read once, here; OAuth
// and AWS credentials are fetched at each connection's authentication, from
// sources that cache them.
func (s *Security) mechanism(ctx context.Context) (sasl.Mechanism, error) {
	switch s.Mechanism {
	case Plain, ScramSHA256, ScramSHA512:
		pass, err := s.readPassword()
		if err != nil {
			return nil, err
		}
		switch s.Mechanism {
		case Plain:
			return plain.Auth{User: s.Username, Pass: pass}.AsMechanism(), nil
		case ScramSHA256:
			return scram.Auth{User: s.Username, Pass: pass}.AsSha256Mechanism(), nil
		default:
			return scram.Auth{User: s.Username, Pass: pass}.AsSha512Mechanism(), nil
		}
	case OAuthBearer:
		src, err := s.tokenSource()
		if err != nil {
			return nil, err
		}
		return oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
			tok, err := src.Token(ctx)
			return oauth.Auth{Token: tok}, err
		}), nil
	case AWSMSKIAM:
		return awsMechanism(ctx)
	}
	return nil, fmt.Errorf("unknown SASL mechanism %q", s.Mechanism)
}

// awsMechanism is AWS_MSK_IAM with credentials from the AWS SDK's default
// chain (environment, shared config and credentials files, SSO, web identity,
// container and instance roles), which caches and refreshes them. The region
// comes from each broker's host name, as franz-go's sasl/aws reads it.
func awsMechanism(ctx context.Context) (sasl.Mechanism, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS_MSK_IAM: AWS configuration: %w", err)
	}
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("AWS_MSK_IAM: the AWS default chain has no credentials provider")
	}
	return awssasl.ManagedStreamingIAM(func(ctx context.Context) (awssasl.Auth, error) {
		c, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return awssasl.Auth{}, fmt.Errorf("AWS_MSK_IAM: AWS credentials: %w", err)
		}
		return awssasl.Auth{AccessKey: c.AccessKeyID, SecretKey: c.SecretAccessKey, SessionToken: c.SessionToken, UserAgent: "gofka-streams"}, nil
	}), nil
}
