package container

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/initproc"
)

// execFifoName is the fifo in the container's state directory on which a
// created container's init waits for start.
const execFifoName = "exec.fifo"

// Create sets up the container (namespaces, cgroup, mounts) and leaves its
// init waiting for Start; the init outlives this process. The state is
// saved under the store, locked while Create runs. On failure nothing is
// left: no process, no cgroup, no state directory.
func Create(store *Store, bundle string, s *specs.Spec, o Options) (err error) {
	h, err := store.Create(o.ID)
	if err != nil {
		return exitErr(ExitRuntime, err)
	}
	defer h.Close()
	defer func() {
		if err != nil {
			_ = h.Remove()
		}
	}()
	fifo := filepath.Join(h.Dir(), execFifoName)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		return exitErr(ExitRuntime, &os.PathError{Op: "mkfifo", Path: fifo, Err: err})
	}
	o.Detached = true
	o.ExecFifo = fifo
	dl := debugLog{w: o.Log, on: o.LogLevel == "debug" && o.Log != nil}
	c, mgr, err := launch(s, o, dl)
	if err != nil {
		return err
	}
	c.conn.Close()
	pid := c.cmd.Process.Pid
	st, err := newState(o.ID, bundle, s, pid, fifo, mgr)
	if err == nil {
		err = h.Save(st)
	}
	if err != nil {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
		_ = mgr.Destroy()
		return exitErr(ExitRuntime, err)
	}
	// The init is not ours to wait for: the caller's subreaper (a shim) or
	// init reaps it once this process exits.
	_ = c.cmd.Process.Release()
	return nil
}

func newState(id, bundle string, s *specs.Spec, pid int, fifo string, mgr cgroups.Manager) (*State, error) {
	start, err := ProcessStartTime(pid)
	if err != nil {
		return nil, err
	}
	saved := cgroups.Save(mgr)
	return &State{
		OCIVersion:   specs.Version,
		ID:           id,
		Status:       Created,
		Pid:          pid,
		PidStartTime: start,
		Bundle:       bundle,
		Rootfs:       s.Root.Path,
		Annotations:  s.Annotations,
		Created:      time.Now().UTC(),
		ExecFifo:     fifo,
		CgroupMode:   saved.Mode,
		CgroupPaths:  saved.Paths,
		CgroupMade:   saved.Made,
	}, nil
}

// load opens the container's locked state and refreshes its status.
func load(store *Store, id string) (*Handle, *State, error) {
	h, err := store.Open(id)
	if err != nil {
		return nil, nil, err
	}
	st, err := h.Load()
	if err == nil {
		err = st.Refresh()
	}
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	return h, st, nil
}

// Start lets a created container's init exec the user's program.
func Start(store *Store, id string) error {
	h, st, err := load(store, id)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := CheckTransition(id, st.Status, Running); err != nil {
		return err
	}
	if err := openFifo(st); err != nil {
		return err
	}
	st.Status = Running
	return h.Save(st)
}

// openFifo reads the init's byte from the exec fifo, which releases it to
// exec, and removes the fifo. It gives up when the init dies first.
func openFifo(st *State) error {
	fd, err := unix.Open(st.ExecFifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open exec fifo", Path: st.ExecFifo, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 1)
	for {
		n, err := unix.Read(fd, buf)
		if n == 1 {
			break
		}
		if err != nil && err != unix.EAGAIN && err != unix.EINTR {
			return &os.PathError{Op: "read exec fifo", Path: st.ExecFifo, Err: err}
		}
		if !alive(st) {
			return fmt.Errorf("start %s: the container's init exited before start", st.ID)
		}
		// Wait for the writer: poll wakes on data or hang-up.
		_, _ = unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 100)
	}
	if err := os.Remove(st.ExecFifo); err != nil {
		return err
	}
	return nil
}

// alive reports whether the container's init is still the process it was.
func alive(st *State) bool {
	t, err := ProcessStartTime(st.Pid)
	return err == nil && t == st.PidStartTime
}

// StateOf returns the container's refreshed state.
func StateOf(store *Store, id string) (*State, error) {
	h, st, err := load(store, id)
	if err != nil {
		return nil, err
	}
	h.Close()
	return st, nil
}

// Kill sends sig to the container's init, or with all to every process in
// its cgroup.
func Kill(store *Store, id string, sig unix.Signal, all bool) error {
	h, st, err := load(store, id)
	if err != nil {
		return err
	}
	defer h.Close()
	if st.Status == Stopped {
		return fmt.Errorf("kill %s: %w", id, ErrNotRunning)
	}
	if !all {
		if err := unix.Kill(st.Pid, sig); err != nil {
			return fmt.Errorf("kill %s: %w", id, os.NewSyscallError("kill", err))
		}
		if sig == unix.SIGKILL {
			return thawIfPaused(st)
		}
		return nil
	}
	mgr, err := cgroups.Restore(savedOf(st))
	if err != nil {
		return err
	}
	pids, err := mgr.Pids()
	if err != nil {
		return err
	}
	for _, p := range pids {
		_ = unix.Kill(p, sig)
	}
	if sig == unix.SIGKILL {
		return thawIfPaused(st)
	}
	return nil
}

// thawIfPaused thaws a paused container: a frozen process acts on SIGKILL
// only once thawed (cgroup v1), as runc does after a kill.
func thawIfPaused(st *State) error {
	if st.Status != Paused {
		return nil
	}
	mgr, err := cgroups.Restore(savedOf(st))
	if err == nil {
		err = mgr.Thaw()
	}
	if err != nil {
		return fmt.Errorf("thaw %s after SIGKILL: %w", st.ID, err)
	}
	return nil
}

func savedOf(st *State) cgroups.Saved {
	return cgroups.Saved{Mode: st.CgroupMode, Paths: st.CgroupPaths, Made: st.CgroupMade}
}

// Delete removes a stopped (or created) container: its cgroup and its
// state. A running or paused one is refused unless force, which kills it
// first.
func Delete(store *Store, id string, force bool) error {
	h, st, err := load(store, id)
	if err != nil {
		return err
	}
	defer h.Close()
	switch st.Status {
	case Running, Paused:
		if !force {
			return fmt.Errorf("delete %s: %w: use --force to kill it first", id, ErrRunning)
		}
		fallthrough
	case Created, Creating:
		if err := killAndWait(st); err != nil {
			return err
		}
	}
	mgr, err := cgroups.Restore(savedOf(st))
	if err != nil {
		return err
	}
	if err := mgr.Destroy(); err != nil {
		return err
	}
	return h.Remove()
}

// killAndWait SIGKILLs the init and waits (bounded) until it is gone. The
// init is not our child: its reaper collects it.
func killAndWait(st *State) error {
	if !alive(st) {
		return nil
	}
	if err := unix.Kill(st.Pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill %s: %w", st.ID, os.NewSyscallError("kill", err))
	}
	if err := thawIfPaused(st); err != nil {
		return err
	}
	for i := 0; i < 500 && alive(st); i++ {
		if z, _ := isZombie(st.Pid); z {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	if alive(st) {
		if z, _ := isZombie(st.Pid); !z {
			return fmt.Errorf("delete %s: init %d did not die after SIGKILL", st.ID, st.Pid)
		}
	}
	return nil
}

// isZombie reports whether pid has exited but not been reaped.
func isZombie(pid int) (bool, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false, err
	}
	i := lastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z', nil
}

func lastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// RunOCI is the OCI `run`: create and start, then, unless detached, wait
// for the container's process in the foreground (forwarding signals),
// remove the container and return its exit status.
func RunOCI(store *Store, bundle string, s *specs.Spec, o Options, detach bool) (int, error) {
	if detach {
		if err := Create(store, bundle, s, o); err != nil {
			return 0, err
		}
		return 0, Start(store, o.ID)
	}
	h, err := store.Create(o.ID)
	if err != nil {
		return 0, exitErr(ExitRuntime, err)
	}
	defer h.Remove()
	defer h.Close()
	dl := debugLog{w: o.Log, on: o.LogLevel == "debug" && o.Log != nil}
	sigc := make(chan os.Signal, 32)
	signal.Notify(sigc, initproc.ForwardedSignals...)
	defer signal.Stop(sigc)
	c, mgr, err := launch(s, o, dl)
	if err != nil {
		return 0, err
	}
	st, err := newState(o.ID, bundle, s, c.cmd.Process.Pid, "", mgr)
	if err == nil {
		st.Status = Running
		err = h.Save(st)
	}
	if err != nil {
		code, err := c.fail(err)
		return finish(s, mgr, code, err, dl)
	}
	// Let other commands (state, kill) see the container while it runs.
	h.Close()
	stopForward := forward(sigc, c.cmd.Process.Pid)
	code, runErr := c.run(dl)
	stopForward()
	return finish(s, mgr, code, runErr, dl)
}
