package docker

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// defaultStopTimeout is docker stop's wait before SIGKILL, in seconds.
const defaultStopTimeout = 10

func newStopCmd(g *globals, st Streams) *cobra.Command {
	var timeout int
	c := &cobra.Command{
		Use:   "stop [-t SECONDS] CONTAINER [CONTAINER...]",
		Short: "Stop one or more running containers",
		Long: "Send each container's stop signal (--stop-signal, else its image's\n" +
			"STOPSIGNAL, else SIGTERM), wait up to -t seconds (else its --stop-timeout,\n" +
			"else 10) for it to end, then SIGKILL; its restart policy does not restart\n" +
			"it. Prints each container as given; a stopped container is not an error,\n" +
			"nor is one that ends while it is stopped.\n" +
			"Goes on past a failure, then exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return forEachContainer(g, st, args, func(s *store.Store, r runtime, ctr *store.Container) error {
				return stopWithTimeout(c, s, r, ctr, timeout)
			})
		},
	}
	c.Flags().IntVarP(&timeout, "time", "t", defaultStopTimeout, "seconds to wait before killing the container (-1: no limit)")
	return c
}

// stopWithTimeout stops ctr as stop and restart do: its stop signal, then
// SIGKILL after -t seconds (c's flag "time", given as timeout), else its
// --stop-timeout, else 10.
func stopWithTimeout(c *cobra.Command, s *store.Store, r runtime, ctr *store.Container, timeout int) error {
	sig, err := stopSignal(ctr)
	if err != nil {
		return err
	}
	t := defaultStopTimeout
	switch {
	case c.Flags().Changed("time"):
		t = timeout
	case ctr.Config.StopTimeout != nil:
		t = *ctr.Config.StopTimeout
	}
	wait := time.Duration(t) * time.Second
	if t < 0 {
		wait = -1 // as long as it takes, as Docker
	}
	return stopContainer(s, r, ctr, sig, wait)
}

func newKillCmd(g *globals, st Streams) *cobra.Command {
	var signal string
	c := &cobra.Command{
		Use:   "kill [-s SIGNAL] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers",
		Long: "Send SIGNAL (a name or number, default KILL) to each container's process.\n" +
			"KILL and the container's stop signal keep its restart policy from\n" +
			"restarting it (until it is started again), as Docker's.\n" +
			"Prints each container as given; a container that is not running is an\n" +
			"error (one that ends while it is killed is not). A paused container is thawed after a signal that ends it (KILL, its\n" +
			"stop signal; any signal when it has none), as Docker does. Goes on past a\n" +
			"failure, then exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			sig, err := cli.ParseSignal(signal)
			if err != nil {
				return dockerError(err)
			}
			return forEachContainer(g, st, args, func(s *store.Store, r runtime, ctr *store.Container) error {
				if !ctr.State.Running {
					return fmt.Errorf("cannot kill container: %s: container %s is not running", ctr.ID[:12], ctr.ID)
				}
				// SIGKILL and the stop signal end the restart policy, as
				// Docker's (a signal such as SIGHUP leaves it).
				if stop, err := stopSignal(ctr); sig == unix.SIGKILL || (err == nil && sig == stop) {
					if err := markStopped(s, ctr); err != nil {
						return err
					}
				}
				if err := r.signal(s, ctr, sig); err != nil {
					return err
				}
				if endsContainer(ctr, sig) {
					if err := thawForStop(s, r, ctr); err != nil {
						return err
					}
				}
				if sig == unix.SIGKILL && waitStopped(s, ctr.ID, stopWait) {
					return persist(s, ctr.ID)
				}
				return nil
			})
		},
	}
	c.Flags().StringVarP(&signal, "signal", "s", "KILL", "signal to send to the container")
	return c
}

// forEachContainer runs fn on each container args name, printing each
// name as given when fn succeeds and Docker's error for each that fails;
// it exits 1 when one failed.
func forEachContainer(g *globals, st Streams, args []string, fn func(*store.Store, runtime, *store.Container) error) error {
	s, err := g.containers()
	if err != nil {
		return dockerError(err)
	}
	r, err := g.runtime()
	if err != nil {
		return dockerError(err)
	}
	r.log = g.logger(st.Err)
	failed := false
	for _, ref := range args {
		ctr, err := s.Get(ref)
		if err == nil {
			err = fn(s, r, ctr)
		}
		if err != nil {
			daemonError(st, err)
			failed = true
			continue
		}
		fmt.Fprintln(st.Out, ref)
	}
	if failed {
		return exitOne
	}
	return nil
}
