package container

import (
	"errors"
	"fmt"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// initDeathWait bounds the wait for an init whose end of the handshake is
// gone: it closes with the process's exit, so the wait is short unless the
// init closed it and lives on (a bug), which is then killed.
const initDeathWait = 5 * time.Second

// InitDiedError is the error of a setup that failed because the
// container's init died: the handshake broke (the kernel's "connection
// reset by peer" or "broken pipe", or an EOF) instead of bringing a step's
// error. It says how the init ended.
type InitDiedError struct {
	Status unix.WaitStatus
	// OOMLimit, when set, is the memory limit under which the kernel
	// OOM-killed a process of the container's cgroup during the setup.
	OOMLimit string
	// Err is the handshake's error.
	Err error
}

func (e *InitDiedError) Error() string {
	if e.OOMLimit != "" {
		return fmt.Sprintf("the container's init was killed during setup: out of memory (memory limit %s, too small for the runtime's setup of the container)", e.OOMLimit)
	}
	return "the container's init died during setup: " + waitStatusText(e.Status)
}

func (e *InitDiedError) Unwrap() error { return e.Err }

// waitStatusText says how a process ended: "killed by signal 9 (SIGKILL)",
// "exited with status 2".
func waitStatusText(ws unix.WaitStatus) string {
	switch {
	case ws.Signaled():
		s := fmt.Sprintf("killed by signal %d (%s)", int(ws.Signal()), unix.SignalName(ws.Signal()))
		if ws.CoreDump() {
			s += ", core dumped"
		}
		return s
	case ws.Exited():
		return fmt.Sprintf("exited with status %d", ws.ExitStatus())
	}
	return fmt.Sprintf("ended with wait status %#x", uint32(ws))
}

// explainDeath turns err, when it says that the handshake broke, into an
// *InitDiedError: it waits (at most initDeathWait) for the init to end
// and reaps it. Any other error, or an init that does not end, is
// returned as it is (and fail kills the init).
func (c *child) explainDeath(err error) error {
	if !handshake.Broken(err) {
		return err
	}
	if !c.exitedWithin(initDeathWait) {
		return err
	}
	ws, werr := c.wait()
	if werr != nil {
		return errors.Join(err, werr)
	}
	return &InitDiedError{Status: ws, Err: err}
}

// exitedWithin waits until the init has exited, without reaping it, for
// at most d.
func (c *child) exitedWithin(d time.Duration) bool {
	pid := c.proc.Pid
	deadline := time.Now().Add(d)
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return false
		case info.Signo == int32(unix.SIGCHLD):
			return true // waitid fills in the child's pid and SIGCHLD once it has exited
		case time.Now().After(deadline):
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// oomInSetup adds to an *InitDiedError in err that the kernel OOM-killed a
// process of the container's cgroup: the memory limit was too small for
// the setup. Call it before the cgroup is destroyed.
func oomInSetup(s *specs.Spec, mgr cgroups.Manager, err error) error {
	var died *InitDiedError
	if mgr == nil || !errors.As(err, &died) {
		return err
	}
	if n, cerr := mgr.OOMKillCount(); cerr != nil || n == 0 {
		return err
	}
	died.OOMLimit = "none"
	if r := s.Linux.Resources; r != nil && r.Memory != nil && r.Memory.Limit != nil {
		died.OOMLimit = formatLimit(*r.Memory.Limit)
	}
	return err
}

// formatLimit renders a memory limit in bytes: MiB (spec.FormatMiB) from
// 1 MiB, KiB below.
func formatLimit(b int64) string {
	if b >= 1<<20 {
		return spec.FormatMiB(b)
	}
	if b%(1<<10) == 0 {
		return fmt.Sprintf("%dKiB", b>>10)
	}
	return fmt.Sprintf("%d bytes", b)
}
