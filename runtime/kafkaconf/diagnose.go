package kafkaconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
)

// Error is a failure that retrying will not mend: the brokers refused the
// client's credentials or certificate, the client refused the brokers', or the
// two do not speak the same protocol (TLS against plaintext). The run must end
// with it. Its text never holds a secret.
type Error struct {
	Broker string // host:port
	Cause  string // e.g. "SASL authentication failed"
	Hint   string // what to change, if known
	Err    error  // what franz-go or crypto/tls said, if anything

	unsupported bool // the broker does not enable the mechanism: Check asks which it does
}

func (e *Error) Error() string {
	msg := "broker " + e.Broker + ": " + e.Cause
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// IsFatal reports whether err is (or wraps) an *Error.
func IsFatal(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// UnreachableError says no broker could be reached, for reasons retrying may
// mend (refused, timed out, closed): the caller waits and tries again.
type UnreachableError struct{ Errs []error }

func (e *UnreachableError) Error() string {
	var parts []string
	for _, err := range e.Errs {
		parts = append(parts, err.Error())
	}
	return "no broker reachable: " + strings.Join(parts, "; ")
}

func (e *UnreachableError) Unwrap() []error { return e.Errs }

// IsUnreachable reports whether err is (or wraps) an *UnreachableError.
func IsUnreachable(err error) bool {
	var e *UnreachableError
	return errors.As(err, &e)
}

// Request keys the hooks tell apart.
const (
	keyApiVersions      = 18
	keySASLHandshake    = 17
	keySASLAuthenticate = 36
)

// failure is what a Watch saw of one failed connection attempt to a broker.
type failure struct {
	addr    string
	tls     bool  // the attempt used TLS
	lastKey int16 // the request that failed while setting the connection up; -1: the dial (or TLS handshake)
	err     error
}

// brokerState is what a Watch remembers of one broker.
type brokerState struct {
	lastKey   int16    // the last request that failed, -1 if none since the last connection attempt
	last      *failure // the last connection attempt's failure; nil once one succeeds
	fatal     *Error   // its classification, if it is one
	fatalRuns int      // consecutive attempts classified as fatal
}

// Watch is a kgo hook (kgo.WithHooks) that sees every connection a client
// sets up, and how it fails: with it, an EOF from a broker can be told apart
// as a refused SASL exchange, a TLS listener or a broker going away.
// Hooks must not block, so a Watch only records; Check and Explain classify,
// with probes if needed.
type Watch struct {
	tls        *tls.Config // the clients' TLS configuration, nil for plaintext
	mechanisms []string    // the clients' SASL mechanisms

	mu      sync.Mutex
	brokers map[string]*brokerState
	latest  string // the broker whose connection failed last
}

// NewWatch makes a Watch for clients made with opts (whose TLS configuration
// and SASL mechanisms it reads, for its probes and messages).
func NewWatch(opts []kgo.Opt) *Watch {
	w := &Watch{brokers: map[string]*brokerState{}}
	if cl, err := kgo.NewClient(opts...); err == nil { // no connection is made
		if c, ok := cl.OptValue(kgo.DialTLSConfig).(*tls.Config); ok && c != nil {
			w.tls = c.Clone()
		}
		if ms, ok := cl.OptValue(kgo.SASL).([]sasl.Mechanism); ok {
			for _, m := range ms {
				w.mechanisms = append(w.mechanisms, m.Name())
			}
		}
		cl.Close()
	}
	return w
}

func addrOf(m kgo.BrokerMetadata) string {
	return net.JoinHostPort(m.Host, strconv.Itoa(int(m.Port)))
}

func (w *Watch) state(addr string) *brokerState {
	st := w.brokers[addr]
	if st == nil {
		st = &brokerState{lastKey: -1}
		w.brokers[addr] = st
	}
	return st
}

// OnBrokerE2E notes which request failed, for OnBrokerConnect.
func (w *Watch) OnBrokerE2E(meta kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	if e2e.Err() == nil {
		return
	}
	w.mu.Lock()
	w.state(addrOf(meta)).lastKey = key
	w.mu.Unlock()
}

// OnBrokerConnect records how a connection attempt (dial, TLS handshake,
// ApiVersions, SASL) ended.
func (w *Watch) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, conn net.Conn, err error) {
	addr := addrOf(meta)
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.state(addr)
	key := st.lastKey
	st.lastKey = -1
	if err == nil {
		st.last, st.fatal, st.fatalRuns = nil, nil, 0
		return
	}
	usedTLS := w.tls != nil
	if conn != nil {
		_, usedTLS = conn.(*tls.Conn)
	}
	if conn == nil {
		key = -1 // the dial itself failed
	}
	f := &failure{addr: addr, tls: usedTLS, lastKey: key, err: err}
	st.last = f
	if e := w.classify(f); e != nil {
		st.fatal = e
		st.fatalRuns++
	} else {
		st.fatal, st.fatalRuns = nil, 0
	}
	w.latest = addr
}

// Fatal returns a failure to authenticate or to agree on TLS that the brokers
// have repeated at least three times in a row on one broker with no success in
// between (a single failure may be a broker restarting mid-handshake): the
// engine's loop ends the run with it rather than retry forever.
func (w *Watch) Fatal() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.brokers {
		if st.fatal != nil && st.fatalRuns >= 3 {
			return st.fatal
		}
	}
	return nil
}

// Explain returns err as an *Error naming the broker and the cause, if err is
// a failure to authenticate or to agree on TLS (from a client's answer or from
// what the Watch saw), else err unchanged.
func (w *Watch) Explain(err error) error {
	if err == nil || IsFatal(err) {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	addr := w.latest
	if st := w.brokers[addr]; st != nil && st.fatal != nil && isConnErr(err) {
		return st.fatal
	}
	if e := w.classify(&failure{addr: orUnknown(addr), tls: w.tls != nil, lastKey: -2, err: err}); e != nil {
		return e
	}
	return err
}

func orUnknown(addr string) string {
	if addr == "" {
		return "(unknown)"
	}
	return addr
}

// isConnErr reports whether err is what a failed connection looks like to a
// request: EOF, a reset or a closed connection.
func isConnErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.EPIPE)
}

// classify names the failure, if retrying cannot mend it; it does no I/O.
func (w *Watch) classify(f *failure) *Error {
	e := &Error{Broker: f.addr, Err: f.err}
	var (
		unknownCA   x509.UnknownAuthorityError
		hostname    x509.HostnameError
		invalid     x509.CertificateInvalidError
		verify      *tls.CertificateVerificationError
		recordHdr   tls.RecordHeaderError
		op          *net.OpError
		kafkaErrMsg = f.err
	)
	switch {
	case errors.As(f.err, &unknownCA):
		e.Cause, e.Err = "TLS handshake failed", unknownCA
		e.Hint = "the broker's certificate is not signed by a CA this client trusts: give the CA that signed it with --tls-ca"
	case errors.As(f.err, &hostname):
		e.Cause, e.Err = "TLS handshake failed", hostname
		e.Hint = "connect by a name the certificate holds, or give that name with --tls-server-name"
	case errors.As(f.err, &invalid):
		e.Cause, e.Err = "TLS handshake failed", invalid
	case errors.As(f.err, &verify):
		e.Cause, e.Err = "TLS handshake failed", verify
	case errors.As(f.err, &recordHdr):
		e.Cause, e.Err = "the broker does not speak TLS", nil
		e.Hint = "tls: first record does not look like a TLS handshake: remove the --tls flags, or connect to the broker's TLS listener"
	case errors.As(f.err, &op) && op.Op == "remote error":
		e.Cause, e.Err = "the broker refused the TLS handshake", op.Err
		if s := op.Err.Error(); strings.Contains(s, "certificate required") || strings.Contains(s, "bad certificate") || strings.Contains(s, "unknown certificate authority") {
			e.Hint = "it wants a client certificate signed by a CA it trusts: give --tls-cert and --tls-key"
		}
	case errors.Is(f.err, kerr.SaslAuthenticationFailed):
		e.Cause, e.Err = "SASL authentication failed", kafkaErrMsg
		e.Hint = w.saslHint()
	case errors.Is(f.err, kerr.UnsupportedSaslMechanism):
		e.Cause, e.Err, e.unsupported = "SASL mechanism "+w.mechanismName()+" is not enabled on the broker", nil, true
	case errors.Is(f.err, kerr.IllegalSaslState):
		e.Cause = "SASL authentication failed"
	case (f.lastKey == keySASLAuthenticate || f.lastKey == keySASLHandshake) && isConnErr(f.err):
		e.Cause, e.Err = "SASL authentication failed", errors.New("the broker closed the connection during the "+w.mechanismName()+" exchange")
		e.Hint = w.saslHint()
	case f.lastKey >= 0 && f.lastKey != keyApiVersions && len(w.mechanisms) == 0 && isConnErr(f.err):
		e.Cause, e.Err = "the broker closed the connection after the first request", nil
		e.Hint = "it probably requires SASL: give --sasl-mechanism and credentials"
	default:
		return nil
	}
	return e
}

func (w *Watch) mechanismName() string {
	if len(w.mechanisms) == 0 {
		return "(none)"
	}
	return w.mechanisms[0]
}

func (w *Watch) saslHint() string {
	return "check the user name, the password and that the user has " + w.mechanismName() + " credentials"
}

// Check connects to every seed broker with opts (the options of the clients to
// come) and a bounded wait (wait per broker, 10 s if zero), and returns nil if
// one answers and none failed for good; an *Error if one refused the
// credentials or the TLS settings (probing the broker's address to tell a TLS
// listener from a plaintext one); else an *UnreachableError, for the caller
// to retry.
func (w *Watch) Check(ctx context.Context, brokers []string, opts []kgo.Opt, wait time.Duration) error {
	if wait <= 0 {
		wait = 10 * time.Second
	}
	all := append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.WithHooks(w), kgo.DialTimeout(wait)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return err
	}
	defer cl.Close()
	seeds := cl.SeedBrokers()
	errs := make([]error, len(seeds))
	var wg sync.WaitGroup
	for i, b := range seeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, wait)
			defer cancel()
			req := kmsg.NewPtrMetadataRequest()
			req.Topics = []kmsg.MetadataRequestTopic{} // none: only the brokers
			if _, err := b.Request(rctx, req); err != nil {
				errs[i] = w.diagnose(ctx, addrOfBroker(brokers, i), err)
			}
		}()
	}
	wg.Wait()
	var unreachable []error
	for _, err := range errs {
		if IsFatal(err) {
			return err
		}
		if err != nil {
			unreachable = append(unreachable, err)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(unreachable) == len(seeds) {
		return &UnreachableError{Errs: unreachable}
	}
	return nil
}

// addrOfBroker is the i-th seed as kgo reads it: host:port, port 9092 by default.
func addrOfBroker(brokers []string, i int) string {
	a := strings.TrimSpace(brokers[i])
	if _, _, err := net.SplitHostPort(a); err != nil {
		a = net.JoinHostPort(a, "9092")
	}
	return a
}

// diagnose classifies the failed request to the seed broker at addr, probing
// the address when the failure may be TLS against plaintext.
func (w *Watch) diagnose(ctx context.Context, addr string, err error) error {
	w.mu.Lock()
	st := w.brokers[addr]
	var st2 brokerState
	if st != nil {
		st2 = *st
	}
	var f *failure
	var fatal *Error
	f, fatal = st2.last, st2.fatal
	w.mu.Unlock()
	if f == nil { // connected, then the request failed
		f = &failure{addr: addr, tls: w.tls != nil, lastKey: -1, err: err}
		if st != nil {
			f.lastKey = st2.lastKey
		}
		fatal = w.classify(f)
	}
	switch {
	case fatal != nil && fatal.unsupported:
		e := *fatal
		e.Hint = w.offered(ctx, addr)
		return &e
	case fatal != nil:
		return fatal
	case !f.tls && (f.lastKey == keyApiVersions || f.lastKey == -1) && !isDialRefused(f.err):
		if probeTLS(ctx, addr) {
			return &Error{Broker: addr, Cause: "the broker speaks TLS, this client plaintext",
				Hint: "it closed the connection at the first request and completes a TLS handshake: add --tls (or --tls-ca FILE)"}
		}
	case f.tls && !isDialRefused(f.err) && (isConnErr(f.err) || isTimeout(f.err) || isTimeout(err)):
		if probePlaintext(ctx, addr) {
			return &Error{Broker: addr, Cause: "the broker does not speak TLS",
				Hint: "it answered a plaintext request: remove the --tls flags, or connect to the broker's TLS listener"}
		}
	}
	return fmt.Errorf("broker %s: %w", addr, err)
}

func isDialRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
