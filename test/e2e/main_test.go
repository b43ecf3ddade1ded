package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binary is the click-count application built by TestMain. The same binary is
// the standalone broker ("broker" command).
var appBinary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gofka-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot build examples/clickcount:", err)
		return 1
	}
	return m.Run()
}

// build makes sure examples/clickcount/gofka_gen.go is current (regenerating it
// with gofkagen only when it is stale) and builds the binary into dir.
func build(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	root, err := repoRoot(ctx)
	if err != nil {
		return err
	}
	goCmd := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	// check first: regenerating unconditionally would rewrite the file under
	// other packages' tests that go test ./... compiles at the same time.
	if out, err := goCmd("run", "./cmd/gofkagen", "check", "examples/clickcount"); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: examples/clickcount/gofka_gen.go is stale (%s); regenerating it\n", strings.TrimSpace(out))
		if out, err := goCmd("run", "./cmd/gofkagen", "examples/clickcount"); err != nil {
			return fmt.Errorf("go run ./cmd/gofkagen examples/clickcount: %v\n%s", err, out)
		}
	}
	appBinary = filepath.Join(dir, "clickcount")
	if out, err := goCmd("build", "-o", appBinary, "./examples/clickcount"); err != nil {
		return fmt.Errorf("go build ./examples/clickcount: %v\n%s", err, out)
	}
	return nil
}

// repoRoot is the directory of the module's go.mod.
func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the module (go env GOMOD is %q)", mod)
	}
	return filepath.Dir(mod), nil
}
