package app

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/gofka/streams/serde/registry"
)

// TestSchemasCommand registers and checks a tracked schema through the command,
// against franz-go's in-memory registry (which answers every compatibility check
// with "compatible", so only that path is covered here).
func TestSchemasCommand(t *testing.T) {
	r := srfake.New()
	defer r.Close()
	const schema = `{"type":"record","name":"Click","fields":[{"name":"user","type":"string"}]}`
	registry.Track(registry.Use{URL: r.URL(), Subject: "clicks-value", Schema: registry.Schema{Schema: schema}})

	code, out, _ := command(t, "schemas", "list")
	if code != 0 || !strings.Contains(out, r.URL()+" clicks-value AVRO\n"+schema) {
		t.Fatalf("schemas list: status %d\n%s", code, out)
	}
	code, out, _ = command(t, "schemas", "register")
	if code != 0 || !strings.Contains(out, "clicks-value AVRO: id ") {
		t.Fatalf("schemas register: status %d\n%s", code, out)
	}
	if vs, err := registry.New(r.URL()).Versions(context.Background(), "clicks-value"); err != nil || len(vs) != 1 {
		t.Fatalf("versions after register: %v, %v", vs, err)
	}
	code, out, _ = command(t, "schemas", "check")
	if code != 0 || !strings.Contains(out, "clicks-value AVRO: compatible") {
		t.Fatalf("schemas check: status %d\n%s", code, out)
	}
	r.Close()
	code, _, errOut := command(t, "schemas", "check")
	if code == 0 || !strings.Contains(errOut, "subject clicks-value") {
		t.Fatalf("schemas check with the registry gone: status %d\n%s", code, errOut)
	}
}
