package docker

// What the verbs of detached containers (stop, kill, rm, inspect) share:
// the OCI runtime they drive, the waits on a container's processes, and
// the removal of what a container has.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/network"
	"github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/sealed"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// runtimeDir is the directory under --root where minimal-runc keeps the
// runtime state of the detached containers (its --root).
const runtimeDir = "runtime"

// runtime is minimal-runc (beside minimal-docker) with its state under
// --root/runtime.
type runtime struct {
	path, root string
	// log prints the verbs' steps at --log-level debug (stop's and rm's;
	// set by forEachContainer).
	log container.Logger
}

func (g *globals) runtime() (runtime, error) {
	p, err := sealed.Beside(sealed.RuncName)
	if err != nil {
		return runtime{}, err
	}
	return runtime{path: p, root: filepath.Join(g.imageRoot, runtimeDir)}, nil
}

// globalArgs are the runtime's flags before its verb.
func (r runtime) globalArgs() []string { return []string{"--root", r.root} }

// run runs the runtime's verb with args; its error output is the error.
func (r runtime) run(args ...string) error {
	cmd := exec.Command(r.path, append(r.globalArgs(), args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s %s: %s", sealed.RuncName, strings.Join(args, " "), msg)
	}
	return nil
}

// stopWait bounds the wait for a container to end after SIGKILL, and for
// its monitor to end after it (it writes the exit record and deletes the
// runtime state): a process that outlives SIGKILL this long is stuck in
// the kernel.
const stopWait = 30 * time.Second

// waitStopped waits up to d (a negative d: without a limit) for container
// id to be no longer running (its record checked against the kernel: its
// process gone and its exit recorded) and reports whether it is.
func waitStopped(s *store.Store, id string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		c, err := s.Get(id)
		if err != nil || !c.State.Running {
			return true
		}
		if d >= 0 && !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ended reports whether container id no longer runs: its record says
// so, or the kernel says its process has exited and its monitor has yet
// to record the exit (store.Exited), or it is gone. A runtime verb that
// failed because the container ended after the caller's check had
// nothing left to do: Docker's stop and kill take such a container for
// stopped, not for an error.
func ended(s *store.Store, id string) bool {
	c, err := s.Get(id)
	if err != nil {
		return errors.Is(err, store.ErrNotFound)
	}
	return !c.State.Running || s.Exited(c)
}

// signal sends sig to container c's init through the runtime. A container
// that ended meanwhile is not an error (ended); nor is one that its
// restart policy is restarting when it is marked stopped (markStopped):
// its monitor gives up on it.
func (r runtime) signal(s *store.Store, c *store.Container, sig unix.Signal) error {
	err := r.run("kill", c.ID, fmt.Sprint(int(sig)))
	if err == nil || ended(s, c.ID) {
		return nil
	}
	if _, serr := os.Stat(s.StopPath(c.ID)); serr == nil && waitStopped(s, c.ID, stopWait) {
		return nil
	}
	return err
}

// markStopped writes c's stop mark, before stop, kill or rm -f signals it:
// its monitor then does not apply the restart policy (Docker's "manually
// stopped"); start removes it. Without a policy there is nothing to mark.
func markStopped(s *store.Store, c *store.Container) error {
	if !restarts(c) {
		return nil
	}
	if err := os.WriteFile(s.StopPath(c.ID), nil, 0o600); err != nil {
		return fmt.Errorf("container %s: stop mark: %w", c.ID, err)
	}
	return nil
}

// stopContainer stops c as docker stop does: sig, then SIGKILL after
// timeout; it returns once the container's exit is recorded. Its restart
// policy does not restart it (markStopped).
func stopContainer(s *store.Store, r runtime, c *store.Container, sig unix.Signal, timeout time.Duration) error {
	if !c.State.Running {
		return nil
	}
	if err := markStopped(s, c); err != nil {
		return err
	}
	t0 := time.Now()
	if sig != unix.SIGKILL {
		if err := r.signal(s, c, sig); err != nil {
			return err
		}
		if err := thawForStop(s, r, c); err != nil {
			return err
		}
		r.log.Step("stop-signal", t0)
		t0 = time.Now()
		stopped := waitStopped(s, c.ID, timeout)
		r.log.Step("stop-wait", t0)
		if stopped {
			return r.persist(s, c.ID)
		}
		t0 = time.Now()
	}
	if err := r.signal(s, c, unix.SIGKILL); err != nil {
		return err
	}
	r.log.Step("kill", t0)
	t0 = time.Now()
	if !waitStopped(s, c.ID, stopWait) {
		return fmt.Errorf("container %s: still running %v after SIGKILL", c.ID, stopWait)
	}
	r.log.Step("kill-wait", t0)
	return r.persist(s, c.ID)
}

// persist is persist with its step line (stop's last).
func (r runtime) persist(s *store.Store, id string) error {
	t0 := time.Now()
	err := persist(s, id)
	r.log.Step("record-stopped", t0)
	return err
}

// persist writes back a record that its check against the kernel changed
// (Update settles it under the container's lock).
func persist(s *store.Store, id string) error {
	_, err := s.Update(id, func(*store.Container) error { return nil })
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// stopSignal is the signal stop sends first: the container's
// (--stop-signal, else its image's), else SIGTERM.
func stopSignal(c *store.Container) (unix.Signal, error) {
	if c.Config.StopSignal == "" {
		return unix.SIGTERM, nil
	}
	return cli.ParseSignal(c.Config.StopSignal)
}

// destroy undoes what container c has, for rm (store.Remove's destroy,
// under its lock): its process (killed when running: the caller checked
// -f), its monitor (waited for: it writes the exit record and deletes the
// runtime state), the runtime state, and an image container's writable
// layer. The record's directory (bundle, log, exit record) goes with the
// record.
func destroy(g *globals, s *store.Store, r runtime, c *store.Container) error {
	t0 := time.Now()
	if c.State.Running {
		if err := markStopped(s, c); err != nil {
			return err
		}
		if err := r.signal(s, c, unix.SIGKILL); err != nil {
			return err
		}
		if !waitStopped(s, c.ID, stopWait) {
			return fmt.Errorf("container %s: still running %v after SIGKILL", c.ID, stopWait)
		}
		r.log.Step("kill", t0)
		t0 = time.Now()
	}
	waitMonitor(c.State.Monitor())
	r.log.Step("monitor-wait", t0)
	t0 = time.Now()
	if err := r.run("delete", "--force", c.ID); err != nil {
		return err
	}
	r.log.Step("runtime-delete", t0)
	t0 = time.Now()
	if err := releaseNetwork(g, c); err != nil {
		return err
	}
	if err := stopUserMode(c); err != nil {
		return err
	}
	if err := removeRunDir(g.imageRoot, c.ID); err != nil {
		return err
	}
	r.log.Step("writable-remove", t0)
	g.freeUserns(c.ID, r.log)
	return nil
}

// releaseNetwork detaches container c from its networks if its poststop
// hook did not (a monitor killed): CNI DEL, the namespace unpinned.
func releaseNetwork(g *globals, c *store.Container) error {
	nets := g.networks()
	var errs []error
	for _, ep := range endpointsOf(c) {
		n, err := nets.Get(ep.Network)
		if errors.Is(err, network.ErrNotFound) {
			continue // network rm refuses a network in use: never attached
		}
		if err == nil {
			err = nets.Release(n.Name, c.ID)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// waitMonitor waits (stopWait) for a container's monitor to end once its
// container has, and kills it if it does not (a runtime delete that
// hangs): rm leaves no process behind.
func waitMonitor(m store.Process) {
	if m.Pid <= 0 {
		return
	}
	deadline := time.Now().Add(stopWait)
	for time.Now().Before(deadline) {
		if alive, err := proc.Alive(m.Pid, m.StartTime); err != nil || !alive {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	if alive, err := proc.Alive(m.Pid, m.StartTime); err == nil && alive {
		_ = unix.Kill(m.Pid, unix.SIGKILL)
	}
}

// removeRunDir removes container id's writable layer (writable/ID and its
// lock), if it has one.
func removeRunDir(root, id string) error {
	dir := filepath.Join(root, runDirs, id)
	if _, err := os.Lstat(dir + ".lock"); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	lock, err := lockRunDir(dir)
	if err != nil {
		return fmt.Errorf("remove the container's writable layer: %w", err)
	}
	d := &runDir{dir: dir, lock: lock}
	d.removeDir()
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the container's writable layer %s: %v", dir, err)
	}
	return nil
}

// daemonError is the text the Docker CLI prints for a failure of one
// container among several: "Error response from daemon: ...".
func daemonError(st Streams, err error) {
	fmt.Fprintf(st.Err, "Error response from daemon: %v\n", err)
}
