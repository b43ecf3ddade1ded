// Package browsertest starts a real headless browser (Debian's chromium,
// installed by make deps) for tests of the web view, driven through the
// DevTools protocol with chromedp: a test gets a browser tab as a context and
// runs chromedp actions in it; the browser ends with the test.
//
// Without a browser on PATH the test fails when GOFKA_REQUIRE_BROWSER or CI
// is set (make test sets the first: its make deps installs chromium), and
// skips saying so otherwise.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// names are the browser executables tried, in order.
var names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find is the path of a Chromium-family browser, or "".
func Find() string {
	if p := os.Getenv("GOFKA_BROWSER"); p != "" {
		return p
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// New starts a headless browser with a window of width×height and returns a
// tab's context (a child of ctx); the browser is stopped at the test's end.
func New(ctx context.Context, t *testing.T, width, height int) context.Context {
	t.Helper()
	path := Find()
	if path == "" {
		msg := "no chromium on PATH (tried chromium, chromium-browser, google-chrome; or set GOFKA_BROWSER): install it with make deps or apt-get install chromium"
		if os.Getenv("GOFKA_REQUIRE_BROWSER") != "" || os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a small /dev/shm
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(tab); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", path, err)
	}
	return tab
}
