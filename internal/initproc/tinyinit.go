package initproc

import (
	"os"
	"os/signal"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// ForwardedSignals are the signals passed on to the container (package
// proc's).
var ForwardedSignals = proc.ForwardedSignals

// tinyInit runs the user's command as a child of PID 1 (docker run --init):
// it forwards signals to it, reaps every process that is reparented to it,
// and returns the command's exit status (128+N when killed by signal N).
func tinyInit(st *state, conn *handshake.Conn) (int, error) {
	// Show as "init" in ps rather than the re-executed binary's "exe".
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("init\x00")[0])), 0, 0, 0)
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, append([]os.Signal{unix.SIGCHLD}, ForwardedSignals...)...)
	p := st.spec.Process
	files := []*os.File{os.Stdin, os.Stdout, os.Stderr}
	for fd := 3; fd < 3+st.cfg.PreserveFDs; fd++ { // --preserve-fds
		files = append(files, os.NewFile(uintptr(fd), "preserved-fd"))
	}
	proc, err := os.StartProcess(st.exe, p.Args, &os.ProcAttr{
		Env:   p.Env,
		Files: files,
	})
	if err != nil {
		return 0, execError(st.exe, err)
	}
	// The command runs: tell the parent (run) or start by closing our end.
	conn.Close()
	startFailed(st, nil)
	pid := proc.Pid
	// Reaping is by wait4 below: drop the pidfd os.StartProcess keeps, so
	// that PID 1 holds no descriptor but stdio.
	_ = proc.Release()
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			_ = unix.Kill(pid, sig.(unix.Signal))
			continue
		}
		if code, done := reap(pid); done {
			return code, nil
		}
	}
	return 0, nil
}

// reap collects every exited child; done is true once the main child pid has
// exited, with its status as an exit code.
func reap(main int) (code int, done bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return code, done
		}
		if pid == main {
			done = true
			code = ExitCode(ws)
		}
	}
}

// ExitCode is the shell's view of a wait status (package exitcode's).
func ExitCode(ws unix.WaitStatus) int { return exitcode.OfWait(ws) }
