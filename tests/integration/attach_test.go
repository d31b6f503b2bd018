package integration

// attach and run -d -i/-t: a detached container's stdin and pty, joined
// to a terminal (a real pty of the test's, as a user's) through its
// monitor's attach socket.

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// attachOnPty starts `attach ARGS...` under root on a new pty of rows x
// cols.
func attachOnPty(t *testing.T, root string, rows, cols uint16, args ...string) *ttyProc {
	t.Helper()
	return startOnPty(t, rows, cols, append([]string{"--root", root, "attach"}, args...)...)
}

// typeUntil types s into the pty again and again until the output has the
// line want (a resize or an input may take a while to reach the
// container: no single wait is right on a slow machine), bounded by
// env.timeout.
func (p *ttyProc) typeUntil(t *testing.T, s, want string) {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	for {
		p.typeIn(t, s)
		retype := time.After(time.Second)
		for waiting := true; waiting; {
			changed, found := p.stdout.has(want)
			if found {
				return
			}
			select {
			case <-changed:
			case <-retype:
				waiting = false
			case <-p.Done:
				t.Fatalf("attach exited before printing %q\n%s", want, p.result())
			}
		}
		if time.Now().After(deadline) {
			p.kill()
			t.Fatalf("no line %q after %v\n%s", want, env.timeout, p.result())
		}
	}
}

// waitPrinted waits (env.timeout) for want in what came out of the pty,
// which the test reads on its own time: after the process exits too. It
// may follow the shell's prompt on its line, as on a user's terminal.
func (p *ttyProc) waitPrinted(t *testing.T, want string) {
	t.Helper()
	waitFor(t, "output "+want, func() bool { return strings.Contains(p.stdout.String(), want) })
}

// TestAttachTTY: run -dit gives a shell a pty; attach joins this terminal
// to it in raw mode: typed input reaches the shell, its output comes back,
// the pty takes the terminal's size and follows its resizes; Ctrl-P
// Ctrl-Q detaches (Docker's "read escape sequence", exit 1), the terminal's
// modes restored, the container still up; a second attach works, and the
// shell's exit 3 ends it with 3. logs has the pty's output as stdout.
func TestAttachTTY(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "-it", "--name", "tty", env.rootfs, "sh")
	c := inspectContainer(t, root, "tty")
	if !c.Config.Tty || !c.Config.OpenStdin || c.Config.AttachStdin || c.Config.StdinOnce {
		t.Errorf("inspect: Config %+v, want Tty and OpenStdin, nothing attached (as Docker's run -dit)", c.Config)
	}

	p := attachOnPty(t, root, 30, 100, "tty")
	p.typeIn(t, "echo hi-$((40+2))\r")
	p.waitLine(t, "hi-42")
	wantRaw(t, p.termios(t))
	p.typeUntil(t, "stty size\r", "30 100")

	if err := pty.Setsize(p.master, &pty.Winsize{Rows: 50, Cols: 132}); err != nil {
		t.Fatal(err)
	}
	p.signal(t, syscall.SIGWINCH) // the kernel sends one too: either will do
	p.typeUntil(t, "stty size\r", "50 132")

	// Without a terminal on stdin, attaching a pty is refused, as Docker.
	r := mdi(t, root, "attach", "tty")
	r.wantExit(t, 1)
	r.wantStderr(t, "the input device is not a TTY")

	p.typeIn(t, "\x10\x11") // ctrl-p ctrl-q
	p.wait(t).wantExit(t, 1)
	p.waitPrinted(t, "read escape sequence") // Docker's words on detaching
	p.wantRestored(t)
	if got := psStatus(t, root, "tty"); !strings.HasPrefix(got, "tty Up ") {
		t.Fatalf("ps after detaching: %q, want tty Up ...", got)
	}

	p = attachOnPty(t, root, 24, 80, "tty")
	p.typeIn(t, "echo second-$((1+1))\r")
	p.waitLine(t, "second-2")
	p.typeIn(t, "exit 3\r")
	p.wait(t).wantExit(t, 3)
	p.wantRestored(t)
	if got := psStatus(t, root, "tty"); !strings.HasPrefix(got, "tty Exited (3) ") {
		t.Errorf("ps after exit 3: %q, want tty Exited (3) ...", got)
	}

	r = mdi(t, root, "logs", "tty")
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "hi-42\r\n") || !strings.Contains(r.stdout, "second-2\r\n") || r.stderr != "" {
		t.Errorf("logs of a pty: want its output (\\r\\n) as stdout\n%s", r)
	}
	r = mdi(t, root, "attach", "tty")
	r.wantExit(t, 1)
	r.wantStderr(t, "You cannot attach to a stopped container, start it first")
}

// TestAttachDetachKeys: --detach-keys takes Docker's syntax; keys that
// start the sequence and break off reach the container after all.
func TestAttachDetachKeys(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "-it", "--name", "keys", env.rootfs, "sh")
	p := attachOnPty(t, root, 24, 80, "--detach-keys", "ctrl-e,e", "keys")
	// ctrl-e then not e: both go to the shell (ctrl-e moves to the line's
	// end in its editor, where the cursor is), the line runs.
	p.typeIn(t, "echo keys-$((2+3))\x05\r")
	p.waitLine(t, "keys-5")
	p.typeIn(t, "\x05e")
	p.wait(t).wantExit(t, 1)
	p.waitPrinted(t, "read escape sequence")
	p.wantRestored(t)
	if got := psStatus(t, root, "keys"); !strings.HasPrefix(got, "keys Up ") {
		t.Errorf("ps after detaching: %q, want keys Up ...", got)
	}
	r := mdi(t, root, "attach", "--detach-keys", "ctrl-foo", "keys")
	r.wantExit(t, 1)
	r.wantStderr(t, "Invalid detach keys (ctrl-foo) provided")
}

// TestAttachStdin: run -di keeps the container's stdin for attach: input
// piped into attach reaches it, its stdout and stderr come back apart, and
// attach exits with its exit code; without -i the container's stdin is
// /dev/null.
func TestAttachStdin(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "-i", "--name", "in", env.rootfs, "sh", "-c", "read x; echo got $x; echo err-$x >&2; exit 4")
	c := inspectContainer(t, root, "in")
	if c.Config.Tty || !c.Config.OpenStdin {
		t.Errorf("inspect: Config %+v, want OpenStdin without Tty", c.Config)
	}
	p := startWithStdin(t, "--root", root, "attach", "in")
	if _, err := p.stdin.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	r := p.wait(t)
	r.wantExit(t, 4)
	if r.stdout != "got hello\n" || r.stderr != "err-hello\n" {
		t.Errorf("want got hello on stdout, err-hello on stderr\n%s", r)
	}
	if got := psStatus(t, root, "in"); !strings.HasPrefix(got, "in Exited (4) ") {
		t.Errorf("ps: %q, want in Exited (4) ...", got)
	}

	detached(t, root, "--name", "noin", env.rootfs, "sh", "-c", "cat; echo eof")
	mdi(t, root, "wait", "noin").wantExit(t, 0)
	if r := mdi(t, root, "logs", "noin"); r.stdout != "eof\n" {
		t.Errorf("without -i: want stdin at EOF at once\n%s", r)
	}
}

// TestAttachSigProxy: without a pty, attach forwards the signals it gets
// to the container's process (Docker's --sig-proxy, on by default).
func TestAttachSigProxy(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "--name", "sig", env.rootfs, "sh", "-c",
		`trap 'echo got-term; exit 7' TERM; while :; do echo tick; sleep 1; done`)
	p := start(t, "--root", root, "attach", "sig")
	p.waitLine(t, "tick") // attached: the proxy is set up before the output flows
	p.signal(t, syscall.SIGTERM)
	r := p.wait(t)
	r.wantExit(t, 7)
	if !strings.Contains(r.stdout, "got-term\n") {
		t.Errorf("the container did not get attach's SIGTERM\n%s", r)
	}
}

// dialAttachSocket connects to container id's attach socket under root
// as any client may (the protocol is in monitor.c), through the
// directory's descriptor: the path is longer than a socket address takes.
func dialAttachSocket(t *testing.T, root, id string) *net.UnixConn {
	t.Helper()
	dir, err := os.Open(filepath.Join(root, "containers", id))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	addr := &net.UnixAddr{Name: fmt.Sprintf("/proc/self/fd/%d/attach.sock", dir.Fd()), Net: "unixpacket"}
	conn, err := net.DialUnix("unixpacket", nil, addr)
	if err != nil {
		t.Fatalf("attach socket: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestAttachSlowClients: clients that never read, or that go away, stall
// nothing: the container writes far more than their sockets hold and ends
// on its own, its whole output in the log; a client that stays learns the
// end (the socket closes).
func TestAttachSlowClients(t *testing.T) {
	root := t.TempDir()
	id := detached(t, root, "-i", "--name", "big", env.rootfs, "sh", "-c",
		`read x; head -c 20000000 /dev/zero | tr '\0' a; echo; echo done-$x`)
	gone := dialAttachSocket(t, root, id)
	gone.Close()
	stuck := dialAttachSocket(t, root, id) // never reads until the end
	if _, err := stuck.Write(append([]byte{0}, "go\n"...)); err != nil {
		t.Fatal(err)
	}
	r := mdi(t, root, "wait", "big")
	if r.code != 0 || r.stdout != "0\n" {
		t.Fatalf("wait: want 0\n%s", r)
	}
	if r := mdi(t, root, "logs", "--tail", "1", "big"); r.stdout != "done-go\n" {
		t.Errorf("the log's last line: want done-go\n%s", r)
	}
	// What the socket held, then its end.
	if err := stuck.SetReadDeadline(time.Now().Add(env.timeout)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := stuck.Read(buf); err != nil {
			if err != io.EOF {
				t.Errorf("the stuck client: want the socket closed at the end, got %v", err)
			}
			break
		}
	}
}

// TestAttachMonitorKilled: a monitor killed under an attached client ends
// the attach (exit 1, saying so) rather than leaving it waiting on a
// socket nobody serves; the container, still running, is removed by rm -f.
func TestAttachMonitorKilled(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "--name", "orphan", env.rootfs, "sh", "-c", "while :; do echo tick; sleep 1; done")
	c := inspectContainer(t, root, "orphan")
	p := start(t, "--root", root, "attach", "orphan")
	p.waitLine(t, "tick")
	if err := syscall.Kill(c.State.MonitorPid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 the monitor %d: %v", c.State.MonitorPid, err)
	}
	r := p.wait(t)
	r.wantExit(t, 1)
	r.wantStderr(t, "its monitor is gone")
	mdi(t, root, "rm", "-f", "orphan").wantExit(t, 0)
	wantNothingLeft(t, root, c)
}
