package docker

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

func newRmCmd(g *globals, st Streams) *cobra.Command {
	var force, volumes bool
	c := &cobra.Command{
		Use:   "rm [-f] [-v] CONTAINER [CONTAINER...]",
		Short: "Remove one or more containers",
		Long: "Remove each container: its runtime state, writable layer, log, record and\n" +
			"name. A running container is refused unless -f, which kills it first.\n" +
			"Prints each container as given. Goes on past a failure, then exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			err := forEachContainer(g, st, args, func(s *store.Store, r runtime, ctr *store.Container) error {
				return removeContainer(g, s, r, ctr.ID, force)
			})
			if s, serr := g.containers(); serr == nil {
				_ = s.Sweep() // what killed commands left
			}
			return err
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "force the removal of a running container (SIGKILL)")
	// -v: a detached container has no anonymous volume yet (-d refuses
	// them), so there is nothing more to remove.
	c.Flags().BoolVarP(&volumes, "volumes", "v", false, "remove the anonymous volumes of the container")
	return c
}

// removeContainer removes container id and everything it has (destroy),
// refusing a running one without force, in Docker's words.
func removeContainer(g *globals, s *store.Store, r runtime, id string, force bool) error {
	return s.Remove(id, func(c *store.Container) error {
		if c.State.Paused && !force {
			return fmt.Errorf("cannot remove container %q: container is paused: unpause and then stop the container before removing or force remove", c.Name)
		}
		if c.State.Restarting && !force {
			return fmt.Errorf("cannot remove container %q: container is restarting: stop the container before removing or force remove", c.Name)
		}
		if c.State.Running && !force {
			return fmt.Errorf("cannot remove container %q: container is running: stop the container before removing or force remove", c.Name)
		}
		return destroy(g, s, r, c)
	})
}
