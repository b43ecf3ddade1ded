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
