package proc

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ForwardedSignals are the signals passed on to the container: by the parent
// to the container's PID 1 (a foreground run, exec), and by the tiny init to
// the user's command.
var ForwardedSignals = []os.Signal{
	unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGWINCH, unix.SIGCONT,
}

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
