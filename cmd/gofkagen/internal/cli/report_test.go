package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// userModule writes a module that uses the DSL from this checkout, with src as
// app/topology.go, and returns the package's directory.
func userModule(t *testing.T, src string) string {
	t.Helper()
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	files := map[string]string{
		"go.mod":          "module example.com/m\n\ngo 1.26\n\nrequire github.com/gofka/streams v0.0.0\n\nreplace github.com/gofka/streams => " + root + "\n",
		"go.sum":          string(sum),
		"app/topology.go": src,
	}
	for name, content := range files {
		path := filepath.Join(mod, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("GOFLAGS", "-mod=mod")
	return filepath.Join(mod, "app")
}

const typeErrorSrc = `package app

import "github.com/gofka/streams"

func isReal(key, url string) bool { return undefinedThing }

//gofka:topology
func Clicks(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "clicks").Filter(isReal).To("real")
}
`

// TestGoErrorOnce: a Go type error is printed once, its file named relative to
// the module's root as the compiler's own errors are, whatever the working
// directory.
func TestGoErrorOnce(t *testing.T) {
	dir := userModule(t, typeErrorSrc)
	var out, errb bytes.Buffer
	if code := Run([]string{dir}, &out, &errb); code != 1 {
		t.Fatalf("exit status %d, want 1; stderr:\n%s", code, errb.String())
	}
	want := "app/topology.go:5:44: undefined: undefinedThing\n"
	if errb.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errb.String(), want)
	}
}

// TestCompileErrorsRelative: the compiler's errors, and the positions inside
// their messages, name files relative to the module's root.
func TestCompileErrorsRelative(t *testing.T) {
	src := strings.Replace(typeErrorSrc, "undefinedThing", "url != \"\"", 1)
	src = strings.Replace(src, `To("real")`, `To("clicks")`, 1)
	dir := userModule(t, src)
	var out, errb bytes.Buffer
	if code := Run([]string{"describe", dir}, &out, &errb); code != 1 {
		t.Fatalf("exit status %d, want 1; stderr:\n%s", code, errb.String())
	}
	want := `app/topology.go:9:86: To: topic "clicks" is this topology's input (read at app/topology.go:9:61): writing to it would feed every record back in, a loop through Kafka` + "\n"
	if errb.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errb.String(), want)
	}
}
