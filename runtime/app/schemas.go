package app

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gofka/streams/serde/registry"
)

// schemasCommand is `<app> schemas list|register|check`: the schemas that the
// program's serdes write to a schema registry (those built with
// streams.Registry), listed, registered ahead of time, or checked for
// compatibility with their subjects' latest versions. The serdes record their
// schemas when the package initialises (registry.Track), so the command needs no
// broker and runs no topology.
func schemasCommand(ctx context.Context, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schemas",
		Short: "List, register or check the schemas the serdes write to a schema registry",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "Print each registry, subject and schema",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			for _, u := range registry.Tracked() {
				fmt.Fprintf(stdout, "%s %s %s\n%s\n", u.URL, u.Subject, schemaType(u.Schema), u.Schema.Schema)
			}
			return nil
		},
	}, &cobra.Command{
		Use:   "register",
		Short: "Register every schema under its subject and print the ids",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			res, err := registry.RegisterAll(ctx)
			for _, r := range res {
				fmt.Fprintf(stdout, "%s %s %s: id %d\n", r.URL, r.Subject, schemaType(r.Schema), r.ID)
			}
			return err
		},
	}, &cobra.Command{
		Use:   "check",
		Short: "Check every schema against its subject's latest version (the subject's compatibility level, BACKWARD by default); fail if one is incompatible",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			res, err := registry.CheckAll(ctx)
			if err != nil {
				return err
			}
			bad := 0
			for _, r := range res {
				verdict := "compatible"
				if !r.Compatibility.Compatible {
					verdict, bad = "NOT compatible", bad+1
				}
				fmt.Fprintf(stdout, "%s %s %s: %s\n", r.URL, r.Subject, schemaType(r.Schema), verdict)
				for _, m := range r.Compatibility.Messages {
					fmt.Fprintf(stdout, "\t%s\n", m)
				}
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d schemas are not compatible with their subjects", bad, len(res))
			}
			return nil
		},
	})
	return cmd
}

func schemaType(s registry.Schema) string {
	if s.SchemaType == "" {
		return registry.Avro
	}
	return s.SchemaType
}
