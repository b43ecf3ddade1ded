package coordinator

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gofka/streams/internal/testkit"
)

// peerTLSFiles writes leaf and the CA into a temporary directory and loads
// them.
func peerTLSFiles(t *testing.T, ca *testkit.CA, leaf testkit.Leaf) *PeerTLS {
	t.Helper()
	dir := t.TempDir()
	caFile, err := ca.WriteCA(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := leaf.Write(dir, "peer")
	if err != nil {
		t.Fatal(err)
	}
	pt, err := LoadPeerTLS(caFile, certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

func TestLoadPeerTLSRefusesACertificateOfAnotherCA(t *testing.T) {
	ca, err := testkit.NewCA("group")
	if err != nil {
		t.Fatal(err)
	}
	other, err := testkit.SelfSigned("impostor", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile, _ := ca.WriteCA(dir, "ca")
	certFile, keyFile, _ := other.Write(dir, "peer")
	if _, err := LoadPeerTLS(caFile, certFile, keyFile); err == nil {
		t.Fatal("a certificate the CA did not sign was accepted")
	}
	if _, err := LoadPeerTLS(caFile, "", keyFile); err == nil {
		t.Fatal("no certificate file: accepted")
	}
}

// TestPeerTLSGroupRefusesOthers runs a group over mutual TLS and checks that
// a replica with a self-signed certificate cannot join it, and that raw
// clients (plaintext, a wrong certificate, none) cannot read Raft traffic,
// while the group goes on and counts the refusals.
func TestPeerTLSGroupRefusesOthers(t *testing.T) {
	ca, err := testkit.NewCA("group")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("replica", "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	pt := peerTLSFiles(t, ca, leaf)
	c := newCluster(t, 3, 6, func(cfg *Config) { cfg.PeerTLS = pt })
	c.waitReady()
	c.settled(func(counts map[string]int) bool { return len(counts) == 3 })
	if n := pt.Rejected(); n != 0 {
		t.Fatalf("%d handshakes refused among replicas of the group", n)
	}

	bad, err := testkit.SelfSigned("impostor", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile, _ := bad.Write(dir, "imp")
	impostorTLS, err := loadUnchecked(dir, certFile, keyFile, ca)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := Start(context.Background(), Config{ID: "impostor", RaftAddr: freeAddrs(t, 1)[0], DataDir: t.TempDir(),
		Peers: c.peers, Voters: 3, Tasks: c.tasks, HeartbeatInterval: 100 * time.Millisecond,
		FailureTimeout: 1500 * time.Millisecond, Logger: c.log.With("node", "impostor"), PeerTLS: impostorTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Close()

	for _, addr := range c.peers {
		rawClientsRefused(t, addr, bad)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := imp.WaitReady(ctx); err == nil {
		t.Fatal("the impostor became ready")
	}
	if st := c.leader().Status(); len(st.Members) != 3 {
		t.Fatalf("members with an impostor around: %+v", st.Members)
	}
	if pt.Rejected() == 0 {
		t.Fatal("no refused handshake counted")
	}
	// The group still works: a fourth replica with a good certificate joins.
	d := c.add("n4")
	ctxR, cancelR := context.WithTimeout(context.Background(), hang)
	defer cancelR()
	if err := d.WaitReady(ctxR); err != nil {
		t.Fatal(err)
	}
	c.settled(func(counts map[string]int) bool { return len(counts) == 4 })
}

// loadUnchecked is LoadPeerTLS without the check that the CA signed the
// certificate: an impostor that trusts the group's CA, with a certificate of
// its own.
func loadUnchecked(dir, certFile, keyFile string, ca *testkit.CA) (*PeerTLS, error) {
	caFile, err := ca.WriteCA(dir, "ca")
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	good, err := ca.Issue("x")
	if err != nil {
		return nil, err
	}
	gc, gk, err := good.Write(dir, "good")
	if err != nil {
		return nil, err
	}
	p, err := LoadPeerTLS(caFile, gc, gk)
	if err != nil {
		return nil, err
	}
	p.cert = cert
	return p, nil
}

// rawClientsRefused checks that nobody without a certificate of the CA gets
// an answer from addr's Raft listener.
func rawClientsRefused(t *testing.T, addr string, bad testkit.Leaf) {
	t.Helper()
	// Plaintext: the protocol byte and a Raft request, as before TLS.
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte{protoRaft, 0, 0x81, 0xa4, 'T', 'e', 'r', 'm', 1})
	if b, err := io.ReadAll(c); len(b) > 0 && err == nil {
		t.Errorf("plaintext client read %q from %s", b, addr)
	}
	c.Close()

	badCert, err := tls.X509KeyPair(bad.CertPEM, bad.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	for name, certs := range map[string][]tls.Certificate{"self-signed certificate": {badCert}, "no certificate": nil} {
		tc, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr,
			&tls.Config{InsecureSkipVerify: true, Certificates: certs, MinVersion: tls.VersionTLS12})
		if err != nil {
			continue // refused in the handshake (TLS 1.2, or the server's alert came first)
		}
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		tc.Write([]byte{protoRaft})
		b := make([]byte, 1)
		if n, err := tc.Read(b); err == nil || n > 0 {
			t.Errorf("%s: read from %s after the handshake", name, addr)
		}
		tc.Close()
	}
}
