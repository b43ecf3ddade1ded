package golden

import (
	"bytes"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/gofka/streams/codegen"
)

var (
	update = flag.Bool("update", false, "rewrite want/"+genGolden+" and want/errors.txt (a working case's only after its run matches want/output.txt)")
	keep   = flag.Bool("keep", false, "keep the temporary module the cases are compiled in, and print its path")
)

const (
	genGolden   = "gofka_gen.go.golden" // the generated file, under a name the go tool ignores
	runnerPkg   = "gofkarunner"         // the runner's directory in the temporary module
	modulePath  = "example.com/golden"
	errorsFile  = "errors.txt"
	outputFile  = "output.txt"
	inputFile   = "input.txt"
	genFileName = "gofka_gen.go"
)

// goldenCase is one folder of the suite.
type goldenCase struct {
	name    string // folder name, e.g. SeedClickCount
	dir     string // absolute path of the folder
	pkg     string // package name and directory in the temporary module: the lowercased name
	working bool   // in/input.txt exists: the case must compile and run
	modDir  string // the package's directory in the temporary module

	// Set by generation, read by the runner build after gen.Wait.
	compiled []string // Compiled<Topology> functions, in graph order; nil if generation failed
}

func TestGolden(t *testing.T) {
	cases := loadCases(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mod := tempModule(t, root, cases)

	var (
		gen      sync.WaitGroup // working cases still generating
		mu       sync.Mutex
		building []*goldenCase // working cases whose subtests run
		runner   = &runnerBuild{done: make(chan struct{}), failed: map[string]string{}}
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var generated func()
			if c.working {
				gen.Add(1)
				building = append(building, c)
				generated = sync.OnceFunc(gen.Done)
				defer generated() // also when the subtest fails early
			}
			t.Parallel()
			res, errs := codegen.GenerateDir(c.modDir)
			if !c.working {
				checkErrors(t, c, res, errs)
				return
			}
			if len(errs) > 0 {
				t.Errorf("gofkagen failed; want a generated file:\n%s", formatErrors(c, errs))
				return
			}
			if err := os.WriteFile(filepath.Join(c.modDir, genFileName), res.Content, 0o666); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			for _, g := range res.Package.Graphs {
				c.compiled = append(c.compiled, "Compiled"+g.Name)
			}
			mu.Unlock()
			generated()
			checkWorking(t, c, res.Content, runner)
		})
	}
	// Every working subtest has registered (a parallel subtest runs up to t.Parallel
	// inside t.Run); they resume when this function returns, and wait for the build.
	go func() {
		gen.Wait()
		mu.Lock()
		defer mu.Unlock()
		runner.build(mod, building)
		close(runner.done)
	}()
}

// loadCases lists the case folders and checks their layout.
func loadCases(t *testing.T) []*goldenCase {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var cases []*goldenCase
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "_") || e.Name() == "testdata" {
			continue
		}
		dir, _ := filepath.Abs(e.Name())
		c := &goldenCase{name: e.Name(), dir: dir, pkg: strings.ToLower(e.Name())}
		c.working = exists(filepath.Join(dir, "in", inputFile))
		if !unicode.IsUpper([]rune(c.name)[0]) {
			t.Errorf("%s: case names are CamelCase", c.name)
			continue
		}
		if c.working == exists(filepath.Join(dir, "want", errorsFile)) {
			t.Errorf("%s: a case has either in/%s (it compiles and runs) or want/%s (it fails to compile), not both or neither", c.name, inputFile, errorsFile)
			continue
		}
		if c.working && !exists(filepath.Join(dir, "want", outputFile)) {
			t.Errorf("%s: want/%s is missing: write it by hand, from the input and the topology's meaning", c.name, outputFile)
			continue
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	return cases
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// tempModule makes the module every case is compiled in: module example.com/golden,
// using the streams module at root, with each case's in/*.go in a directory named
// like its package. It returns the module's directory, without symlinks, so that
// positions in messages can be scrubbed.
func tempModule(t *testing.T, root string, cases []*goldenCase) string {
	mod, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if *keep {
		mod, err = os.MkdirTemp("", "gofka-golden-")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("temporary module kept in %s", mod)
	}
	rootMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	// The streams module's own requirements are listed too, so that the module graph
	// is complete for whatever the streams packages import.
	goMod := fmt.Sprintf("module %s\n\ngo 1.26.0\n\nrequire github.com/gofka/streams v0.0.0\n\nrequire (\n%s)\n\nreplace github.com/gofka/streams => %s\n",
		modulePath, requirements(string(rootMod)), root)
	write(t, filepath.Join(mod, "go.mod"), []byte(goMod))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(mod, "go.sum"), sum)
	for _, c := range cases {
		c.modDir = filepath.Join(mod, c.pkg)
		files, _ := filepath.Glob(filepath.Join(c.dir, "in", "*.go"))
		if len(files) == 0 {
			t.Errorf("%s: no in/*.go", c.name)
		}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if pf, err := parser.ParseFile(token.NewFileSet(), f, src, parser.PackageClauseOnly); err == nil && pf.Name.Name != c.pkg {
				t.Errorf("%s: %s is package %s; want package %s", c.name, filepath.Base(f), pf.Name.Name, c.pkg)
			}
			write(t, filepath.Join(c.modDir, filepath.Base(f)), src)
		}
	}
	return mod
}

// requirements returns the "path version" lines of the require directives of a
// go.mod file, one per line, marked indirect.
func requirements(goMod string) string {
	var b strings.Builder
	block := false
	for _, line := range strings.Split(goMod, "\n") {
		line, _, _ = strings.Cut(line, "//")
		f := strings.Fields(line)
		switch {
		case block && len(f) == 1 && f[0] == ")":
			block = false
		case block && len(f) == 2:
			fmt.Fprintf(&b, "\t%s %s // indirect\n", f[0], f[1])
		case len(f) == 2 && f[0] == "require" && f[1] == "(":
			block = true
		case len(f) == 3 && f[0] == "require":
			fmt.Fprintf(&b, "\t%s %s // indirect\n", f[1], f[2])
		}
	}
	return b.String()
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := writeFile(path, data); err != nil {
		t.Fatal(err)
	}
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o666)
}

// formatErrors prints errors one per line, with the case's directory in the
// temporary module shown as in/.
func formatErrors(c *goldenCase, errs []error) string {
	var b strings.Builder
	for _, err := range errs {
		b.WriteString(strings.ReplaceAll(err.Error(), c.modDir+string(filepath.Separator), "in/"))
		b.WriteByte('\n')
	}
	return b.String()
}

// positioned matches an error line that starts with a position in the case's files.
var positioned = regexp.MustCompile(`^in/[^/:]+\.go:\d+:\d+: `)

func checkErrors(t *testing.T, c *goldenCase, res *codegen.Result, errs []error) {
	wantPath := filepath.Join(c.dir, "want", errorsFile)
	if len(errs) == 0 {
		t.Errorf("gofkagen succeeded; want the errors in want/%s. Generated:\n%s", errorsFile, res.Content)
		return
	}
	got := formatErrors(c, errs)
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if !positioned.MatchString(line) {
			t.Errorf("error without a position in the case's files: %s", line)
		}
	}
	want, _ := os.ReadFile(wantPath)
	if got == string(want) {
		return
	}
	if *update {
		write(t, wantPath, []byte(got))
		t.Logf("updated want/%s", errorsFile)
		return
	}
	t.Errorf("errors differ from want/%s (-want +got):\n%s", errorsFile, diff(string(want), got))
}

func checkWorking(t *testing.T, c *goldenCase, content []byte, r *runnerBuild) {
	goldenPath := filepath.Join(c.dir, "want", genGolden)
	wantGen, _ := os.ReadFile(goldenPath)
	genOK := bytes.Equal(content, wantGen)
	if !genOK && !*update {
		if wantGen == nil {
			t.Errorf("want/%s is missing: run go test ./golden -update", genGolden)
		} else {
			t.Errorf("generated file differs from want/%s (-want +got):\n%s", genGolden, diff(string(wantGen), string(content)))
		}
	}

	<-r.done
	if r.err != "" {
		t.Fatalf("building the runner failed:\n%s", r.err)
	}
	if msg, ok := r.failed[c.pkg]; ok {
		t.Fatalf("the generated code does not build:\n%s", msg)
	}
	input := filepath.Join(c.dir, "in", inputFile)
	cmd := exec.Command(r.bin, c.name, input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("running %s: %v\n%s%s", c.name, err, stderr.Bytes(), stdout.Bytes())
	}
	want, _ := os.ReadFile(filepath.Join(c.dir, "want", outputFile))
	if got := stdout.String(); got != string(want) {
		t.Fatalf("run output differs from want/%s (-want +got):\n%s", outputFile, diff(string(want), got))
	}
	if !genOK && *update {
		write(t, goldenPath, content)
		t.Logf("updated want/%s", genGolden)
	}
}

// runnerBuild is the one runner program of all working cases, built once their code
// is generated.
type runnerBuild struct {
	done   chan struct{}
	bin    string
	err    string            // why there is no runner at all
	failed map[string]string // package -> build errors of a case left out of the runner
}

// build writes the runner's main package, importing every case that generated, and
// builds it. A case whose generated code does not build is left out, and the rest
// built again.
func (r *runnerBuild) build(mod string, cases []*goldenCase) {
	var in []*goldenCase
	for _, c := range cases {
		if c.compiled != nil {
			in = append(in, c)
		}
	}
	r.bin = filepath.Join(mod, "runner.bin")
	for {
		if err := writeFile(filepath.Join(mod, runnerPkg, "main.go"), runnerMain(in)); err != nil {
			r.err = err.Error()
			return
		}
		cmd := exec.Command("go", "build", "-o", r.bin, "./"+runnerPkg)
		cmd.Dir = mod
		out, err := cmd.CombinedOutput()
		if err == nil {
			return
		}
		// go build prints "# example.com/golden/<pkg>" above each failing package's errors.
		sections := buildSections(string(out))
		left := in[:0:0]
		for _, c := range in {
			if msg, ok := sections[modulePath+"/"+c.pkg]; ok {
				r.failed[c.pkg] = strings.ReplaceAll(msg, c.modDir+string(filepath.Separator), "in/")
				continue
			}
			left = append(left, c)
		}
		if len(left) == len(in) {
			r.err = fmt.Sprintf("%v\n%s", err, out)
			return
		}
		in = left
	}
}

// buildSections splits go build's output by the "# package" lines it prints.
func buildSections(out string) map[string]string {
	sections := map[string]string{}
	cur := ""
	for _, line := range strings.SplitAfter(out, "\n") {
		if pkg, ok := strings.CutPrefix(line, "# "); ok {
			cur = strings.TrimSpace(pkg)
			continue
		}
		sections[cur] += line
	}
	return sections
}

// runnerMain is the source of the runner: a table from case names to their programs,
// handed to Main.
func runnerMain(cases []*goldenCase) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by the golden test. DO NOT EDIT.\n\npackage main\n\nimport (\n\t\"os\"\n\n")
	b.WriteString("\t\"github.com/gofka/streams/golden\"\n\t\"github.com/gofka/streams/runtime\"\n")
	for _, c := range cases {
		fmt.Fprintf(&b, "\t%q\n", modulePath+"/"+c.pkg)
	}
	b.WriteString(")\n\nvar cases = map[string]func() []*runtime.Program{\n")
	for _, c := range cases {
		var calls []string
		for _, fn := range c.compiled {
			calls = append(calls, c.pkg+"."+fn+"()")
		}
		fmt.Fprintf(&b, "\t%q: func() []*runtime.Program { return []*runtime.Program{%s} },\n", c.name, strings.Join(calls, ", "))
	}
	b.WriteString("}\n\nfunc main() { os.Exit(golden.Main(cases, os.Args[1:], os.Stdout, os.Stderr)) }\n")
	return b.Bytes()
}

// diff is a line diff of want and got: common lines start with a space, removed
// lines with -, added lines with +. Long runs of common lines are elided.
func diff(want, got string) string {
	a := strings.SplitAfter(want, "\n")
	b := strings.SplitAfter(got, "\n")
	// Longest common subsequence, by dynamic programming: the files are small.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, line{' ', a[i]})
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			lines = append(lines, line{'+', b[j]})
			j++
		default:
			lines = append(lines, line{'-', a[i]})
			i++
		}
	}
	const context = 3
	var out strings.Builder
	for k, l := range lines {
		if l.op == ' ' {
			near := slices.ContainsFunc(lines[max(0, k-context):min(len(lines), k+context+1)], func(l line) bool { return l.op != ' ' })
			if !near {
				continue
			}
		}
		text := l.text
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		out.WriteByte(l.op)
		out.WriteString(text)
	}
	return out.String()
}
