package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/initproc"
)

// execFifoName is the fifo in the container's state directory on which a
// created container's init waits for start.
const execFifoName = "exec.fifo"

// Create sets up the container (namespaces, cgroup, mounts; the prestart,
// createRuntime and createContainer hooks) and leaves its init waiting for
// Start; the init outlives this process. The state and a copy of the
// config are saved under the store, locked while Create runs. On failure
// nothing is left: no process, no cgroup, no state directory (and the
// poststop hooks have run, as after a delete).
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
	o.Bundle = bundle
	dl := o.debugLog()
	c, _, err := launch(s, o, dl, func(pid int, mgr cgroups.Manager) error {
		_, err := saveState(h, s, o, dl, Created, pid, mgr)
		return err
	})
	if err != nil {
		return err
	}
	c.conn.Close()
	// The init is not ours to wait for: the caller's subreaper (a shim) or
	// init reaps it once this process exits.
	_ = c.cmd.Process.Release()
	return nil
}

// saveState saves the container's config and its state (with status and
// the init's pid) under h; launch calls it while the init sets itself up.
func saveState(h *Handle, s *specs.Spec, o Options, dl debugLog, status Status, pid int, mgr cgroups.Manager) (*State, error) {
	t0 := time.Now()
	cfgPath, err := saveConfig(h, s)
	if err != nil {
		return nil, err
	}
	st, err := newState(o.ID, o.Bundle, s, pid, o.ExecFifo, mgr)
	if err != nil {
		return nil, err
	}
	st.Status = status
	st.Config = cfgPath
	if err := h.Save(st); err != nil {
		return nil, err
	}
	dl.step("save-state", t0)
	return st, nil
}

func newState(id, bundle string, s *specs.Spec, pid int, fifo string, mgr cgroups.Manager) (*State, error) {
	start, err := ProcessStartTime(pid)
	if err != nil {
		return nil, err
	}
	saved := cgroups.Save(mgr)
	return &State{
		OCIVersion:        specs.Version,
		ID:                id,
		Status:            Created,
		Pid:               pid,
		PidStartTime:      start,
		Bundle:            bundle,
		Rootfs:            s.Root.Path,
		Annotations:       s.Annotations,
		Created:           time.Now().UTC(),
		ExecFifo:          fifo,
		CgroupMode:        saved.Mode,
		CgroupPaths:       saved.Paths,
		CgroupMade:        saved.Made,
		CgroupUnified:     saved.Unified,
		CgroupUnifiedMade: saved.UnifiedMade,
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

// Start lets a created container's init run the startContainer hooks and
// exec the user's program, waits until it has, then runs the poststart
// hooks (unlocked; their failures are warnings, written to log). A failed
// startContainer hook fails the start; the init exits, and the container
// is stopped.
func Start(store *Store, id string, log io.Writer) error {
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
	if err := h.Save(st); err != nil {
		return err
	}
	h.Close()
	poststart(log, st)
	return nil
}

// openFifo opens the exec fifo, which releases the init, reads its word
// (initproc's startMsg: "0" when it goes on to exec, "1" and the error of
// a startContainer hook) to the end, and removes the fifo. After a "0"
// the end comes when execve closes the init's end (close-on-exec): the
// user's program runs by the time openFifo returns. Text after the "0" is
// the init's error from between the two. It gives up when the init dies
// first.
func openFifo(st *State) error {
	fd, err := unix.Open(st.ExecFifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open exec fifo", Path: st.ExecFifo, Err: err}
	}
	defer unix.Close(fd)
	msg, err := readStartMsg(fd, st)
	if err != nil {
		return err
	}
	if msg[0] != '0' || len(msg) > 1 {
		return fmt.Errorf("start %s: %s", st.ID, strings.TrimSpace(string(msg[1:])))
	}
	if err := os.Remove(st.ExecFifo); err != nil {
		return err
	}
	return nil
}

// readStartMsg reads the init's word from the exec fifo, to the end: when
// the init closes its end, by execve or exit. The read end is
// non-blocking: a read gives nothing (EOF) before the init opens its end,
// EAGAIN while it is open and silent (its startContainer hooks run, or it
// is on its way to execve).
func readStartMsg(fd int, st *State) ([]byte, error) {
	buf := make([]byte, 4096)
	var msg []byte
	hup := false // the writer came and went
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case n > 0:
			msg = append(msg, buf[:n]...)
			continue
		case n == 0 && err == nil && len(msg) > 0:
			return msg, nil
		case n == 0 && err == nil && hup:
			return nil, fmt.Errorf("start %s: the container's init closed the exec fifo without a word", st.ID)
		case err != nil && err != unix.EAGAIN && err != unix.EINTR:
			return nil, &os.PathError{Op: "read exec fifo", Path: st.ExecFifo, Err: err}
		}
		if live, _ := st.initAlive(); !live {
			return nil, fmt.Errorf("start %s: the container's init exited before start", st.ID)
		}
		// Wait for the writer: poll wakes on data or hang-up.
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(pfd, 100); n > 0 && pfd[0].Revents&unix.POLLHUP != 0 {
			hup = true
		}
	}
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
	return cgroups.Saved{Mode: st.CgroupMode, Paths: st.CgroupPaths, Made: st.CgroupMade,
		Unified: st.CgroupUnified, UnifiedMade: st.CgroupUnifiedMade}
}

// Delete removes a stopped (or created) container: its cgroup and its
// state; then it runs the poststop hooks (their failures are warnings,
// written to log). A running or paused one is refused unless force, which
// kills it first.
func Delete(store *Store, id string, force bool, log io.Writer) error {
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
	s, cfgErr := loadHooks(st) // before the copy goes with the directory
	if err := h.Remove(); err != nil {
		return err
	}
	if cfgErr != nil {
		warnf(log, "poststop hooks: %v", cfgErr)
		return nil
	}
	poststop(log, st.ID, st.Bundle, s)
	return nil
}

// killAndWait SIGKILLs the init and waits (bounded) until it is gone. The
// init is not our child (its reaper collects it), but its pidfd turns
// readable once it has exited: no polling.
func killAndWait(st *State) error {
	pidfd, err := unix.PidfdOpen(st.Pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kill %s: %w", st.ID, os.NewSyscallError("pidfd_open", err))
	}
	defer unix.Close(pidfd)
	// The pidfd holds whatever process has the pid now: the init only if
	// it still has the init's start time (a zombie does).
	if !alive(st) {
		return nil
	}
	if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill %s: %w", st.ID, os.NewSyscallError("pidfd_send_signal", err))
	}
	if err := thawIfPaused(st); err != nil {
		return err
	}
	const bound = 5 * time.Second
	deadline := time.Now().Add(bound)
	for {
		left := time.Until(deadline)
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}, int(max(left.Milliseconds(), 0)))
		switch {
		case err == unix.EINTR && left > 0:
			continue
		case err != nil:
			return fmt.Errorf("delete %s: wait for init %d: %w", st.ID, st.Pid, os.NewSyscallError("poll", err))
		case n == 0:
			return fmt.Errorf("delete %s: init %d did not die within %v of SIGKILL", st.ID, st.Pid, bound)
		}
		return nil
	}
}

// RunOCI is the OCI `run`: create and start, then, unless detached, wait
// for the container's process in the foreground (forwarding signals),
// remove the container, run the poststop hooks and return its exit
// status. A detached run that fails to start is deleted (as runc does).
func RunOCI(store *Store, bundle string, s *specs.Spec, o Options, detach bool) (int, error) {
	if detach {
		if err := Create(store, bundle, s, o); err != nil {
			return 0, err
		}
		if err := Start(store, o.ID, o.Log); err != nil {
			_ = Delete(store, o.ID, true, o.Log)
			return 0, err
		}
		return 0, nil
	}
	h, err := store.Create(o.ID)
	if err != nil {
		return 0, exitErr(ExitRuntime, err)
	}
	defer h.Close()
	o.Bundle = bundle
	code, launched, err := runAttached(h, s, o)
	if launched {
		poststop(o.Log, o.ID, bundle, s)
	} else {
		_ = h.Remove()
	}
	return code, err
}

// runAttached is RunOCI in the foreground, in the container's locked
// directory h, which it removes once the init was set up. launched reports
// whether it was (a failed launch has run the poststop hooks itself).
func runAttached(h *Handle, s *specs.Spec, o Options) (code int, launched bool, err error) {
	dl := o.debugLog()
	sigc := make(chan os.Signal, 32)
	signal.Notify(sigc, initproc.ForwardedSignals...)
	defer signal.Stop(sigc)
	// The state says running from the start: no other command sees it
	// before h is unlocked, below, once the init is ready.
	var st *State
	c, mgr, err := launch(s, o, dl, func(pid int, mgr cgroups.Manager) (err error) {
		st, err = saveState(h, s, o, dl, Running, pid, mgr)
		return err
	})
	if err != nil {
		return 0, false, err
	}
	// Let other commands (state, kill) see the container while it runs.
	h.Close()
	stopForward := forward(sigc, c.cmd.Process.Pid)
	code, runErr := c.run(dl, func() { poststart(o.Log, st) })
	stopForward()
	// The container has exited: its state directory goes while its
	// cgroup is removed.
	removed := make(chan struct{})
	go func() {
		defer close(removed)
		_ = h.Remove()
	}()
	code, err = finish(s, mgr, code, runErr, dl)
	<-removed
	return code, true, err
}
