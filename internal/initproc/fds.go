package initproc

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseExecFrom marks every fd from first up close-on-exec, so that no fd
// the runtime inherited from its caller reaches the container's program
// (CVE-2024-21626 family). close_range(CLOSE_RANGE_CLOEXEC) needs Linux
// 5.11; older kernels walk /proc/self/fd.
func CloseExecFrom(first int) error {
	err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return &os.PathError{Op: "readdir", Path: "/proc/self/fd", Err: err}
	}
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err == nil && fd >= first && fd != int(d.Fd()) {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}

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
