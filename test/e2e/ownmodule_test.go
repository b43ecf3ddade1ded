package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ownModuleSection is the README section whose steps TestOwnModuleRecipe runs.
const ownModuleSection = "## Use it in your own module"

// TestOwnModuleRecipe follows the README's "Use it in your own module" word for
// word in a fresh module in a temporary directory outside the repository: it
// writes the section's topology.go and runs the section's commands in order and
// nothing else, with one substitution: go get github.com/gofka/streams@VERSION
// becomes a requirement with a replace to this checkout (what this test checks is
// unreleased). Then it runs the binary on its embedded broker, writes visits and
// checks the counts.
func TestOwnModuleRecipe(t *testing.T) {
	ctx := testContext(t, 8*time.Minute)
	root, err := repoRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	commands, topology := recipe(t, string(readme))

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "topology.go"), []byte(topology), 0o644); err != nil {
		t.Fatal(err)
	}
	env := recipeEnv(os.Environ())
	goCmd := func(args ...string) {
		t.Helper()
		start := time.Now()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		t.Logf("go %s (%s)", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	var bin string
	for _, line := range commands {
		args := strings.Fields(line)
		switch {
		case args[0] == "go" && len(args) == 3 && args[1] == "get" && strings.HasPrefix(args[2], "github.com/gofka/streams@"):
			goCmd("mod", "edit",
				"-require=github.com/gofka/streams@v0.0.0-00010101000000-000000000000",
				"-replace=github.com/gofka/streams="+root)
		case args[0] == "go":
			goCmd(args[1:]...)
		case strings.HasPrefix(args[0], "./") && len(args) == 1:
			bin = filepath.Join(dir, args[0])
		default:
			t.Fatalf("README %q: a step this test does not know how to run: %q", ownModuleSection, line)
		}
	}
	if bin == "" {
		t.Fatalf("README %q runs no binary", ownModuleSection)
	}
	if _, err := os.Stat(filepath.Join(dir, "gofka_gen.go")); err != nil {
		t.Fatalf("go generate wrote no gofka_gen.go: %v", err)
	}

	// The recipe's topology: visits (key: visitor, value: page) counted per
	// lowercased page into page-visits.
	app, addr := startExample(ctx, t, bin, "visits", "page-visits")
	visits := [][2]string{{"ann", "/Home"}, {"bob", "/home"}, {"ann", "/cart"}, {"cid", "/HOME"}, {"bob", "/Cart"}, {"dee", "/about"}}
	want := map[string]int64{"/home": 3, "/cart": 2, "/about": 1}
	cl := client(t, addr)
	for _, v := range visits {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "visits", Key: []byte(v[0]), Value: []byte(v[1])}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	readLatestCounts(ctx, t, addr, "page-visits", want)
	stopClean(ctx, t, app)
}

// recipe returns the first sh block (its commands, one a line, comments left out)
// and the first go block (topology.go) of the README's own-module section.
func recipe(t *testing.T, readme string) (commands []string, topology string) {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n"+ownModuleSection+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", ownModuleSection)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	block := func(lang string) string {
		m := regexp.MustCompile("(?s)\n```" + lang + "\n(.*?)\n```\n").FindStringSubmatch(section)
		if m == nil {
			t.Fatalf("README %q has no ```%s block", ownModuleSection, lang)
		}
		return m[1]
	}
	for _, line := range strings.Split(block("sh"), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			commands = append(commands, line)
		}
	}
	topology = block("go") + "\n"
	if !strings.Contains(topology, "//go:generate go tool gofkagen\n") {
		t.Fatalf("README %q: topology.go has no //go:generate go tool gofkagen line", ownModuleSection)
	}
	return commands, topology
}

// recipeEnv is the environment of a user's shell for the recipe: no -mod flag
// (the recipe must work with the go command's defaults), no workspace.
//
// One change to GOPROXY: go get -tool github.com/gofka/streams/cmd/gofkagen also
// asks the proxy whether github.com/gofka/streams/cmd/gofkagen is a module of its
// own. proxy.golang.org answers 404 (not found: go on), but some proxies answer
// 403 for what they do not hold, which the go command takes as an error when
// the proxies are separated by commas. Listing the proxies with "|" and ending
// with "off" makes any refusal mean "not found", as a 404 would.
func recipeEnv(environ []string) []string {
	var env []string
	goproxy := ""
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "GOFLAGS":
			var kept []string
			for _, f := range strings.Fields(v) {
				if !strings.HasPrefix(f, "-mod=") && !strings.HasPrefix(f, "-modfile=") {
					kept = append(kept, f)
				}
			}
			kv = "GOFLAGS=" + strings.Join(kept, " ")
		case "GOPROXY":
			goproxy = v
			continue
		case "GOWORK":
			continue
		}
		env = append(env, kv)
	}
	if goproxy == "" {
		if out, err := exec.Command("go", "env", "GOPROXY").Output(); err == nil {
			goproxy = string(bytes.TrimSpace(out))
		}
	}
	return append(env, "GOWORK=off", "GOPROXY="+refusalIsNotFound(goproxy))
}

// refusalIsNotFound rewrites a GOPROXY list so that every proxy falls through to
// the next on any error and the last answer is "off" (not found). A list without
// a proxy URL (direct, off) is left as it is.
func refusalIsNotFound(goproxy string) string {
	var urls []string
	for _, p := range strings.FieldsFunc(goproxy, func(r rune) bool { return r == ',' || r == '|' }) {
		if p = strings.TrimSpace(p); p != "direct" && p != "off" && p != "" {
			urls = append(urls, p)
		}
	}
	if len(urls) == 0 {
		return goproxy
	}
	return strings.Join(append(slices.Clip(urls), "off"), "|")
}
