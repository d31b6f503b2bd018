package docker

import (
	"fmt"
	"time"

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
				return removeContainer(g, s, r, ctr.ID, force, volumes)
			})
			if s, serr := g.containers(); serr == nil {
				_ = s.Sweep() // what killed commands left
			}
			return err
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "force the removal of a running container (SIGKILL)")
	c.Flags().BoolVarP(&volumes, "volumes", "v", false, "remove the anonymous volumes of the container (not those another container uses)")
	return c
}

// removeContainer removes container id and everything it has (destroy),
// refusing a running one without force, in Docker's words; once its
// record is gone its volumes are free, and with volumes its anonymous
// ones are removed (rm -v).
func removeContainer(g *globals, s *store.Store, r runtime, id string, force, volumes bool) error {
	var gone *store.Container
	var t0 time.Time
	err := s.Remove(id, func(c *store.Container) error {
		gone = c
		if c.State.Paused && !force {
			return fmt.Errorf("cannot remove container %q: container is paused: unpause and then stop the container before removing or force remove", c.Name)
		}
		if c.State.Restarting && !force {
			return fmt.Errorf("cannot remove container %q: container is restarting: stop the container before removing or force remove", c.Name)
		}
		if c.State.Running && !force {
			return fmt.Errorf("cannot remove container %q: container is running: stop the container before removing or force remove", c.Name)
		}
		err := destroy(g, s, r, c)
		t0 = time.Now()
		return err
	})
	if err != nil {
		return err
	}
	r.log.Step("record-remove", t0)
	return detachVolumes(g, gone, volumes)
}
