package kafkaconf

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Probes run only after a failure, to say why a broker closed the connection
// or never answered: they send nothing secret (a TLS ClientHello, an
// ApiVersions request, a SaslHandshake naming a mechanism).

const probeWait = 3 * time.Second

// probeTLS reports whether the broker at addr completes a TLS handshake (or
// answers one with a TLS alert): it speaks TLS.
func probeTLS(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, probeWait)
	defer cancel()
	// Only whether a ServerHello comes back matters: nothing is sent over the
	// connection, so the certificate is not verified.
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // a probe, see above
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		conn.Close()
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

// probePlaintext reports whether the broker at addr answers a plaintext
// ApiVersions request.
func probePlaintext(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, probeWait)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	const corrID = 0x676f66 // "gof"
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0
	msg := kmsg.NewRequestFormatter(kmsg.FormatterClientID("gofka-probe")).AppendRequest(nil, req, corrID)
	if _, err := conn.Write(msg); err != nil {
		return false
	}
	var head [8]byte // size, correlation id
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return false
	}
	return binary.BigEndian.Uint32(head[4:]) == corrID
}

// offered asks the broker at addr, without authenticating, which SASL
// mechanisms it enables, and says so ("" if it will not tell).
func (w *Watch) offered(ctx context.Context, addr string) string {
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.DialTimeout(probeWait)}
	if w.tls != nil {
		opts = append(opts, kgo.DialTLSConfig(w.tls.Clone()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return ""
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, probeWait)
	defer cancel()
	req := kmsg.NewPtrSASLHandshakeRequest()
	req.Version = 1
	req.Mechanism = w.mechanismName()
	resp, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		return ""
	}
	hs, ok := resp.(*kmsg.SASLHandshakeResponse)
	if !ok || len(hs.SupportedMechanisms) == 0 {
		return ""
	}
	return "the broker offers " + strings.Join(hs.SupportedMechanisms, ", ") + ": give one of them with --sasl-mechanism"
}
