package kafkaconf

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/gofka/streams/internal/testkit"
)

// TestClientCertificateReloaded: a client certificate renewed in place is
// presented on the next connection; a half-written pair keeps the old one.
func TestClientCertificateReloaded(t *testing.T) {
	ca, err := testkit.NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	first, _ := ca.Issue("client-1")
	certFile, keyFile, err := first.Write(dir, "client")
	if err != nil {
		t.Fatal(err)
	}
	s := &Security{CertFile: certFile, KeyFile: keyFile}
	c, err := s.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	leafOf := func() []byte {
		cert, err := c.GetClientCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return cert.Certificate[0]
	}
	a := leafOf()
	second, _ := ca.Issue("client-2")
	second.Write(dir, "client")
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(certFile, later, later)
	os.Chtimes(keyFile, later, later)
	b := leafOf()
	if bytes.Equal(a, b) {
		t.Fatal("the renewed certificate is not presented")
	}
	os.WriteFile(keyFile, []byte("half written"), 0o600)
	os.Chtimes(keyFile, later.Add(time.Second), later.Add(time.Second))
	if !bytes.Equal(leafOf(), b) {
		t.Error("a pair that does not load replaced the previous certificate")
	}
}
