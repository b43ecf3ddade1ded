package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gofka/streams/ir"
	"github.com/gofka/streams/serde/registry"
)

// The schema-registry side of gofkagen: the schemas the topologies' serdes write
// to a registry (ir.SchemaUse, found by the frontend: Avro schemas derived from
// the Go types or given as constants, JSON Schemas given as constants, with a
// constant subject), checked for compatibility or registered ahead of time,
// against the registry named by --registry. Protobuf schemas come from the
// compiled-in descriptors and are only known to the program: its binary's
// `schemas check` and `schemas register` cover them.

// registryCheck asks the registry at url, for every schema use of the package in
// dir, whether the subject's latest version allows it; it prints an error at the
// serde's position for each that it does not.
func registryCheck(dir, url string, stdout, stderr io.Writer) error {
	uses, err := schemaUses(dir, stderr)
	if err != nil {
		return err
	}
	c := registry.New(url)
	var errs []error
	for _, u := range uses {
		res, err := c.CheckCompatibility(context.Background(), u.Subject, registry.Schema{Schema: u.Schema, SchemaType: u.Type})
		switch {
		case err != nil:
			errs = append(errs, ir.Errorf(u.Pos, "subject %s: %v", u.Subject, err))
		case !res.Compatible:
			why := ""
			if len(res.Messages) > 0 {
				why = ": " + strings.Join(res.Messages, "; ")
			}
			errs = append(errs, ir.Errorf(u.Pos, "subject %s: the %s schema is not compatible with the subject's latest version under its compatibility level%s", u.Subject, u.Type, why))
		default:
			fmt.Fprintf(stdout, "%s: subject %s: compatible\n", relPos(dir, u.Pos), u.Subject)
		}
	}
	if len(errs) > 0 {
		return report(stderr, dir, errs)
	}
	return nil
}

// registerSchemas registers every schema use of the package in dir and prints
// the ids.
func registerSchemas(dir, url string, stdout, stderr io.Writer) error {
	uses, err := schemaUses(dir, stderr)
	if err != nil {
		return err
	}
	c := registry.New(url)
	var errs []error
	for _, u := range uses {
		id, err := c.Register(context.Background(), u.Subject, registry.Schema{Schema: u.Schema, SchemaType: u.Type})
		if err != nil {
			errs = append(errs, ir.Errorf(u.Pos, "subject %s: %v", u.Subject, err))
			continue
		}
		fmt.Fprintf(stdout, "%s: subject %s: id %d\n", relPos(dir, u.Pos), u.Subject, id)
	}
	if len(errs) > 0 {
		return report(stderr, dir, errs)
	}
	return nil
}

func schemaUses(dir string, stderr io.Writer) ([]ir.SchemaUse, error) {
	pkg, err := load(dir, stderr)
	if err != nil {
		return nil, err
	}
	var uses []ir.SchemaUse
	for _, g := range pkg.Graphs {
		uses = append(uses, g.Schemas...)
	}
	if len(uses) == 0 {
		fmt.Fprintf(stderr, "gofkagen: no serde in %s writes to a schema registry with a constant subject\n", pkg.Dir)
		return nil, errReported
	}
	return uses, nil
}

// relPos prints pos with its file relative to the module, as report does.
func relPos(dir string, pos fmt.Stringer) string {
	text := pos.String()
	for _, p := range modulePrefixes(dir) {
		text = strings.TrimPrefix(text, p)
	}
	return text
}

// schemasCommand is `gofkagen schemas register --registry URL [dir]`.
func schemasCommand(stdout, stderr io.Writer) *cobra.Command {
	var url string
	register := &cobra.Command{
		Use:   "register [dir]",
		Short: "Register the schemas the serdes write to a schema registry, ahead of the first record",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return registerSchemas(dirArg(args), url, stdout, stderr)
		},
	}
	register.Flags().StringVar(&url, "registry", "", "the schema registry's URL (Confluent REST API)")
	_ = register.MarkFlagRequired("registry")
	cmd := &cobra.Command{Use: "schemas", Short: "Schema-registry commands", Args: cobra.NoArgs}
	cmd.AddCommand(register)
	return cmd
}
