package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gofka/streams/runtime"
)

func command(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	prog := &runtime.Program{Name: "Test", DefaultAppID: "test"}
	code := Command(context.Background(), []*runtime.Program{prog}, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestHelpOffersOnlyExistingGuarantees: exactly-once is not offered before it exists.
func TestHelpOffersOnlyExistingGuarantees(t *testing.T) {
	code, out, _ := command(t, "run", "--help")
	if code != 0 || !strings.Contains(out, "--guarantee") {
		t.Fatalf("run --help: status %d\n%s", code, out)
	}
	if strings.Contains(out, "exactly-once") {
		t.Errorf("run --help offers exactly-once, which does not exist yet:\n%s", out)
	}
	if !strings.Contains(out, "10 minutes") {
		t.Errorf("--keep-checkpoints' help does not mention the grace period:\n%s", out)
	}
}

// TestExactlyOnceNotYetSupported: the value is recognized and refused clearly.
func TestExactlyOnceNotYetSupported(t *testing.T) {
	code, _, errOut := command(t, "run", "--guarantee", "exactly-once")
	if code == 0 || !strings.Contains(errOut, "not yet supported") {
		t.Errorf("status %d, stderr %q; want a 'not yet supported' error", code, errOut)
	}
}

// TestMemoryBelowMinimumRefused: a budget too small for RocksDB's block cache
// is refused before anything starts, with the reason.
func TestMemoryBelowMinimumRefused(t *testing.T) {
	code, _, errOut := command(t, "run", "--memory", "16MiB")
	if code == 0 || !strings.Contains(errOut, "--memory 16MiB is below the minimum of 32MiB") || !strings.Contains(errOut, "block cache") {
		t.Errorf("status %d, stderr %q; want the minimum and why", code, errOut)
	}
}
