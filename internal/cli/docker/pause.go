package docker

// pause and unpause: a detached container's processes frozen and thawed
// through the runtime (minimal-runc pause and resume: the freezer cgroup on
// v1, cgroup.freeze on v2), the record's State.Paused kept in step under
// the container's lock.

import (
	"fmt"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

func newPauseCmd(g *globals, st Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "pause CONTAINER [CONTAINER...]",
		Short: "Pause all processes within one or more containers",
		Long: "Freeze every process of each running container (the freezer cgroup on\n" +
			"cgroup v1, cgroup.freeze on v2, through minimal-runc pause). ps shows it\n" +
			"\"Up ... (Paused)\", inspect State.Paused and Status \"paused\". stop, kill\n" +
			"and rm -f thaw it as they end it. Prints each container as given; goes\n" +
			"on past a failure, then exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return forEachContainer(g, st, args, func(s *store.Store, r runtime, c *store.Container) error {
				return setPaused(s, r, c.ID, true)
			})
		},
	}
}

func newUnpauseCmd(g *globals, st Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "unpause CONTAINER [CONTAINER...]",
		Short: "Unpause all processes within one or more containers",
		Long: "Thaw every process of each paused container (minimal-runc resume). Prints\n" +
			"each container as given; goes on past a failure, then exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return forEachContainer(g, st, args, func(s *store.Store, r runtime, c *store.Container) error {
				return setPaused(s, r, c.ID, false)
			})
		},
	}
}

// setPaused freezes (pause) or thaws container id under its lock, so that
// a stop cannot come in between, and records it; Docker's errors for a
// container in the wrong state. One whose process exits between the
// check and the runtime's verb (its monitor writes the exit record
// without the lock) is refused as a container that does not run.
func setPaused(s *store.Store, r runtime, id string, pause bool) error {
	_, err := s.Update(id, func(c *store.Container) error {
		if err := canSetPaused(&c.State, id, pause); err != nil {
			return err
		}
		verb := "resume"
		if pause {
			verb = "pause"
		}
		if err := r.run(verb, id); err != nil {
			if s.Exited(c) {
				return canSetPaused(&store.State{}, id, pause)
			}
			return err
		}
		c.State.SetPaused(pause)
		return nil
	})
	return err
}

// canSetPaused is Docker's refusal of a pause or an unpause in state st.
func canSetPaused(st *store.State, id string, pause bool) error {
	switch {
	case !pause && !st.Paused:
		return fmt.Errorf("Container %s is not paused", id)
	case !st.Running:
		return fmt.Errorf("Container %s is not running", id)
	case pause && st.Restarting:
		return fmt.Errorf("Container %s is restarting, wait until the container is running", id)
	case pause && st.Paused:
		return fmt.Errorf("Container %s is already paused", id)
	}
	return nil
}

// thawForStop resumes a paused container c after a signal that is to end
// it (its stop signal, or SIGKILL), as Docker does: a frozen process acts
// on a signal only once thawed. The record says so at once. One that
// ended meanwhile needs nothing: also when it ends between the check
// here and the runtime's (the runtime, which already thawed it after a
// SIGKILL, then refuses a stopped container), before its monitor has
// recorded the exit (the record says running until then).
func thawForStop(s *store.Store, r runtime, c *store.Container) error {
	if !c.State.Paused {
		return nil
	}
	_, err := s.Update(c.ID, func(fresh *store.Container) error {
		if !fresh.State.Running || !fresh.State.Paused {
			return nil
		}
		if err := r.run("resume", c.ID); err != nil && !s.Exited(fresh) {
			return err
		}
		fresh.State.SetPaused(false)
		return nil
	})
	return err
}

// endsContainer reports whether kill's sig is one that thaws a paused
// container c after it is sent (Docker's rule): SIGKILL, c's stop signal,
// or any signal when c has none of its own.
func endsContainer(c *store.Container, sig unix.Signal) bool {
	if sig == unix.SIGKILL || c.Config.StopSignal == "" {
		return true
	}
	stop, err := stopSignal(c)
	return err == nil && stop == sig
}
