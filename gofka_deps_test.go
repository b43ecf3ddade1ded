package streams_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDepsFile checks gofka_deps.go does its one job: under its tag the DSL
// package reaches the runtime the generated main imports, with no import cycle
// (go list fails on one: the runtime must never import the DSL), and without
// the tag, in every real build, the DSL does not pull the runtime in.
func TestDepsFile(t *testing.T) {
	deps := func(tags ...string) []string {
		t.Helper()
		args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, tags...)
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			t.Fatalf("go %s .: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.Fields(string(out))
	}
	const app = "github.com/gofka/streams/runtime/app"
	if !slices.Contains(deps("-tags", "gofka_deps"), app) {
		t.Errorf("with -tags gofka_deps the DSL package does not reach %s: go mod tidy in a user's module would miss what generated code imports", app)
	}
	if slices.Contains(deps(), app) {
		t.Errorf("the DSL package imports %s in a normal build: gofka_deps.go's import leaked out of its build tag", app)
	}
}
