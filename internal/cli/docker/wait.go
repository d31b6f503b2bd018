package docker

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

func newWaitCmd(g *globals, st Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "wait CONTAINER [CONTAINER...]",
		Short: "Block until one or more containers stop, then print their exit codes",
		Long: "Wait for each container to stop (its record checked against the kernel)\n" +
			"and print its exit code, one per line, as Docker does, also when it is\n" +
			"removed once stopped (run -d --rm). Goes on past a container it can't\n" +
			"wait for, then exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return waitContainers(g, st, args)
		},
	}
}

func waitContainers(g *globals, st Streams, refs []string) error {
	s, err := g.containers()
	if err != nil {
		return dockerError(err)
	}
	failed := false
	for _, ref := range refs {
		c, err := waitOne(s, ref)
		if err != nil {
			daemonError(st, err)
			failed = true
			continue
		}
		fmt.Fprintln(st.Out, c.State.ExitCode)
	}
	if failed {
		return exitOne
	}
	return nil
}

// waitOne waits for the container ref names to stop and returns its
// record then.
func waitOne(s *store.Store, ref string) (*store.Container, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	w, err := s.Watch(c.ID)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	waitStopped(s, c.ID, -1)
	last, err := s.Get(c.ID)
	if errors.Is(err, store.ErrNotFound) {
		// Removed once stopped (run -d --rm; rm -f): its exit file is
		// still readable through the Waiter.
		if e, xerr := w.Exit(c); xerr == nil {
			c.State.SetStopped(e.ExitCode, e.FinishedAt)
			return c, nil
		}
	}
	return last, err
}
