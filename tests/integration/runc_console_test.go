package integration

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// ttyScript reports, one line each, what the process sees of its terminal:
// the name of stdin's tty, the window size, whether stdin is a tty,
// whether it has a controlling terminal (/dev/tty opens), and who owns it.
const ttyScript = `tty; stty size; test -t 0 && echo stdin-tty; ` +
	`true < /dev/tty && echo ctty; stat -c owner=%u "$(tty)"; echo done`

// consoleSocket is the receiving end of --console-socket, as a containerd
// shim (go-runc's Socket.ReceiveMaster) or runc's recvtty has it: a unix
// socket that takes one connection and one message, the master's name with
// its descriptor as SCM_RIGHTS.
type consoleSocket struct {
	path string
	l    *net.UnixListener
}

func newConsoleSocket(t *testing.T) *consoleSocket {
	t.Helper()
	p := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &consoleSocket{path: p, l: l}
}

// receive accepts the runtime's connection and returns the pty master,
// non-blocking so that reads take deadlines; it is closed when the test
// ends.
func (c *consoleSocket) receive(t *testing.T) *os.File {
	t.Helper()
	if err := c.l.SetDeadline(time.Now().Add(env.timeout)); err != nil {
		t.Fatal(err)
	}
	conn, err := c.l.AcceptUnix()
	if err != nil {
		t.Fatalf("console socket: accept: %v", err)
	}
	defer conn.Close()
	if err := conn.SetReadDeadline(time.Now().Add(env.timeout)); err != nil {
		t.Fatal(err)
	}
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(name, oob)
	if err != nil {
		t.Fatalf("console socket: read: %v", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("console socket: %d control messages (%v), want 1", len(msgs), err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil {
		t.Fatalf("console socket: %v", err)
	}
	for _, fd := range fds[1:] {
		unix.Close(fd)
	}
	if len(fds) != 1 {
		unix.Close(fds[0])
		t.Fatalf("console socket: %d descriptors, want 1", len(fds))
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		t.Fatal(err)
	}
	master := os.NewFile(uintptr(fds[0]), string(name[:n]))
	t.Cleanup(func() { master.Close() })
	if master.Name() != "/dev/ptmx" {
		t.Errorf("the master came named %q, want /dev/ptmx (runc's name)", master.Name())
	}
	return master
}

// readPty reads the master until every slave is closed (EIO), bounded by
// env.timeout, and returns the output with the pty's \r\n as \n.
func readPty(t *testing.T, master *os.File) string {
	t.Helper()
	if err := master.SetReadDeadline(time.Now().Add(env.timeout)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := master.Read(buf)
		out.Write(buf[:n])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the pty is still open after %v; output so far: %q", env.timeout, out.String())
		}
		if err != nil { // EIO: the last slave is closed
			break
		}
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n")
}

// wantTTY checks the output of ttyScript: the pty is /dev/pts/0 of the
// container's own devpts, sized rows x cols, the process's stdin and
// controlling terminal, owned by uid.
func wantTTY(t *testing.T, out, rows, cols, uid string) {
	t.Helper()
	want := []string{"/dev/pts/0", rows + " " + cols, "stdin-tty", "ctty", "owner=" + uid, "done"}
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("through the pty: %q\nwant %q", got, want)
	}
}

// TestRuncConsoleSocket: create --console-socket with process.terminal
// sends the master of a pty allocated in the container's own /dev/pts
// before create returns; after start the process runs on it, sized by
// process.consoleSize, with /dev/console bound to it.
func TestRuncConsoleSocket(t *testing.T) {
	testenv.RequireRoot(t)
	b := newBundle(t, "sh", "-c", ttyScript+`; [ "$(stat -L -c %t:%T /dev/console)" = "$(stat -L -c %t:%T /dev/pts/0)" ] && echo console-bound`)
	b.edit(t, func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.ConsoleSize = &specs.Box{Height: 31, Width: 97}
		s.Process.User.UID = 1000
	})
	sock := newConsoleSocket(t)
	id := uniqueName("tty")
	runc(t, b, "create", "--console-socket", sock.path, "--bundle", b.dir, id).wantExit(t, 0)
	master := sock.receive(t)
	if st := b.state(t, id); st.Status != specs.StateCreated {
		t.Fatalf("state after create = %s", st.Status)
	}
	runc(t, b, "start", id).wantExit(t, 0)
	out := readPty(t, master)
	wantTTY(t, strings.TrimSuffix(out, "console-bound\n"), "31", "97", "1000")
	if !strings.HasSuffix(out, "console-bound\n") {
		t.Errorf("/dev/console is not the pty's slave: %q", out)
	}
	b.waitStatus(t, id, specs.StateStopped)
	runc(t, b, "delete", id).wantExit(t, 0)
	if data, _ := os.ReadFile(b.out); strings.Contains(string(data), "done") {
		t.Errorf("the process wrote to create's stdio, not the pty: %q", data)
	}
}

// TestRuncConsoleExec: exec --detach --tty --console-socket gives the new
// process a pty of its own, from the container's /dev/pts, sized by the
// container's process.consoleSize.
func TestRuncConsoleExec(t *testing.T) {
	testenv.RequireRoot(t)
	b := newBundle(t, "sleep", "1000")
	b.edit(t, func(s *specs.Spec) { s.Process.ConsoleSize = &specs.Box{Height: 40, Width: 120} })
	id := uniqueName("exty")
	runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
	sock := newConsoleSocket(t)
	execIn(t, b, "--detach", "--tty", "--console-socket", sock.path, "--user", "1000", id, "sh", "-c", ttyScript).wantExit(t, 0)
	master := sock.receive(t)
	wantTTY(t, readPty(t, master), "40", "120", "1000")
	runc(t, b, "delete", "--force", id).wantExit(t, 0)
}

// runcStdin runs minimal-runc --root B.root ARGS in the foreground with
// stdin as its stdin, bounded by env.timeout.
func runcStdin(t *testing.T, b *ociBundle, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), env.timeout)
	defer cancel()
	full := append([]string{"--root", b.root}, args...)
	cmd := exec.CommandContext(ctx, env.runc, full...)
	cmd.Dir = b.dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second
	_ = cmd.Run()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return result{args: full, stdout: strings.ReplaceAll(stdout.String(), "\r\n", "\n"), stderr: stderr.String(), code: code}
}

// TestRuncConsoleRelay: in the foreground, without a console socket,
// minimal-runc relays the pty itself (run and exec): stdin reaches the
// process, its output comes out on stdout, and its exit status back.
func TestRuncConsoleRelay(t *testing.T) {
	testenv.RequireRoot(t)
	script := `read x; echo "got $x"; tty; test -t 0 && echo stdin-tty; exit 3`
	b := newBundle(t, "sh", "-c", script)
	b.edit(t, func(s *specs.Spec) { s.Process.Terminal = true })
	t.Run("run", func(t *testing.T) {
		r := runcStdin(t, b, "hello\n", "run", "--bundle", b.dir, uniqueName("relay"))
		r.wantExit(t, 3)
		for _, want := range []string{"got hello\n", "/dev/pts/0\n", "stdin-tty\n"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("output lacks %q\n%s", want, r)
			}
		}
	})
	t.Run("exec", func(t *testing.T) {
		eb, _ := execBundle(t, "exrelay")
		r := runcStdin(t, eb, "there\n", "exec", "--tty", "exrelay", "sh", "-c", script)
		r.wantExit(t, 3)
		for _, want := range []string{"got there\n", "/dev/pts/0\n", "stdin-tty\n"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("output lacks %q\n%s", want, r)
			}
		}
		runc(t, eb, "delete", "--force", "exrelay").wantExit(t, 0)
	})
}

// TestRuncConsoleErrors: runc's rules. A detached process with a terminal
// needs --console-socket; --console-socket needs a terminal and a detached
// process; a socket that isn't there fails. Nothing is left behind.
func TestRuncConsoleErrors(t *testing.T) {
	testenv.RequireRoot(t)
	sock := newConsoleSocket(t)
	missing := filepath.Join(t.TempDir(), "missing.sock")
	for _, tc := range []struct {
		name     string
		terminal bool
		args     []string
		want     string
	}{
		{"socket without terminal", false, []string{"create", "--console-socket", sock.path}, "no terminal"},
		{"terminal without socket (create)", true, []string{"create"}, "--console-socket"},
		{"terminal without socket (run -d)", true, []string{"run", "-d"}, "--console-socket"},
		{"socket in the foreground", true, []string{"run", "--console-socket", sock.path}, "only for a detached process"},
		{"missing socket", true, []string{"create", "--console-socket", missing}, "--console-socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "true")
			b.edit(t, func(s *specs.Spec) { s.Process.Terminal = tc.terminal })
			args := append(tc.args, "--bundle", b.dir, uniqueName("ttyerr"))
			r := runc(t, b, args...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want a failure naming %q\n%s", tc.want, r)
			}
			if ids := runc(t, b, "list", "-q"); strings.TrimSpace(ids.stdout) != "" {
				t.Errorf("the failure left %q", ids.stdout)
			}
		})
	}

	b, _ := execBundle(t, "exttyerr")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"exec -d --tty without socket", []string{"--detach", "--tty"}, "--console-socket"},
		{"exec -d socket without --tty", []string{"--detach", "--console-socket", sock.path}, "no terminal"},
		{"exec --tty socket in the foreground", []string{"--tty", "--console-socket", sock.path}, "only for a detached process"},
		{"exec missing socket", []string{"--detach", "--tty", "--console-socket", missing}, "--console-socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := execIn(t, b, append(tc.args, "exttyerr", "true")...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want a failure naming %q\n%s", tc.want, r)
			}
		})
	}
	runc(t, b, "delete", "--force", "exttyerr").wantExit(t, 0)
}
