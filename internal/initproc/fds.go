package initproc

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// CloseExecFrom marks every fd from first up close-on-exec (package proc's).
func CloseExecFrom(first int) error { return proc.CloseExecFrom(first) }

// PassFDs clears close-on-exec on the n descriptors from 3 up
// (--preserve-fds), which CloseExecFrom had set: exactly those reach the
// program that execve starts. It runs after the last hook (none inherits
// them) and before the final steps (a seccomp filter may refuse fcntl).
func PassFDs(n int) error {
	for fd := 3; fd < 3+n; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return os.NewSyscallError("fcntl(F_SETFD) of preserved fd "+strconv.Itoa(fd), err)
		}
	}
	return nil
}
