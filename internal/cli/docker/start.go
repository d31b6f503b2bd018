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

	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/exitcode"
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
			if err := f.given(c); err != nil {
				return err
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
	var f startFlags
	c := &cobra.Command{
		Use:   "start [-a] [-i] [--detach-keys KEYS] CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Long: "Start each created or exited container: its monitor runs it again on its\n" +
			"bundle (an image container keeps its writable layer), with its restart\n" +
			"policy, its RestartCount back to 0. A running container is left as it is.\n" +
			"Prints each container as given. Goes on past a failure, then exits 1.\n" +
			"With -a (one container), this terminal is attached before the container\n" +
			"starts (its output from its first byte; with -i this terminal's input, as\n" +
			"attach's) and start exits with the container's exit code.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if f.attach || f.interactive {
				if len(args) > 1 {
					return dockerError(errors.New("you cannot start and attach multiple containers at once"))
				}
				return startAttached(g, st, f, args[0])
			}
			return forEachContainer(g, st, args, func(s *store.Store, _ runtime, ctr *store.Container) error {
				return startDetached(g, s, ctr.ID, false, g.logger(st.Err))
			})
		},
	}
	fl := c.Flags()
	fl.BoolVarP(&f.attach, "attach", "a", false, "attach STDOUT/STDERR and forward signals")
	fl.BoolVarP(&f.interactive, "interactive", "i", false, "attach container's STDIN")
	fl.StringVar(&f.detachKeys, "detach-keys", "", "override the key sequence for detaching a container (as attach's)")
	return c
}

type startFlags struct {
	attach, interactive bool
	detachKeys          string
}

// startAttached is start -a [-i]: the container's monitor is started with
// the container created but not started, this terminal attached to it,
// and only then the container started, so that none of its output is
// missed; start then returns as attach does (the container's exit code).
// A running container is attached to.
func startAttached(g *globals, st Streams, f startFlags, ref string) error {
	keys, ctrs, c, err := attachTarget(g, f.detachKeys, ref)
	if err != nil {
		return err
	}
	if err := ttyCheck(st, c, f.interactive); err != nil {
		return err
	}
	bins, err := g.companions()
	if err != nil {
		return dockerError(err)
	}
	created := !c.State.Running
	if created {
		if err := startDetached(g, ctrs, c.ID, true, g.logger(st.Err)); err != nil {
			return dockerError(err)
		}
		if c, err = ctrs.Get(c.ID); err != nil {
			return dockerError(err)
		}
	}
	started := !created
	code, err := attachStreams(g, st, ctrs, c, attachOptions{
		stdin:      f.interactive && c.Config.OpenStdin,
		sigProxy:   !c.Config.Tty,
		detachKeys: keys,
		connected: func() error {
			if started {
				return nil
			}
			started = true
			return bins.runtime.run("start", c.ID)
		},
	})
	if !started { // never attached: the created container is not left waiting
		_ = bins.runtime.run("delete", "--force", c.ID)
	}
	return attachExit(st, code, err)
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
				return startDetached(g, s, ctr.ID, false, g.logger(st.Err))
			})
		},
	}
	c.Flags().IntVarP(&timeout, "time", "t", defaultStopTimeout, "seconds to wait before killing the container (-1: no limit)")
	return c
}

// startDetached starts container id (created or exited) under its lock:
// it waits for its last monitor to end, clears what its last run left
// (exit record, restart file, stop mark, pid files, runtime state),
// records the start in flight (State.Starting: a start killed from here on
// reads as the kernel says, see store.Store.started), starts its monitor
// and records the process (StartedAt, RestartCount 0, as Docker's start).
// A running container is left as it is. With noStart the container is
// created and waits for minimal-runc start (start -a). Its steps are
// logged at --log-level debug (monitor, record-running).
func startDetached(g *globals, s *store.Store, id string, noStart bool, log container.Logger) error {
	bins, err := g.companions()
	if err != nil {
		return err
	}
	var recorded time.Time // the process's record begins
	_, err = s.Update(id, func(c *store.Container) error {
		if c.State.Running {
			return nil
		}
		waitMonitor(c.State.Monitor()) // it may still be deleting the runtime state
		for _, p := range []string{s.ExitPath(id), s.RestartPath(id), s.StopPath(id), s.MonitorPidPath(id), s.PidPath(id)} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("start container %s: %w", id, err)
			}
		}
		if _, err := os.Lstat(filepath.Join(bins.runtime.root, id)); err == nil {
			if err := bins.runtime.run("delete", "--force", id); err != nil {
				return err
			}
		}
		if err := rejoinContainerNetwork(g, s, c); err != nil {
			return err
		}
		c.State.Starting = true
		if err := s.Save(c); err != nil {
			return err
		}
		t0 := time.Now()
		pid, monitor, err := startMonitor(bins, s, c, noStart)
		if err != nil {
			c.State.Starting = false
			if serr := s.Save(c); serr != nil {
				return errors.Join(err, serr)
			}
			return err
		}
		log.Step("monitor", t0)
		recorded = time.Now()
		c.RestartCount = 0
		c.State.SetRunning(runningProcess(pid), recorded)
		c.State.SetMonitor(monitor)
		return nil
	})
	if err == nil && !recorded.IsZero() {
		log.Step("record-running", recorded)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		recordStartError(s, id, err)
	}
	return err
}

// recordStartError keeps a failed start's error in the container's
// State.Error, and its exit code (127 or 126 for a command not found or
// not executable, else 128) in State.ExitCode, as Docker's start does;
// the next start that succeeds clears both (SetRunning). Best effort: the
// start's error is what the user is told.
func recordStartError(s *store.Store, id string, startErr error) {
	code := exitcode.Of(startErr)
	if code == exitcode.Runtime {
		code = 128 // Docker's exitUnknown for a start that failed
	}
	_, _ = s.Update(id, func(c *store.Container) error {
		if c.State.Running {
			return nil
		}
		c.State.Error, c.State.ExitCode = startErr.Error(), code
		return nil
	})
}
