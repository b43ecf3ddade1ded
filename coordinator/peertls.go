package coordinator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// PeerTLS is mutual TLS between the replicas of a group: Raft and the control
// RPCs (join, leave, heartbeat, checkpoint acks) run inside it. The shared
// listener does the TLS handshake before it reads the protocol byte, so a
// process without a certificate signed by the CA gets no further than the
// handshake: it cannot join, heartbeat, ack, vote or read Raft traffic.
//
// Every replica presents its certificate both as a server (to the replicas
// that dial it) and as a client (when it dials them), and checks the other
// side's against the CA. The check is of the chain only, not of the host
// name: replicas are addressed by whatever --raft-advertise says (a pod IP, a
// StatefulSet host name, an address found through discovery), and the CA is
// the group's own, so that holding a certificate it signed is what makes a
// peer. Certificates and keys are read once, at start: rotating them is a
// rolling restart under the same CA.
type PeerTLS struct {
	cert tls.Certificate
	pool *x509.CertPool

	rejected atomic.Int64
	logMu    sync.Mutex
	lastLog  time.Time
	quiet    int // rejections not logged since lastLog
}

// peerTLSLogEvery bounds how often refused handshakes are logged.
const peerTLSLogEvery = 10 * time.Second

// tlsAccepted is the byte the accepting side writes once the handshake
// succeeded. In TLS 1.3 the dialer's handshake completes before the server
// has checked the dialer's certificate; waiting for this byte makes a
// refusal show at dial time as the server's alert ("remote error: tls: bad
// certificate") rather than later as a broken pipe.
const tlsAccepted byte = 'K'

// LoadPeerTLS reads the CA certificate (PEM, one or more) and this replica's
// certificate and key.
func LoadPeerTLS(caFile, certFile, keyFile string) (*PeerTLS, error) {
	if caFile == "" || certFile == "" || keyFile == "" {
		return nil, errors.New("peer TLS needs a CA, a certificate and a key")
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("peer TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("peer TLS CA %s: no PEM certificate in it", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("peer TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("peer TLS certificate %s: %w", certFile, err)
	}
	cert.Leaf = leaf
	p := &PeerTLS{cert: cert, pool: pool}
	if err := p.verify(cert.Certificate, x509.ExtKeyUsageClientAuth); err != nil {
		return nil, fmt.Errorf("peer TLS certificate %s is not one the CA %s accepts as a peer's: %w", certFile, caFile, err)
	}
	if err := p.verify(cert.Certificate, x509.ExtKeyUsageServerAuth); err != nil {
		return nil, fmt.Errorf("peer TLS certificate %s is not one the CA %s accepts as a peer's: %w", certFile, caFile, err)
	}
	return p, nil
}

// Rejected counts the incoming connections whose TLS handshake failed since
// the process started.
func (p *PeerTLS) Rejected() int64 { return p.rejected.Load() }

// NotAfter is when this replica's certificate expires.
func (p *PeerTLS) NotAfter() time.Time { return p.cert.Leaf.NotAfter }

// server is the configuration of the shared listener.
func (p *PeerTLS) server() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{p.cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.pool,
	}
}

// client is the configuration of connections to peers. The server's chain is
// verified against the CA in VerifyConnection, not its host name (see
// PeerTLS); InsecureSkipVerify only turns off Go's check that does both.
func (p *PeerTLS) client() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{p.cert},
		// Always present the certificate, even when the server's list of
		// acceptable CAs does not name its issuer, so that the server says
		// why it refuses it.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &p.cert, nil },
		InsecureSkipVerify:   true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			var raw [][]byte
			for _, c := range cs.PeerCertificates {
				raw = append(raw, c.Raw)
			}
			return p.verify(raw, x509.ExtKeyUsageServerAuth)
		},
	}
}

// verify checks a certificate chain (leaf first) against the CA.
func (p *PeerTLS) verify(chain [][]byte, usage x509.ExtKeyUsage) error {
	if len(chain) == 0 {
		return errors.New("no certificate")
	}
	certs := make([]*x509.Certificate, len(chain))
	for i, der := range chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return err
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: p.pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

// handshake completes the server side of an incoming TLS connection; a
// failure is counted and logged (at most every peerTLSLogEvery). A
// connection closed before it sent anything is not a rejection: discovery
// probes whether a replica accepts connections that way.
func (p *PeerTLS) handshake(c *tls.Conn, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), firstByteTimeout)
	defer cancel()
	err := c.HandshakeContext(ctx)
	if err == nil {
		c.SetWriteDeadline(time.Now().Add(firstByteTimeout))
		_, err = c.Write([]byte{tlsAccepted})
		c.SetWriteDeadline(time.Time{})
		return err
	}
	if errors.Is(err, io.EOF) {
		return err
	}
	p.rejected.Add(1)
	p.logMu.Lock()
	defer p.logMu.Unlock()
	if time.Since(p.lastLog) < peerTLSLogEvery {
		p.quiet++
		return err
	}
	log.Warn("coordinator: refused a connection: its TLS handshake failed (not a replica with a certificate of the peer CA?)",
		"remote", c.RemoteAddr().String(), "err", err, "refused_since_last_log", p.quiet, "refused_total", p.rejected.Load())
	p.lastLog, p.quiet = time.Now(), 0
	return err
}

// dial connects to a peer: TCP, then TLS when p is set.
func (p *PeerTLS) dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil || p == nil {
		return c, err
	}
	tc := tls.Client(c, p.client())
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("TLS handshake with peer %s: %w", addr, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(firstByteTimeout)
	}
	tc.SetReadDeadline(deadline)
	var b [1]byte
	if _, err := io.ReadFull(tc, b[:]); err != nil || b[0] != tlsAccepted {
		c.Close()
		if err == nil {
			err = fmt.Errorf("unexpected byte %q", b[0])
		}
		return nil, fmt.Errorf("TLS handshake with peer %s: refused: %w", addr, err)
	}
	tc.SetReadDeadline(time.Time{})
	return tc, nil
}
