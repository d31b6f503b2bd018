package docker

// create, start and restart: a detached container made without running
// it (createDetached, detach.go), then run by its monitor on the bundle it
// keeps, as often as it is started; an image container's writable layer
// stays with the record, so that what it wrote survives a stop and a
// start.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

func newCreateCmd(g *globals, st Streams) *cobra.Command {
	f := &runFlags{}
	c := &cobra.Command{
		Use:   "create [flags] IMAGE|ROOTFS [COMMAND [ARG...]]",
		Short: "Create a new container without starting it",
		Long: "Make a container as run -d does (its record, name, bundle, and for an image\n" +
			"its writable layer) and print its ID; nothing runs until start. run's\n" +
			"flags, but -d. Errors exit 125, as run's.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f.workdirSet = c.Flags().Changed("workdir")
			if !c.Flags().Changed("entrypoint") {
				f.entrypoint = nil
			}
			_, id, err := createDetached(c, g, f, st, args)
			if err != nil {
				return err
			}
			fmt.Fprintln(st.Out, id)
			return nil
		},
	}
	c.Flags().SetInterspersed(false)
	f.register(c.Flags())
	return c
}

func newStartCmd(g *globals, st Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "start CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Long: "Start each created or exited container: its monitor runs it again on its\n" +
			"bundle (an image container keeps its writable layer), with its restart\n" +
			"policy, its RestartCount back to 0. A running container is left as it is.\n" +
			"Prints each container as given. Goes on past a failure, then exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return forEachContainer(g, st, args, func(s *store.Store, _ runtime, ctr *store.Container) error {
				return startDetached(g, s, ctr.ID)
			})
		},
	}
}

func newRestartCmd(g *globals, st Streams) *cobra.Command {
	var timeout int
	c := &cobra.Command{
		Use:   "restart [-t SECONDS] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers",
		Long: "Stop each container as stop does (-t, else its --stop-timeout, else 10\n" +
			"seconds before SIGKILL), then start it. Prints each container as given.\n" +
			"Goes on past a failure, then exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return forEachContainer(g, st, args, func(s *store.Store, r runtime, ctr *store.Container) error {
				if err := stopWithTimeout(c, s, r, ctr, timeout); err != nil {
					return err
				}
				return startDetached(g, s, ctr.ID)
			})
		},
	}
	c.Flags().IntVarP(&timeout, "time", "t", defaultStopTimeout, "seconds to wait before killing the container (-1: no limit)")
	return c
}

// startDetached starts container id (created or exited) under its lock:
// it waits for its last monitor to end, clears what its last run left
// (exit record, restart file, stop mark, runtime state), starts its
// monitor and records the process (StartedAt, RestartCount 0, as
// Docker's start). A running container is left as it is.
func startDetached(g *globals, s *store.Store, id string) error {
	bins, err := g.companions()
	if err != nil {
		return err
	}
	_, err = s.Update(id, func(c *store.Container) error {
		if c.State.Running {
			return nil
		}
		waitMonitor(c.State.Monitor()) // it may still be deleting the runtime state
		for _, p := range []string{s.ExitPath(id), s.RestartPath(id), s.StopPath(id), s.MonitorPidPath(id)} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("start container %s: %w", id, err)
			}
		}
		if _, err := os.Lstat(filepath.Join(bins.runtime.root, id)); err == nil {
			if err := bins.runtime.run("delete", "--force", id); err != nil {
				return err
			}
		}
		pid, monitor, err := startMonitor(bins, s, c)
		if err != nil {
			return err
		}
		c.RestartCount = 0
		c.State.SetRunning(runningProcess(pid), time.Now())
		c.State.SetMonitor(monitor)
		return nil
	})
	return err
}
