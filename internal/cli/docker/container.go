package docker

import "github.com/spf13/cobra"

// newContainerCmd is `container`, Docker's group of container verbs.
func newContainerCmd(g *globals, st Streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "container",
		Short: "Manage containers",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	ls := newPsCmd(g, st)
	ls.Use, ls.Aliases = "ls [OPTIONS]", []string{"ps", "list"}
	c.AddCommand(ls, newStopCmd(g, st), newKillCmd(g, st), newRmCmd(g, st),
		newContainerInspectCmd(g, st), newPruneCmd(g, st),
		newLogsCmd(g, st), newExecCmd(g, st), newWaitCmd(g, st),
		newPauseCmd(g, st), newUnpauseCmd(g, st), newTopCmd(g, st), newStatsCmd(g, st), newCpCmd(g, st),
		newCreateCmd(g, st), newStartCmd(g, st), newRestartCmd(g, st), newAttachCmd(g, st), newPortCmd(g, st))
	return c
}
