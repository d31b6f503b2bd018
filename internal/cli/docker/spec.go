package docker

import (
	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// newSpecCmd writes a bundle's config.json with the defaults `run` uses
// (the same file `minimal-runc spec` writes).
func newSpecCmd() *cobra.Command {
	var bundle string
	c := &cobra.Command{
		Use:   "spec",
		Short: "Write a default config.json (run's defences: capabilities, seccomp, masked paths) into a bundle directory",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return spec.WriteBundle(bundle)
		},
	}
	c.Flags().StringVarP(&bundle, "bundle", "b", ".", "the bundle directory")
	return c
}
