// Package cli is gofkagen's command line: it parses flags, calls codegen, and
// writes files and messages. Nothing here knows how topologies are compiled.
package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gofka/streams/codegen"
	"github.com/gofka/streams/ir"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/templates"
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

Add this line to one file of the package:

	//go:generate go run github.com/gofka/streams/cmd/gofkagen`,
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
	root.AddCommand(&cobra.Command{
		Use:   "check [dir]",
		Short: "Exit 1 if regenerating would change gofka_gen.go (for CI)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return check(dirArg(args), stdout, stderr)
		},
	})
	var format string
	describe := &cobra.Command{
		Use:   "describe [dir]",
		Short: "Print the topologies with their sub-topologies, as text and as Mermaid diagrams",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return describeDir(dirArg(args), format, stdout, stderr)
		},
	}
	describe.Flags().StringVar(&format, "format", "both", "both, text or mermaid")
	root.AddCommand(describe)
	var k k8sOptions
	k8s := &cobra.Command{
		Use:   "k8s [dir]",
		Short: "Print Kubernetes manifests (StatefulSet, headless service, probes) for the application",
		Long: `k8s prints, for each topology of the package (a package main), a StatefulSet
running N replicas of the generated binary, the headless service through which
they find each other (--peers-dns) and the probes on /healthz and /readyz.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return k8sManifests(dirArg(args), k, stdout, stderr)
		},
	}
	k8s.Flags().StringVar(&k.image, "image", "", "container image of the application (default <app-id>:latest)")
	k8s.Flags().IntVar(&k.replicas, "replicas", 3, "replicas of the StatefulSet")
	k8s.Flags().IntVar(&k.voters, "voters", 3, "replicas that vote in the Raft group: 1, 3 or 5")
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

// report prints every error, with file names relative to the working directory
// where that is shorter, as the go command does.
func report(stderr io.Writer, errs []error) error {
	wd, _ := os.Getwd()
	for _, err := range errs {
		if e, ok := err.(*ir.Error); ok && wd != "" {
			if rel, rerr := filepath.Rel(wd, e.Pos.Filename); rerr == nil && !strings.HasPrefix(rel, "..") {
				pos := e.Pos
				pos.Filename = rel
				err = &ir.Error{Pos: pos, Msg: e.Msg}
			}
		}
		fmt.Fprintln(stderr, err)
	}
	return errReported
}

func generate(dir string, stdout, stderr io.Writer) error {
	res, errs := codegen.GenerateDir(dir)
	if len(errs) > 0 {
		return report(stderr, errs)
	}
	if len(res.Package.Graphs) == 0 {
		fmt.Fprintf(stderr, "gofkagen: no //gofka:topology function in %s\n", res.Package.Dir)
		return errReported
	}
	if old, err := os.ReadFile(res.OutputPath); err == nil && bytes.Equal(old, res.Content) {
		return nil // unchanged: keep the file's modification time
	}
	return os.WriteFile(res.OutputPath, res.Content, 0o644)
}

func check(dir string, stdout, stderr io.Writer) error {
	res, errs := codegen.GenerateDir(dir)
	if len(errs) > 0 {
		return report(stderr, errs)
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

func describeDir(dir, format string, stdout, stderr io.Writer) error {
	res, errs := codegen.GenerateDir(dir)
	if len(errs) > 0 {
		return report(stderr, errs)
	}
	for i, g := range res.Package.Graphs {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := runtime.WriteDescription(stdout, ir.Describe(g, res.Package.Types), ir.Mermaid(g, res.Package.Types), format); err != nil {
			return err
		}
	}
	return nil
}

type k8sOptions struct {
	image    string
	replicas int
	voters   int
}

func k8sManifests(dir string, o k8sOptions, stdout, stderr io.Writer) error {
	switch o.voters {
	case 1, 3, 5:
	default:
		return fmt.Errorf("--voters must be 1, 3 or 5, not %d", o.voters)
	}
	if o.replicas < 1 {
		return fmt.Errorf("--replicas must be at least 1")
	}
	res, errs := codegen.GenerateDir(dir)
	if len(errs) > 0 {
		return report(stderr, errs)
	}
	if res.Package.Name != "main" {
		return fmt.Errorf("package %s is not a command (package main): there is no binary to deploy", res.Package.Name)
	}
	for i, g := range res.Package.Graphs {
		if i > 0 {
			fmt.Fprintln(stdout, "---")
		}
		image := o.image
		if image == "" {
			image = g.DefaultAppID + ":latest"
		}
		text, err := templates.Render("statefulset.yaml.tmpl", struct {
			Name, AppID, Topology, Image string
			Replicas, Voters             int
		}{g.DefaultAppID, g.DefaultAppID, g.Name, image, o.replicas, min(o.voters, o.replicas)})
		if err != nil {
			return err
		}
		io.WriteString(stdout, text)
	}
	return nil
}
