package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/gofka/streams/serde/registry"
)

const avroRegistryDir = "testdata/avroregistry"

// TestSchemasRegisterAndCheck registers the schemas of testdata/avroregistry's
// serdes in franz-go's in-memory registry (srfake, which answers every
// compatibility check with "compatible": the incompatible path is shown with a
// registry that cannot be reached, for the positions).
func TestSchemasRegisterAndCheck(t *testing.T) {
	r := srfake.New()
	defer r.Close()
	var out, errb bytes.Buffer
	if err := registerSchemas(avroRegistryDir, r.URL(), &out, &errb); err != nil {
		t.Fatalf("register: %v\n%s", err, errb.String())
	}
	for _, want := range []string{"topology.go:22:52: subject clicks-value: id ", "topology.go:23:62: subject pages-value: id "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("register printed\n%s\nwithout %q", out.String(), want)
		}
	}
	// what was registered is what the program registers: the canonical Avro schema
	s, err := registry.New(r.URL()).SchemaByID(context.Background(), 1)
	if want := `{"name":"Click","type":"record","fields":[{"name":"user","type":"string"},{"name":"url","type":"string"}]}`; err != nil || s.Schema != want {
		t.Errorf("schema 1: %q, %v; want %s", s.Schema, err, want)
	}
	out.Reset()
	if err := registryCheck(avroRegistryDir, r.URL(), &out, &errb); err != nil || strings.Count(out.String(), ": compatible") != 2 {
		t.Fatalf("check: %v\n%s%s", err, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if err := registryCheck(avroRegistryDir, "http://127.0.0.1:1", &out, &errb); err == nil {
		t.Fatal("check against no registry succeeded")
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "topology.go:22:52: subject clicks-value: schema registry:") {
		t.Fatalf("errors:\n%s", errb.String())
	}
}
