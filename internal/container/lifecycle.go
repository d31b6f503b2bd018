package container

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/hooks"
	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// execFifoName is the fifo in the container's state directory on which a
// created container's init waits for start.
const execFifoName = "exec.fifo"

// Logger is where a command writes: warnings (failed poststart and
// poststop hooks) always, and at level "debug" each step with its time.
type Logger struct {
	W     io.Writer
	Level string
}

func (l Logger) debugLog() debugLog {
	return debugLog{w: l.W, on: l.Level == "debug" && l.W != nil}
}

// Step prints, at level "debug", the time since t0 as the step name's:
// for a front door's own steps around the container's.
func (l Logger) Step(name string, t0 time.Time) { l.debugLog().step(name, t0) }

// Create checks the spec (spec.Check), sets up the container (namespaces,
// cgroup, mounts; the prestart, createRuntime and createContainer hooks)
// and leaves its init waiting for Start; the init outlives this process.
// The state and a copy of the config are saved under the store, locked
// while Create runs (see record for what a killed Create leaves). On
// failure nothing is left: no process, no cgroup, no state directory (and
// the poststop hooks have run, as after a delete).
func Create(store *Store, bundle string, s *specs.Spec, o Options) (err error) {
	defer traceCgroups(o.Explain)()
	h, err := store.Create(o.ID)
	if err != nil {
		return err
	}
	defer h.Close()
	defer func() {
		if err != nil {
			_ = h.Remove()
		}
	}()
	fifo := filepath.Join(h.Dir(), execFifoName)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		return &os.PathError{Op: "mkfifo", Path: fifo, Err: err}
	}
	if s.Linux != nil {
		if err := chownToRoot(fifo, s.Linux); err != nil {
			return err
		}
	}
	o.Detached = true
	o.ExecFifo = fifo
	o.Bundle = bundle
	dl := o.debugLog()
	c, _, err := launch(s, o, dl, &record{h: h, s: s, o: o, dl: dl, status: Created})
	if err != nil {
		return err
	}
	if o.Explain.On() {
		// The init's reports up to its wait on the exec fifo, where it
		// closes its end.
		t0 := time.Now()
		if err := c.conn.WaitClosed(); err != nil {
			warnf(o.Log, "--explain: %v", err)
		}
		o.Explain.Parent(time.Since(t0), "created: the init %d waits on the exec fifo %s for start", c.proc.Pid, fifo)
	}
	c.conn.Close()
	// The init is not ours to wait for: the caller's subreaper (a shim) or
	// init reaps it once this process exits.
	_ = c.proc.Release()
	return nil
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
// is stopped. A container that runs already is refused at once
// (ErrRunning), also when a start killed after it released the init saved
// nothing.
func Start(store *Store, id string, log Logger) error {
	dl := log.debugLog()
	h, st, err := loadFor(store, id, OpStart)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := openFifo(st, dl); err != nil {
		return err
	}
	t0 := time.Now()
	st.Status = next(OpStart)
	if err := h.Save(st); err != nil {
		return err
	}
	dl.step("save-state", t0)
	h.Close()
	poststart(log.W, st)
	return nil
}

// openFifo opens the exec fifo, which releases the init, reads its word
// (initproc's startMsg: "0" when it goes on to exec, "1" and the error of
// a startContainer hook) to the end, and removes the fifo. After a "0"
// the end comes when execve closes the init's end (close-on-exec): the
// user's program runs by the time openFifo returns. Text after the "0" is
// the init's error from between the two. It gives up when the init dies
// first. (The fifo goes only after the end: the init may open it by name
// after start opened it.)
func openFifo(st *State, dl debugLog) error {
	t0 := time.Now()
	fd, err := unix.Open(st.ExecFifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open exec fifo", Path: st.ExecFifo, Err: err}
	}
	defer unix.Close(fd)
	dl.step("release", t0)
	t0 = time.Now()
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
	dl.step("exec", t0)
	return nil
}

// readStartMsg reads the init's word from the exec fifo, to the end: when
// the init closes its end, by execve or exit. The read end is
// non-blocking: a read gives nothing (EOF) before the init opens its end,
// EAGAIN while it is open and silent (its startContainer hooks run, or it
// is on its way to execve). It gives up when the init has died, or has
// gone past start without a word for this reader (a start killed after it
// released the init read it). Once it has the word it only waits for the
// init to close its end.
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
		// Wait for the writer: poll wakes on data or hang-up.
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, _ = unix.Poll(pfd, 100)
		switch {
		case n > 0 && pfd[0].Revents&unix.POLLHUP != 0:
			hup = true
		case n == 0 && len(msg) == 0: // a while without a word: is there still one to come?
			if err := initStillWaits(fd, st); err != nil {
				return nil, err
			}
		}
		// With the word read, the end of file comes when the init closes
		// its end (its execve, or its death): nothing to check meanwhile.
		// (Checking then raced a slow init: its word written, its fds
		// closed, the hang-up not yet seen, it read as released by an
		// earlier start.)
	}
}

// initStillWaits returns an error unless the init may yet write its word
// to the fifo fd, or has just finished with it: it is alive and still
// holds the fifo, or it has just written (data is waiting), or it has just
// closed its end (hang-up: its execve closed it, perhaps after this reader
// took the word; readStartMsg tells the two apart). A reader that has had
// no writer since it opened the fifo gets no hang-up: a start killed after
// it released the init (which then went on to exec) leaves this one
// nothing to wait for.
func initStillWaits(fd int, st *State) error {
	alive, _ := st.initAlive()
	if !alive {
		return fmt.Errorf("start %s: the container's init exited before start", st.ID)
	}
	fi, err := os.Stat(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		return err
	}
	holds, err := st.initHoldsFifo(fi)
	if holds || err != nil { // can't tell: wait on
		return nil
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, _ := unix.Poll(pfd, 0); n > 0 && pfd[0].Revents&(unix.POLLIN|unix.POLLHUP) != 0 {
		return nil
	}
	return fmt.Errorf("start %s: %w (a start before this one released it)", st.ID, ErrRunning)
}

// alive reports whether the container's init is still the process it was.
func alive(st *State) bool {
	t, err := proc.StartTime(st.Pid)
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
// its cgroup. A stopped container has no init to signal (ErrNotRunning),
// but kill --all still signals what the init left in the cgroup, if
// anything: nothing, and no error, once the cgroup is gone.
func Kill(store *Store, id string, sig unix.Signal, all bool) error {
	op := OpKill
	if all {
		op = OpKillAll
	}
	h, st, err := loadFor(store, id, op)
	if err != nil {
		return err
	}
	defer h.Close()
	if !all {
		if st.Pid <= 0 { // never kill(0) nor kill(-1): the caller's group, or everyone
			return fmt.Errorf("kill %s: the container has no init", id)
		}
		if err := unix.Kill(st.Pid, sig); err != nil {
			return fmt.Errorf("kill %s: %w", id, os.NewSyscallError("kill", err))
		}
		if sig == unix.SIGKILL {
			return thawIfPaused(st)
		}
		return nil
	}
	mgr, err := restoreCgroup(st)
	if err != nil || mgr == nil {
		return err
	}
	pids, err := mgr.Pids()
	if st.Status == Stopped && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kill --all %s: %w", id, err)
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
		Unified: st.CgroupUnified, UnifiedMade: st.CgroupUnifiedMade, None: st.CgroupNone}
}

// restoreCgroup returns the Manager of the container's cgroup, or nil if
// none was recorded (a create killed before it planned one).
func restoreCgroup(st *State) (cgroups.Manager, error) {
	if st.CgroupMode == "" {
		return nil, nil
	}
	return cgroups.Restore(savedOf(st))
}

// Delete removes a stopped (or created) container: its cgroup and its
// state; then it runs the poststop hooks (their failures are warnings,
// written to log). A running or paused one is refused unless force, which
// kills it first. A container that a killed create left (creating, or a
// directory without a state) is stopped or dying: it is removed without
// force, as runc removes one.
func Delete(store *Store, id string, force bool, log Logger) error {
	op := OpDelete
	if force {
		op = OpForceDelete
	}
	h, st, err := loadFor(store, id, op)
	if err != nil {
		return err
	}
	defer h.Close()
	dl := log.debugLog()
	if err := destroy(st, dl); err != nil {
		return err
	}
	s, cfgErr := loadHooks(st) // before the copy goes with the directory
	t0 := time.Now()
	if err := h.Remove(); err != nil {
		return err
	}
	dl.step("remove-state", t0)
	if cfgErr != nil {
		warnf(log.W, "poststop hooks: %v", cfgErr)
		return nil
	}
	poststop(log.W, st.ID, st.Bundle, s)
	return nil
}

// destroy ends what is left of a container that goes away: it kills its
// init if that still runs, and removes its cgroup (killing whatever else
// is left in it). What is gone already is passed over, so that a removal
// killed midway can be done again.
func destroy(st *State, dl debugLog) error {
	t0 := time.Now()
	if err := killAndWait(st); err != nil {
		return err
	}
	dl.step("kill", t0)
	t0 = time.Now()
	mgr, err := restoreCgroup(st)
	if err == nil && mgr != nil {
		err = mgr.Destroy()
	}
	if err != nil {
		return err
	}
	dl.step("cgroup-destroy", t0)
	return nil
}

// killAndWait SIGKILLs the init and waits (bounded) until it is gone. The
// init is not our child (its reaper collects it), but its pidfd turns
// readable once it has exited: no polling.
func killAndWait(st *State) error {
	if st.Pid <= 0 {
		return nil
	}
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
// for the container's process in the foreground (Run). A detached run
// that fails to start is deleted (as runc does).
func RunOCI(store *Store, bundle string, s *specs.Spec, o Options, detach bool) (int, error) {
	log := Logger{W: o.Log, Level: o.LogLevel}
	if detach {
		if err := Create(store, bundle, s, o); err != nil {
			return 0, err
		}
		if err := Start(store, o.ID, log); err != nil {
			_ = Delete(store, o.ID, true, log)
			return 0, err
		}
		return 0, nil
	}
	o.Bundle = bundle
	return Run(store, s, o)
}

// Run runs the container in the foreground: it records it in store, checks
// the spec (spec.Check), sets it up, lets its process exec, waits for it
// (forwarding signals), removes it, runs the poststop hooks and returns
// the exit status of its process (0 when it never ran), with an error
// when something failed before or after (an OOM kill). Whatever Run
// made (child, cgroup, state) is undone before it returns; if Run is
// killed, its init dies with it (parent-death signal) and the store's
// record names the rest, for delete or prune.
func Run(store *Store, s *specs.Spec, o Options) (int, error) {
	defer traceCgroups(o.Explain)()
	h, err := store.Create(o.ID)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	code, launched, err := runAttached(store, h, s, o)
	if launched {
		t0 := time.Now()
		poststop(o.Log, o.ID, o.Bundle, s)
		if hooks.Has(s.Hooks, hooks.Poststop) {
			o.Explain.Parent(time.Since(t0), "ran the poststop hooks")
		}
	} else {
		_ = h.Remove()
	}
	return code, err
}

// runAttached is Run once the container's directory h is made and locked.
// It removes the directory once the init was set up and has exited.
// launched reports whether it was (a failed launch has run the poststop
// hooks itself).
func runAttached(store *Store, h *Handle, s *specs.Spec, o Options) (code int, launched bool, err error) {
	dl := o.debugLog()
	sigc := make(chan os.Signal, 32)
	signal.Notify(sigc, proc.ForwardedSignals...)
	defer signal.Stop(sigc)
	// The state says running from the start: no other command sees it
	// before h is unlocked, below, once the init is ready.
	c, mgr, err := launch(s, o, dl, &record{h: h, s: s, o: o, dl: dl, status: Running})
	if err != nil {
		return 0, false, err
	}
	// Let other commands (state, kill) see the container while it runs.
	h.Close()
	pid := c.proc.Pid
	stopForward := forward(sigc, pid)
	code, runErr := c.run(dl, func() {
		t0 := time.Now()
		warnHooks(o.Log, s, hooks.Poststart, hookState(o.ID, o.Bundle, s, pid, specs.StateRunning))
		if hooks.Has(s.Hooks, hooks.Poststart) {
			o.Explain.Parent(time.Since(t0), "ran the poststart hooks (the command runs)")
		}
	})
	stopForward()
	runErr = oomInSetup(s, mgr, runErr)
	// The network (CNI DEL) goes beside the rest of the teardown.
	netGone := make(chan struct{})
	go func() {
		c.net.detach(o.Log, dl)
		close(netGone)
	}()
	// The container has exited: its directory goes to the trash while its
	// cgroup is removed, and is emptied once the cgroup is gone (its state
	// names the cgroup until then). It is locked meanwhile, so that no
	// other command takes the removal over (Store.finishRemovals). A
	// delete may have removed it already.
	retired := make(chan *Handle, 1)
	go func() {
		h, err := store.Open(o.ID)
		if err == nil {
			if err := h.Retire(); err != nil {
				h.Close()
				h = nil
			}
		} else {
			h = nil
		}
		retired <- h
	}()
	if runErr == nil {
		explainExit(o.Explain, c.status, mgr)
	}
	err = finish(s, mgr, code, runErr, dl, o.Explain)
	t0 := time.Now()
	after := make(chan struct{})
	go func() {
		if o.AfterExit != nil {
			o.AfterExit()
		}
		close(after)
	}()
	if h := <-retired; h != nil {
		if err := h.Remove(); err == nil {
			o.Explain.Parent(time.Since(t0), "removed the container's state directory %s", h.Dir())
		}
		h.Close()
	}
	dl.step("remove-state", t0)
	<-after
	<-netGone
	return code, true, err
}

// Prune removes the containers in store that are stopped, unless their
// owner (a foreground run) still runs and will remove them itself: what is
// left of each (processes, cgroup) and its state, as Delete does without
// the poststop hooks. It returns the IDs removed, and the errors of those
// it could not remove.
func Prune(store *Store, log Logger) ([]string, error) {
	ids, err := store.List()
	if err != nil {
		return nil, err
	}
	dl := log.debugLog()
	var removed []string
	var errs []error
	for _, id := range ids {
		h, st, err := load(store, id)
		if errors.Is(err, ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if allow(OpPrune, id, st.Status) == nil && !st.ownerAlive() {
			err = destroy(st, dl)
			if err == nil {
				err = h.Remove()
			}
			if err == nil {
				removed = append(removed, id)
			}
		}
		h.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("prune %s: %w", id, err))
		}
	}
	return removed, errors.Join(errs...)
}
