package runc

import (
	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/container"
)

func newPauseCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "pause ID",
		Short: "Suspend every process of a running container (the freezer cgroup)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			store, err := g.store()
			if err != nil {
				return err
			}
			return container.Pause(store, args[0])
		},
	}
}

func newResumeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "resume ID",
		Short: "Resume every process of a paused container",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			store, err := g.store()
			if err != nil {
				return err
			}
			return container.Resume(store, args[0])
		},
	}
}
