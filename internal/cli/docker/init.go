package docker

import (
	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/initproc"
)

// newInitCmd is the hidden command the launcher re-executes as the
// container's init; it is not for people.
func newInitCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "init",
		Short:              "container init (internal; started by run)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(*cobra.Command, []string) error {
			if code := initproc.Main(); code != 0 {
				return &statusOnly{code: code}
			}
			return nil
		},
	}
}
