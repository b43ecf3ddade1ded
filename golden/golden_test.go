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
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/gofka/streams/codegen"
	"github.com/gofka/streams/frontend"
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
	bugFile     = "BUG.txt"
)

// goldenCase is one folder of the suite.
type goldenCase struct {
	name    string // folder name, e.g. SeedClickCount
	dir     string // absolute path of the folder
	pkg     string // package name and directory in the temporary module: the lowercased name
	working bool   // in/input.txt exists: the case must compile and run
	bug     string // the text of BUG.txt: the case reproduces a known bug, and fails
	modDir  string // the package's directory in the temporary module

	// Set by generate.
	result   codegen.Result
	errs     []error
	compiled []string // Compiled<Topology> functions, in graph order; nil if generation failed
}

func TestGolden(t *testing.T) {
	cases := loadCases(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mod := tempModule(t, root, cases)

	// Compile every case, a few at a time, then build one runner for all the
	// working cases; the subtests then compare and run.
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(2, goruntime.GOMAXPROCS(0)))
	selected := subtestFilter()
	for _, c := range cases {
		if !selected(c.name) {
			continue // go test -run skips its subtest
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c.generate()
		}()
	}
	wg.Wait()
	runner := buildRunner(mod, cases)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ck := &checker{t: t, update: *update && c.bug == ""}
			if c.working {
				ck.checkWorking(c, runner)
			} else {
				ck.checkErrors(c)
			}
			switch {
			case c.bug == "":
				for _, p := range ck.problems {
					t.Error(p)
				}
			case len(ck.problems) == 0:
				t.Errorf("%s reports a known bug, but the case passes: the bug is fixed? Delete %s and run go test ./golden -update", bugFile, bugFile)
			default:
				t.Skipf("known bug (%s): %s\nwhat differs:\n%s", bugFile, c.bug, strings.Join(ck.problems, "\n"))
			}
		})
	}
}

// subtestFilter reports which cases go test -run TestGolden/<pattern> selects, so
// that only those are compiled. It errs on the side of compiling a case.
func subtestFilter() func(name string) bool {
	all := func(string) bool { return true }
	f := flag.Lookup("test.run")
	if f == nil {
		return all
	}
	parts := strings.Split(f.Value.String(), "/")
	if len(parts) < 2 {
		return all
	}
	var res []*regexp.Regexp
	for _, alt := range strings.Split(parts[1], "|") {
		re, err := regexp.Compile(alt)
		if err != nil || strings.ContainsAny(parts[1], "()[]") {
			return all // alternatives inside groups: not worth parsing here
		}
		res = append(res, re)
	}
	return func(name string) bool {
		return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(name) })
	}
}

// generate runs gofkagen on the case's package in the temporary module, as the
// command does (frontend.Load, then codegen.Generate) and, if it succeeds, writes
// the generated file there.
func (c *goldenCase) generate() {
	pkg, errs := frontend.Load(c.modDir)
	if len(errs) > 0 {
		c.errs = errs
		return
	}
	c.result = codegen.Generate(pkg)
	if c.errs = c.result.Errs; len(c.errs) > 0 {
		return
	}
	if err := os.WriteFile(filepath.Join(c.modDir, genFileName), c.result.Content, 0o666); err != nil {
		c.errs = []error{err}
		return
	}
	for _, g := range pkg.Graphs {
		// The runner, in another package, can call only exported topologies.
		if token.IsExported(g.Name) {
			c.compiled = append(c.compiled, "Compiled"+g.Name)
		}
	}
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
		if bug, err := os.ReadFile(filepath.Join(dir, bugFile)); err == nil {
			c.bug = strings.TrimSpace(string(bug))
		}
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
		// A file that must not type-check (a case of the Go type checker's own
		// errors) is kept as *.go.txt, so that go build ./... skips it.
		broken, _ := filepath.Glob(filepath.Join(c.dir, "in", "*.go.txt"))
		files = append(files, broken...)
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
			write(t, filepath.Join(c.modDir, strings.TrimSuffix(filepath.Base(f), ".txt")), src)
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

// checker collects the problems of one case. A case with a BUG.txt is expected to
// have some (it reproduces a known bug), so they are collected rather than
// reported at once; and such a case never updates its want/ files, which hold the
// correct behaviour, written by hand.
type checker struct {
	t        *testing.T
	update   bool
	problems []string
}

func (ck *checker) errorf(format string, args ...any) {
	ck.problems = append(ck.problems, fmt.Sprintf(format, args...))
}

func (ck *checker) write(path string, data []byte) {
	if err := writeFile(path, data); err != nil {
		ck.errorf("%v", err)
		return
	}
	ck.t.Logf("updated want/%s", filepath.Base(path))
}

func (ck *checker) checkErrors(c *goldenCase) {
	wantPath := filepath.Join(c.dir, "want", errorsFile)
	if len(c.errs) == 0 {
		ck.errorf("gofkagen succeeded; want the errors in want/%s. Generated:\n%s", errorsFile, c.result.Content)
		return
	}
	got := formatErrors(c, c.errs)
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if !positioned.MatchString(line) {
			ck.errorf("error without a position in the case's files: %s", line)
		}
	}
	want, _ := os.ReadFile(wantPath)
	switch {
	case got == string(want):
	case ck.update:
		ck.write(wantPath, []byte(got))
	default:
		ck.errorf("errors differ from want/%s (-want +got):\n%s", errorsFile, diff(string(want), got))
	}
}

func (ck *checker) checkWorking(c *goldenCase, r *runnerBuild) {
	if len(c.errs) > 0 {
		ck.errorf("gofkagen failed; want a generated file:\n%s", formatErrors(c, c.errs))
		return
	}
	content := c.result.Content
	goldenPath := filepath.Join(c.dir, "want", genGolden)
	wantGen, _ := os.ReadFile(goldenPath)
	genOK := bytes.Equal(content, wantGen)
	if !genOK && !ck.update {
		if wantGen == nil {
			ck.errorf("want/%s is missing: run go test ./golden -update", genGolden)
		} else {
			ck.errorf("generated file differs from want/%s (-want +got):\n%s", genGolden, diff(string(wantGen), string(content)))
		}
	}

	if r.err != "" {
		ck.errorf("building the runner failed:\n%s", r.err)
		return
	}
	if msg, ok := r.failed[c.pkg]; ok {
		ck.errorf("the generated code does not build:\n%s", msg)
		return
	}
	input := filepath.Join(c.dir, "in", inputFile)
	cmd := exec.Command(r.bin, c.name, input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		ck.errorf("running %s: %v\n%s%s", c.name, err, stderr.Bytes(), stdout.Bytes())
		return
	}
	want, _ := os.ReadFile(filepath.Join(c.dir, "want", outputFile))
	if got := stdout.String(); got != string(want) {
		ck.errorf("run output differs from want/%s (-want +got):\n%s", outputFile, diff(string(want), got))
		return
	}
	if !genOK && ck.update {
		ck.write(goldenPath, content)
	}
}

// runnerBuild is the one runner program of all working cases, built once their code
// is generated.
type runnerBuild struct {
	bin    string
	err    string            // why there is no runner at all
	failed map[string]string // package -> build errors of a case left out of the runner
}

// buildRunner writes the runner's main package, importing every working case that
// generated, and builds it. A case whose generated code does not build is left
// out, and the rest built again.
func buildRunner(mod string, cases []*goldenCase) *runnerBuild {
	r := &runnerBuild{failed: map[string]string{}}
	r.build(mod, cases)
	return r
}

func (r *runnerBuild) build(mod string, cases []*goldenCase) {
	var in []*goldenCase
	for _, c := range cases {
		if c.working && c.compiled != nil {
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
	a := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	b := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
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
		out.WriteByte(l.op)
		out.WriteString(l.text)
		out.WriteByte('\n')
	}
	return out.String()
}
