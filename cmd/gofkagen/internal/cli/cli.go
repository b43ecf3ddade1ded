// Package cli is gofkagen's command line: it parses flags, calls the compiler, and
// writes files and messages. Nothing here knows how topologies are compiled.
//
// Every command starts with frontend.Load, which type-checks the package and
// returns its lowered topologies (an ir.Package) or every error at once. generate
// and check then call codegen.Generate, which returns the file's content without
// writing it; describe and k8s stop after loading and generate nothing.
package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gofka/streams/codegen"
	"github.com/gofka/streams/frontend"
	"github.com/gofka/streams/internal/describe"
	"github.com/gofka/streams/internal/termbar"
	"github.com/gofka/streams/ir"
)

// errReported marks a failure whose details were already printed.
var errReported = errors.New("failed")

// Run executes gofkagen with args and returns the exit status.
func Run(args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:   "gofkagen [dir]",
		Short: "Compile the Gofka Streams topologies of a package into gofka_gen.go",
		Long: `gofkagen compiles every function marked //gofka:topology in the package in dir
(default: the current directory, as go generate runs it) into gofka_gen.go.

Add this line to one file of the package (after go get -tool
github.com/gofka/streams/cmd/gofkagen in your module):

	//go:generate go tool gofkagen`,
		Args:          cobra.MaximumNArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return generate(dirArg(args), stdout, stderr)
		},
	}
	root.AddCommand(&cobra.Command{
		Use:   "generate [dir]",
		Short: "Write gofka_gen.go (the default command)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return generate(dirArg(args), stdout, stderr)
		},
	})
	var registryURL string
	checkCmd := &cobra.Command{
		Use:   "check [dir]",
		Short: "Exit 1 if regenerating would change gofka_gen.go (for CI); with --registry, also if a schema is not compatible with its subject",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := check(dirArg(args), stdout, stderr); err != nil || registryURL == "" {
				return err
			}
			return registryCheck(dirArg(args), registryURL, stdout, stderr)
		},
	}
	checkCmd.Flags().StringVar(&registryURL, "registry", "", "check each schema a serde writes to a schema registry against the subject's latest version in this registry (its compatibility level, BACKWARD by default)")
	root.AddCommand(checkCmd)
	root.AddCommand(schemasCommand(stdout, stderr))
	var format, topology string
	describeCmd := &cobra.Command{
		Use:   "describe [dir]",
		Short: "Print the topologies with their sub-topologies, as text and as Mermaid diagrams",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return describeDir(dirArg(args), topology, format, stdout, stderr)
		},
	}
	describeCmd.Flags().StringVar(&format, "format", "both", "both, text or mermaid (bare Mermaid, one diagram: give --topology when the package has several)")
	describeCmd.Flags().StringVar(&topology, "topology", "", "describe only this topology (default: all)")
	root.AddCommand(describeCmd)
	var k k8sOptions
	k8s := &cobra.Command{
		Use:   "k8s [dir]",
		Short: "Print Kubernetes manifests (StatefulSet, headless service, probes) for the application",
		Long: `k8s prints, for each topology of the package (a package main), a StatefulSet
running N replicas of the generated binary, the headless service through which
they find each other (--peers-dns) and the probes on /healthz and /readyz.
With --kafka-secret, --peer-tls-secret, --status-token-secret and
--status-tls-secret it mounts credentials and certificates from Secrets and
sets the application's flags to the mounted files.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return k8sManifests(dirArg(args), k, stdout, stderr)
		},
	}
	k.addFlags(k8s)
	root.AddCommand(k8s)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		if err != errReported {
			fmt.Fprintln(stderr, "gofkagen:", err)
		}
		return 1
	}
	return 0
}

func dirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

// load type-checks and compiles the package in dir; on failure it prints the
// errors and returns errReported.
func load(dir string, stderr io.Writer) (*ir.Package, error) {
	return loadShown(dir, stderr, nil)
}

// loadShown is load, with bar (possibly nil) erased before errors are printed.
func loadShown(dir string, stderr io.Writer, bar *termbar.Bar) (*ir.Package, error) {
	pkg, errs := frontend.Load(dir)
	if len(errs) > 0 {
		bar.Finish()
		return nil, report(stderr, dir, errs)
	}
	return pkg, nil
}

// generated loads the package in dir and generates its file, without writing
// it. On a terminal a bar shows the step under way (loading and
// type-checking the package takes most of the time); it is erased before
// anything else is printed.
func generated(dir string, stderr io.Writer) (codegen.Result, error) {
	bar := termbar.New(stderr, 2, "gofkagen: loading and type-checking "+dir, "steps")
	defer bar.Finish()
	pkg, err := loadShown(dir, stderr, bar)
	if err != nil {
		return codegen.Result{}, err
	}
	bar.Add(1)
	if len(pkg.Graphs) == 0 {
		bar.Finish()
		fmt.Fprintf(stderr, "gofkagen: no //gofka:topology function in %s\n", pkg.Dir)
		return codegen.Result{}, errReported
	}
	bar.Describe("gofkagen: generating code for " + dir)
	res := codegen.Generate(pkg)
	bar.Add(1)
	bar.Finish()
	if len(res.Errs) > 0 {
		return res, report(stderr, dir, res.Errs)
	}
	return res, nil
}

func generate(dir string, stdout, stderr io.Writer) error {
	res, err := generated(dir, stderr)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(res.OutputPath); err == nil && bytes.Equal(old, res.Content) {
		return nil // unchanged: keep the file's modification time
	}
	return os.WriteFile(res.OutputPath, res.Content, 0o644)
}

func check(dir string, stdout, stderr io.Writer) error {
	res, err := generated(dir, stderr)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(res.OutputPath)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "%s is missing: run go generate\n", res.OutputPath)
		return errReported
	case !bytes.Equal(old, res.Content):
		fmt.Fprintf(stderr, "%s is stale: run go generate\n", res.OutputPath)
		return errReported
	}
	fmt.Fprintf(stdout, "%s is up to date\n", res.OutputPath)
	return nil
}

// describeDir prints the lowered topologies of the package in dir; it generates
// nothing.
func describeDir(dir, topology, format string, stdout, stderr io.Writer) error {
	pkg, err := load(dir, stderr)
	if err != nil {
		return err
	}
	var tops []describe.Topology
	for _, g := range pkg.Graphs {
		tops = append(tops, describe.Topology{Name: g.Name, Text: codegen.Describe(g, pkg.Types), Mermaid: ir.Mermaid(g, pkg.Types)})
	}
	return describe.WriteAll(stdout, tops, topology, format)
}
