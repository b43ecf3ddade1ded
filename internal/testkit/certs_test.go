package testkit

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
)

// TestCertsVerify checks that an issued leaf verifies against its CA for
// 127.0.0.1 and localhost, as a server and as a client, and that a
// self-signed one does not.
func TestCertsVerify(t *testing.T) {
	ca, err := NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("broker", "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.CertPEM) {
		t.Fatal("CA PEM does not parse")
	}
	pair, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if _, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Errorf("host %s usage %v: %v", host, usage, err)
			}
		}
	}
	impostor, err := SelfSigned("impostor", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ipair, _ := tls.X509KeyPair(impostor.CertPEM, impostor.KeyPEM)
	icert, _ := x509.ParseCertificate(ipair.Certificate[0])
	if _, err := icert.Verify(x509.VerifyOptions{Roots: pool}); err == nil {
		t.Error("a self-signed certificate verified against the test CA")
	}
}
