package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Main is the command line of a generated binary: gofkagen's generated main calls
// it with the package's compiled topologies. It exits the process.
func Main(programs ...*Program) {
	os.Exit(Command(programs, os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks an error already explained to the user.
var errUsage = errors.New("usage")

// Command runs the command line with args and returns the exit status.
func Command(programs []*Program, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:           "app",
		Short:         "A Gofka Streams application: topologies compiled by gofkagen",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var mermaid bool
	describe := &cobra.Command{
		Use:   "describe",
		Short: "Print the topologies with their sub-topologies, stores and topics",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for i, p := range programs {
				if i > 0 {
					fmt.Fprintln(stdout)
				}
				if mermaid {
					fmt.Fprint(stdout, p.Mermaid)
				} else {
					fmt.Fprint(stdout, p.Description)
				}
			}
			return nil
		},
	}
	describe.Flags().BoolVar(&mermaid, "mermaid", false, "print Mermaid diagrams instead of text")
	root.AddCommand(describe)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		if err != errUsage {
			fmt.Fprintln(stderr, "error:", err)
		}
		return 1
	}
	return 0
}
