package initproc

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
)

// The container's terminal (process.terminal), as runc makes it: the pty is
// allocated inside the container, from its own devpts instance (the
// container's /dev/ptmx, opened after pivot_root or, for exec, after
// joining its mount namespace), so that the process sees /dev/pts/N of its
// own /dev/pts. The master goes to the runtime over the handshake (which
// passes it to --console-socket or relays it); the slave becomes the
// process's controlling terminal and its stdin, stdout and stderr.

// ptmxPath is the pty multiplexer, resolved in the container's root.
const ptmxPath = "/dev/ptmx"

// consolePath is where the container's init binds the slave (runc's
// /dev/console).
const consolePath = "/dev/console"

// setupTerminal is the init's "console" step.
// The slave is bound on /dev/console only in a mount namespace of the
// container's own.
func setupTerminal(s *state) error { return Terminal(s.conn, s.spec.Process, !sharesMounts(s)) }

// Terminal gives this process a new pty as its controlling terminal:
//
//  1. open /dev/ptmx (O_NOCTTY), unlock the slave, size it from
//     process.consoleSize (when both height and width are set);
//  2. open the slave and give it to process.user.uid, who must control it
//     after the switch of user;
//  3. with console (the container's init, not exec): bind the slave on
//     /dev/console, made as an empty file when missing;
//  4. send the master to the runtime (handshake SendConsole) and close it;
//  5. become a session leader if not one (setsid), make the slave the
//     controlling terminal (TIOCSCTTY) and dup it onto fds 0, 1 and 2.
func Terminal(conn *handshake.Conn, p *specs.Process, console bool) error {
	master, slavePath, err := openPty(ptmxPath)
	if err != nil {
		return err
	}
	defer master.Close()
	if sz := consoleSize(p); sz != nil {
		if err := resize(master, sz); err != nil {
			return err
		}
	}
	slave, err := openSlave(master, slavePath)
	if err != nil {
		return err
	}
	defer func() {
		if slave > 2 {
			unix.Close(slave)
		}
	}()
	if err := chownSlave(slave, slavePath, p.User.UID); err != nil {
		return err
	}
	if console {
		if err := mountConsole(slavePath); err != nil {
			return err
		}
	}
	if err := conn.SendConsole(master, ptmxPath); err != nil {
		return err
	}
	return useTerminal(slave, slavePath)
}

// consoleSize is the window size the process's terminal gets: its
// process.consoleSize when both sides are set, else nil (the kernel's).
func consoleSize(p *specs.Process) *specs.Box {
	if sz := p.ConsoleSize; sz != nil && sz.Height != 0 && sz.Width != 0 {
		return sz
	}
	return nil
}

// openPty opens a new pty master at ptmx and unlocks its slave; slave is
// the slave's path in the devpts instance beside ptmx ("/dev/pts/N"). Only
// a pty master answers TIOCGPTN, so whatever the rootfs put at /dev/ptmx,
// what the runtime passes on is a real one.
func openPty(ptmx string) (master *os.File, slave string, err error) {
	fd, err := unix.Open(ptmx, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", &os.PathError{Op: "open", Path: ptmx, Err: err}
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		return nil, "", &os.PathError{Op: "unlockpt (ioctl TIOCSPTLCK)", Path: ptmx, Err: err}
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		return nil, "", &os.PathError{Op: "ptsname (ioctl TIOCGPTN)", Path: ptmx, Err: err}
	}
	return os.NewFile(uintptr(fd), ptmx), "/dev/pts/" + strconv.FormatUint(uint64(n), 10), nil
}

// checkConsoleSize checks process.consoleSize: each side fits the
// kernel's window size (16 bits).
func checkConsoleSize(sz *specs.Box) error {
	if sz.Height > math.MaxUint16 || sz.Width > math.MaxUint16 {
		return fmt.Errorf("process.consoleSize %dx%d: want at most %d each", sz.Height, sz.Width, math.MaxUint16)
	}
	return nil
}

// resize sets the pty's window size (process.consoleSize).
func resize(master *os.File, sz *specs.Box) error {
	if err := checkConsoleSize(sz); err != nil {
		return err
	}
	ws := &unix.Winsize{Row: uint16(sz.Height), Col: uint16(sz.Width)}
	if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		return fmt.Errorf("process.consoleSize: %w", os.NewSyscallError("ioctl(TIOCSWINSZ)", err))
	}
	return nil
}

// openSlave opens the master's own slave (TIOCGPTPEER, Linux 4.13), or its
// path on older kernels.
func openSlave(master *os.File, path string) (int, error) {
	const flags = unix.O_RDWR | unix.O_NOCTTY | unix.O_CLOEXEC
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, master.Fd(), unix.TIOCGPTPEER, flags)
	if errno == 0 {
		return int(fd), nil
	}
	if errno != unix.EINVAL && errno != unix.ENOTTY {
		return -1, &os.PathError{Op: "open pty slave (ioctl TIOCGPTPEER)", Path: path, Err: errno}
	}
	slave, err := unix.Open(path, flags, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return slave, nil
}

// chownSlave makes uid the owner of the slave (runc's fixStdioPermissions):
// the process must be able to reopen it (/dev/tty) and change its modes.
func chownSlave(fd int, path string, uid uint32) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Uid == uid {
		return nil
	}
	if err := unix.Fchown(fd, int(uid), -1); err != nil {
		return &os.PathError{Op: "chown to process.user.uid " + strconv.FormatUint(uint64(uid), 10), Path: path, Err: err}
	}
	return nil
}

// mountConsole binds the slave on /dev/console, creating the mount point as
// an empty file (mode 0666) when it is missing. An existing node is mounted
// over, never opened.
func mountConsole(slave string) error {
	fd, err := unix.Open(consolePath, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o666)
	switch {
	case err == nil:
		unix.Close(fd)
	case !errors.Is(err, unix.EEXIST):
		return &os.PathError{Op: "create", Path: consolePath, Err: err}
	}
	if err := unix.Mount(slave, consolePath, "", unix.MS_BIND, ""); err != nil {
		return &os.PathError{Op: "bind " + slave + " on", Path: consolePath, Err: err}
	}
	return nil
}

// useTerminal makes the slave the controlling terminal of this process, as
// a session leader (the init already is one; a process exec'd through
// nsenter is not), and its stdin, stdout and stderr.
func useTerminal(slave int, path string) error {
	if sid, err := unix.Getsid(0); err != nil || sid != unix.Getpid() {
		if _, err := unix.Setsid(); err != nil {
			return os.NewSyscallError("setsid", err)
		}
	}
	if err := unix.IoctlSetInt(slave, unix.TIOCSCTTY, 0); err != nil {
		return &os.PathError{Op: "make the controlling terminal (ioctl TIOCSCTTY)", Path: path, Err: err}
	}
	for fd := 0; fd <= 2; fd++ {
		if fd == slave {
			continue
		}
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("dup %s onto fd %d: %w", path, fd, os.NewSyscallError("dup3", err))
		}
	}
	if slave <= 2 {
		// It is a standard fd now: keep it open across execve.
		if _, err := unix.FcntlInt(uintptr(slave), unix.F_SETFD, 0); err != nil {
			return os.NewSyscallError("fcntl(F_SETFD)", err)
		}
	}
	return nil
}
