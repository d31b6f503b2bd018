package docker

// attach: this terminal's stdio joined to a detached container's, through
// the attach socket its monitor holds (containers/ID/attach.sock; the
// protocol is in cmd/minimal-docker-monitor/monitor.c's header comment):
// packets of a type byte and data; from the monitor 1 stdout, 2 stderr;
// to it 0 stdin, 1 "ROWS COLS" (the pty's size), 2 close stdin.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// attachSocketName is the attach socket's name in the container's
// directory.
const attachSocketName = "attach.sock"

// The attach socket's packet types (monitor.c).
const (
	packetStdout     = 1
	packetStderr     = 2
	packetStdin      = 0
	packetResize     = 1
	packetCloseStdin = 2
	packetMax        = 8192 // what the monitor reads of one packet
)

// defaultDetachKeys are Docker's: ctrl-p, ctrl-q.
var defaultDetachKeys = []byte{16, 17}

// errStopped is Docker's word for attaching to a container that is not
// running.
var errStopped = errors.New("You cannot attach to a stopped container, start it first")

// errDetached is how an attach ends on the detach keys: Docker's CLI
// prints these words and exits 1 (attachExit).
var errDetached = errors.New("read escape sequence")

type attachFlags struct {
	noStdin, sigProxy bool
	detachKeys        string
}

func newAttachCmd(g *globals, st Streams) *cobra.Command {
	var f attachFlags
	c := &cobra.Command{
		Use:   "attach [OPTIONS] CONTAINER",
		Short: "Attach local standard input, output, and error streams to a running container",
		Long: "Join this terminal to a running detached container: its output from now\n" +
			"on (stdout and stderr apart; a pty's output when it has one), this\n" +
			"terminal's input to its stdin when it was started with -i, this\n" +
			"terminal's window size to its pty (-t), in raw mode meanwhile. The detach\n" +
			"keys (default ctrl-p,ctrl-q; with a pty) leave it running: attach then\n" +
			"prints \"read escape sequence\" and exits 1. When the container ends,\n" +
			"attach exits with its exit code.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return attachContainer(g, st, f, args[0])
		},
	}
	fl := c.Flags()
	fl.BoolVar(&f.noStdin, "no-stdin", false, "do not attach STDIN")
	fl.BoolVar(&f.sigProxy, "sig-proxy", true, "proxy all received signals to the process (without a pty)")
	fl.StringVar(&f.detachKeys, "detach-keys", "", `override the key sequence for detaching a container ("ctrl-p,ctrl-q": a letter, or ctrl- and one of a-z @ [ \ ] ^ _, or DEL, comma-separated)`)
	return c
}

// attachContainer is the attach verb: Docker's checks and exit statuses
// (1 for its own failures), then attachStreams.
func attachContainer(g *globals, st Streams, f attachFlags, ref string) error {
	keys, ctrs, c, err := attachTarget(g, f.detachKeys, ref)
	if err != nil {
		return err
	}
	switch {
	case !c.State.Running:
		return dockerError(errStopped)
	case c.State.Paused:
		return dockerError(errors.New("You cannot attach to a paused container, unpause it first"))
	case c.State.Restarting:
		return dockerError(errors.New("You cannot attach to a restarting container, wait until it is running"))
	}
	if err := ttyCheck(st, c, !f.noStdin); err != nil {
		return err
	}
	code, err := attachStreams(g, st, ctrs, c, attachOptions{
		stdin:      !f.noStdin && c.Config.OpenStdin,
		sigProxy:   f.sigProxy && !c.Config.Tty,
		detachKeys: keys,
	})
	return attachExit(st, code, err)
}

// attachTarget is what the verbs that attach (attach, start -a) look up
// first, with Docker's errors (exit 1): the detach keys and the container
// ref names.
func attachTarget(g *globals, detachKeys, ref string) ([]byte, *store.Store, *store.Container, error) {
	keys, err := parseDetachKeys(detachKeys)
	if err != nil {
		return nil, nil, nil, dockerError(err)
	}
	ctrs, err := g.containers()
	if err != nil {
		return nil, nil, nil, dockerError(err)
	}
	c, err := ctrs.Get(ref)
	if err != nil {
		return nil, nil, nil, dockerError(err)
	}
	return keys, ctrs, c, nil
}

// ttyCheck refuses a pty container's stdin from something not a terminal,
// as Docker does (exit 1).
func ttyCheck(st Streams, c *store.Container, stdin bool) error {
	if c.Config.Tty && stdin && !isTerminal(st.In) {
		return dockerError(errors.New("the input device is not a TTY"))
	}
	return nil
}

// attachOptions say what attachStreams joins.
type attachOptions struct {
	stdin      bool   // send st.In to the container's stdin
	sigProxy   bool   // forward the signals this process gets (Docker's --sig-proxy; not with a pty)
	detachKeys []byte // with a pty and stdin; nil: Docker's default
	// connected, when set, runs once the socket is connected, before any
	// output is read (start -a starts the container then); its error ends
	// the attach.
	connected func() error
}

// attachExit is what the command that attached returns: the container's
// exit code, or Docker's "read escape sequence" and 1 when the user
// detached, or the failure (exit 1).
func attachExit(st Streams, code int, err error) error {
	switch {
	case errors.Is(err, errDetached):
		fmt.Fprintln(st.Err, err)
		return &cli.Status{Code: 1}
	case err != nil:
		return dockerError(err)
	case code != 0:
		return &cli.Status{Code: code}
	}
	return nil
}

// attachStreams joins st to the running container c through its
// monitor's attach socket until the container ends (then it returns the
// container's exit code, from the store), the user types the detach keys
// (errDetached), or the monitor goes away. With a pty and stdin on a
// terminal, the terminal is in raw mode meanwhile and restored on every
// path; the pty takes the window size of this terminal first and on
// SIGWINCH. For the verbs that attach: attach, start -a.
func attachStreams(g *globals, st Streams, ctrs *store.Store, c *store.Container, o attachOptions) (int, error) {
	conn, err := dialAttach(ctrs.Dir(c.ID))
	if err != nil {
		if waitStopped(ctrs, c.ID, 0) { // it ended meanwhile
			return 0, errStopped
		}
		return 0, err
	}
	defer conn.Close()
	tty := c.Config.Tty
	if tty && o.stdin && isTerminal(st.In) {
		old, err := term.MakeRaw(int(st.In.Fd()))
		if err != nil {
			return 0, fmt.Errorf("raw mode of stdin: %w", err)
		}
		var once sync.Once
		restore := func() { once.Do(func() { _ = term.Restore(int(st.In.Fd()), old) }) }
		defer restore()
	}
	if tty {
		if stop := followSize(conn, st); stop != nil {
			defer stop()
		}
	}
	if o.sigProxy {
		stop, err := proxySignals(g, ctrs, c)
		if err != nil {
			return 0, err
		}
		defer stop()
	}
	// The window size is sent before the start: the monitor sets it on the
	// pty as it reads it (the spec's consoleSize was create's terminal's).
	if o.connected != nil {
		if err := o.connected(); err != nil {
			return 0, err
		}
	}

	outDone := make(chan error, 1)
	go func() { outDone <- copyOutput(conn, st) }()
	inDone := make(chan error, 1)
	if o.stdin {
		keys := o.detachKeys
		if !tty {
			keys = nil // Docker's detach keys work on a pty only
		} else if keys == nil {
			keys = defaultDetachKeys
		}
		go func() { inDone <- copyInput(conn, st.In, keys, c.Config.StdinOnce && !tty) }()
	}
	select {
	case err := <-inDone:
		if errors.Is(err, errDetached) {
			return 0, err
		}
		err = <-outDone // input ended: the output goes on until the container ends
		if err != nil {
			return 0, err
		}
	case err := <-outDone:
		if err != nil {
			return 0, err
		}
	}
	// The monitor closes the socket once the exit is recorded; a monitor
	// killed closes it too, the container still running.
	for deadline := time.Now().Add(stopWait); !waitStopped(ctrs, c.ID, time.Second); {
		m := c.State.Monitor()
		if alive, err := proc.Alive(m.Pid, m.StartTime); (m.Pid > 0 && err == nil && !alive) || time.Now().After(deadline) {
			return 0, fmt.Errorf("container %s: its monitor is gone, the container still runs (no output, no input)", c.ID)
		}
	}
	ended, err := ctrs.Get(c.ID)
	if err != nil {
		return 0, err
	}
	return ended.State.ExitCode, nil
}

// dialAttach connects to the attach socket in the container's directory
// dir, through /proc/self/fd of the directory: a long --root would not fit
// in a socket address.
func dialAttach(dir string) (*net.UnixConn, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	addr := &net.UnixAddr{Name: fmt.Sprintf("/proc/self/fd/%d/%s", fd, attachSocketName), Net: "unixpacket"}
	conn, err := net.DialUnix("unixpacket", nil, addr)
	if err != nil {
		return nil, fmt.Errorf("attach socket %s: %w", filepath.Join(dir, attachSocketName), err)
	}
	return conn, nil
}

// copyOutput writes the monitor's packets to stdout and stderr until the
// monitor closes the socket (nil) or it fails.
func copyOutput(conn *net.UnixConn, st Streams) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := conn.Read(buf)
		if n > 1 {
			w := st.Out
			if buf[0] == packetStderr {
				w = st.Err
			}
			if _, werr := w.Write(buf[1:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF || (err == nil && n == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("attach socket: %w", err)
		}
	}
}

// copyInput sends in to the container's stdin until in ends (nil; then
// closeStdin closes the container's stdin, Docker's StdinOnce), the detach
// keys come (errDetached; the bytes before them are sent), or the socket
// fails.
func copyInput(conn *net.UnixConn, in io.Reader, keys []byte, closeStdin bool) error {
	esc := escapeDetector{keys: keys}
	buf := make([]byte, 4096)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			data, detached := esc.feed(buf[:n])
			if werr := sendInput(conn, data); werr != nil {
				return werr
			}
			if detached {
				return errDetached
			}
		}
		if err != nil {
			if closeStdin {
				_, _ = conn.Write([]byte{packetCloseStdin})
			}
			return nil
		}
	}
}

// sendInput sends data as stdin packets.
func sendInput(conn *net.UnixConn, data []byte) error {
	for len(data) > 0 {
		n := min(len(data), packetMax-1)
		if _, err := conn.Write(append([]byte{packetStdin}, data[:n]...)); err != nil {
			return fmt.Errorf("attach socket: %w", err)
		}
		data = data[n:]
	}
	return nil
}

// escapeDetector finds the detach keys in the input. The keys typed so
// far of a sequence are held back; when the sequence breaks off they are
// sent after all.
type escapeDetector struct {
	keys []byte // none: no detaching
	held int    // how many of keys the input ended on
}

// feed returns what of in (and of the keys held before) goes to the
// container, and whether in completed the detach keys; the bytes after
// them are dropped.
func (e *escapeDetector) feed(in []byte) (out []byte, detached bool) {
	if len(e.keys) == 0 {
		return in, false
	}
	out = make([]byte, 0, len(in)+e.held)
	for _, b := range in {
		if b == e.keys[e.held] {
			if e.held++; e.held == len(e.keys) {
				e.held = 0
				return out, true
			}
			continue
		}
		out = append(out, e.keys[:e.held]...)
		e.held = 0
		if b == e.keys[0] {
			e.held = 1
			if len(e.keys) == 1 {
				e.held = 0
				return out, true
			}
			continue
		}
		out = append(out, b)
	}
	return out, false
}

// asciiControls are Docker's names of the control keys, by code
// (moby/term's ASCII table).
var asciiControls = []string{
	"ctrl-@", "ctrl-a", "ctrl-b", "ctrl-c", "ctrl-d", "ctrl-e", "ctrl-f", "ctrl-g", "ctrl-h", "ctrl-i",
	"ctrl-j", "ctrl-k", "ctrl-l", "ctrl-m", "ctrl-n", "ctrl-o", "ctrl-p", "ctrl-q", "ctrl-r", "ctrl-s",
	"ctrl-t", "ctrl-u", "ctrl-v", "ctrl-w", "ctrl-x", "ctrl-y", "ctrl-z", "ctrl-[", "ctrl-\\", "ctrl-]",
	"ctrl-^", "ctrl-_",
}

// parseDetachKeys reads --detach-keys as Docker does: comma-separated keys,
// each a single character, ctrl-X (asciiControls) or DEL. "" is the
// default, ctrl-p,ctrl-q.
func parseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		return defaultDetachKeys, nil
	}
	var keys []byte
next:
	for _, k := range strings.Split(s, ",") {
		switch {
		case len(k) == 1:
			keys = append(keys, k[0])
			continue
		case k == "DEL":
			keys = append(keys, 127)
			continue
		}
		for code, name := range asciiControls {
			if k == name {
				keys = append(keys, byte(code))
				continue next
			}
		}
		return nil, fmt.Errorf("Invalid detach keys (%s) provided: unknown character %q", s, k)
	}
	return keys, nil
}

// followSize sends this terminal's window size (of stdout, else stdin,
// as Docker's CLI sizes from stdout) to the container's pty now and on
// SIGWINCH; nil when neither is a terminal. The first size sent is one
// row and column more, then the right one, as Docker's CLI does: a shell
// attached to again redraws its prompt on the change.
func followSize(conn *net.UnixConn, st Streams) (stop func()) {
	var src *os.File
	for _, f := range []*os.File{st.Out, st.In} {
		if isTerminal(f) {
			src = f
			break
		}
	}
	if src == nil {
		return nil
	}
	send := func(extra uint16) {
		ws, err := unix.IoctlGetWinsize(int(src.Fd()), unix.TIOCGWINSZ)
		if err != nil || ws.Row == 0 || ws.Col == 0 {
			return
		}
		_, _ = conn.Write(fmt.Appendf([]byte{packetResize}, "%d %d", ws.Row+extra, ws.Col+extra))
	}
	send(1)
	send(0)
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-winch:
				send(0)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(winch)
		close(done)
	}
}

// proxySignals forwards the signals this process gets to the container's
// init, as Docker's --sig-proxy: all but SIGCHLD, SIGPIPE and SIGURG (the
// Go runtime's).
func proxySignals(g *globals, ctrs *store.Store, c *store.Container) (stop func(), err error) {
	rt, err := g.runtime()
	if err != nil {
		return nil, err
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				sig, ok := s.(unix.Signal)
				if !ok || sig == unix.SIGCHLD || sig == unix.SIGPIPE || sig == unix.SIGURG {
					continue
				}
				_ = rt.signal(ctrs, c, sig)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}, nil
}

// isTerminal reports whether f is a terminal (false for nil).
func isTerminal(f *os.File) bool { return f != nil && term.IsTerminal(int(f.Fd())) }

// terminalSize is the window size of the terminal this process runs on
// (stdout's, else stdin's), for a new pty; nil when none is a terminal.
func terminalSize(st Streams) *specs.Box {
	for _, f := range []*os.File{st.Out, st.In} {
		if !isTerminal(f) {
			continue
		}
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Row > 0 && ws.Col > 0 {
			return &specs.Box{Height: uint(ws.Row), Width: uint(ws.Col)}
		}
	}
	return nil
}
