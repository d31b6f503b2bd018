package container

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
)

// console is the runtime's end of process.terminal, runc's model. The
// container's process gets a new pty, allocated inside the container
// (initproc.Terminal); the child sends the master here over the handshake
// (WaitConsole), and then:
//
//   - with a console socket (create, run -d, exec -d), the master goes on to
//     it as runc sends it: one message on a connected unix stream socket,
//     whose bytes are the master's name and whose SCM_RIGHTS carry its
//     descriptor, what containerd's go-runc (Socket.ReceiveMaster), runc's
//     recvtty and Podman's conmon read. This process keeps no copy.
//   - without one (run, exec in the foreground), this process relays: its
//     stdin to the master, the master to its stdout, stdin in raw mode
//     when it is a terminal. The pty takes the window size of the first
//     of stdin, stdout and stderr that is a terminal (runc's
//     console.Current; Docker's CLI sizes from stdout), before the
//     process may start, and follows it (SIGWINCH).
type console struct {
	sock          *net.UnixConn // the console socket, until the master is sent
	stdin, stdout *os.File      // the relay's ends
	stderr        *os.File      // only a terminal to take the size of

	master  *os.File    // the relayed master (non-blocking, with deadlines)
	raw     *term.State // stdin's modes before raw mode, to restore
	winch   chan os.Signal
	outDone chan struct{} // closed when the master's output is copied
	exited  atomic.Bool   // the process has exited: drain, then stop
	once    sync.Once
}

// drainQuiet is how long the relay waits for more output once the process
// has exited, when a process left behind still holds the pty (which would
// otherwise keep it open for ever); it ends at once when none does.
const drainQuiet = 250 * time.Millisecond

// newConsole prepares the terminal of process p: nil without
// process.terminal. A console socket is connected now, so that a wrong path
// fails before anything is made. Without one the master is relayed, which
// a detached process (nobody left to relay) cannot have.
func newConsole(p *specs.Process, socketPath string, detached bool, stdin, stdout, stderr *os.File) (*console, error) {
	if p == nil || !p.Terminal {
		if socketPath != "" {
			return nil, errors.New("--console-socket: the process has no terminal (process.terminal is false)")
		}
		return nil, nil
	}
	if socketPath == "" {
		if detached {
			return nil, errors.New("process.terminal: a detached process needs --console-socket to receive its pty master")
		}
		return &console{stdin: stdin, stdout: stdout, stderr: stderr}, nil
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socketPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("--console-socket: %w", err)
	}
	return &console{sock: conn}, nil
}

// receive waits for the pty master on the handshake, then sends it to the
// console socket or starts the relay. A step that failed before comes back
// as the child's *handshake.Error.
func (t *console) receive(conn *handshake.Conn) error {
	if t == nil {
		return nil
	}
	m, err := conn.WaitConsole()
	if err != nil {
		return err
	}
	if t.sock == nil {
		return t.startRelay(m)
	}
	err = sendMaster(t.sock, m)
	m.Close()
	t.sock.Close()
	t.sock = nil
	return err
}

// maxNameLen is the longest name a receiver takes (runc's MaxNameLen).
const maxNameLen = 4096

// sendMaster sends the pty master f over the connected console socket as
// runc does (utils.SendFile): the bytes are f's name, the SCM_RIGHTS its
// descriptor, in one message.
func sendMaster(sock *net.UnixConn, f *os.File) error {
	name := f.Name()
	if len(name) >= maxNameLen {
		return fmt.Errorf("--console-socket: name %q too long", name)
	}
	_, _, err := sock.WriteMsgUnix([]byte(name), unix.UnixRights(int(f.Fd())), nil)
	if err != nil {
		return fmt.Errorf("--console-socket: send the pty master: %w", err)
	}
	return nil
}

// startRelay copies between the caller's stdio and the master m until
// finish or Close.
func (t *console) startRelay(m *os.File) error {
	// A non-blocking duplicate, in Go's poller, so that reads take
	// deadlines and Close interrupts them.
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	m.Close()
	if err != nil {
		return os.NewSyscallError("fcntl(F_DUPFD_CLOEXEC) of the pty master", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return os.NewSyscallError("set the pty master non-blocking", err)
	}
	t.master = os.NewFile(uintptr(fd), m.Name())
	if isTerminal(t.stdin) {
		if t.raw, err = term.MakeRaw(int(t.stdin.Fd())); err != nil {
			t.master.Close()
			t.master = nil
			return fmt.Errorf("raw mode of stdin: %w", err)
		}
	}
	if size := t.sizeSource(); size >= 0 {
		t.winch = make(chan os.Signal, 1)
		signal.Notify(t.winch, unix.SIGWINCH)
		t.resize(size) // before the process may start: it sees this size at once
		go func() {
			for range t.winch {
				t.resize(size)
			}
		}()
	}
	if t.stdin != nil {
		// Ends at EOF of stdin, or at the first write after Close. A read
		// of stdin may outlive the relay: nothing can interrupt it.
		go func() { _, _ = io.Copy(t.master, t.stdin) }()
	}
	t.outDone = make(chan struct{})
	go t.copyOut()
	return nil
}

// copyOut copies the master's output to stdout until every slave is closed
// (EIO), the deadline of finish passes, or Close.
func (t *console) copyOut() {
	defer close(t.outDone)
	var out io.Writer = io.Discard
	if t.stdout != nil {
		out = t.stdout
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := t.master.Read(buf)
		if n > 0 {
			_, _ = out.Write(buf[:n])
			if t.exited.Load() {
				_ = t.master.SetReadDeadline(time.Now().Add(drainQuiet))
			}
		}
		if err != nil {
			return
		}
	}
}

// isTerminal reports whether f is a terminal (false for nil).
func isTerminal(f *os.File) bool { return f != nil && term.IsTerminal(int(f.Fd())) }

// sizeSource is the descriptor of the terminal whose window size the pty
// takes: the first of stdin, stdout and stderr that is a terminal; -1
// when none is.
func (t *console) sizeSource() int {
	for _, f := range []*os.File{t.stdin, t.stdout, t.stderr} {
		if isTerminal(f) {
			return int(f.Fd())
		}
	}
	return -1
}

// resize gives the pty the window size of the terminal at fd in.
func (t *console) resize(in int) {
	ws, err := unix.IoctlGetWinsize(in, unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	if rc, err := t.master.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) })
	}
}

// finish ends the relay once the process has exited: the output still in
// the pty is copied, then everything is closed and stdin's modes restored.
func (t *console) finish() {
	if t == nil {
		return
	}
	if t.master != nil {
		t.exited.Store(true)
		_ = t.master.SetReadDeadline(time.Now().Add(drainQuiet))
		<-t.outDone
	}
	t.Close()
}

// Close releases what the console holds: the socket, the master, raw mode.
// It is safe on nil and more than once.
func (t *console) Close() {
	if t == nil {
		return
	}
	t.once.Do(func() {
		if t.sock != nil {
			t.sock.Close()
		}
		if t.winch != nil {
			signal.Stop(t.winch)
			close(t.winch)
		}
		if t.master != nil {
			t.master.Close()
			<-t.outDone
		}
		if t.raw != nil {
			_ = term.Restore(int(t.stdin.Fd()), t.raw)
		}
	})
}
