package container

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// recvMaster reads one message from the console socket as containerd's
// go-runc does (recvFd): the name in the bytes, exactly one descriptor.
func recvMaster(t *testing.T, l *net.UnixListener) *os.File {
	t.Helper()
	_ = l.SetDeadline(time.Now().Add(10 * time.Second))
	c, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	name := make([]byte, maxNameLen)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := c.ReadMsgUnix(name, oob)
	if err != nil {
		t.Fatal(err)
	}
	if oobn != len(oob) {
		t.Fatalf("oob of %d bytes, want %d (one descriptor)", oobn, len(oob))
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages: %v, %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights: %v, %v", fds, err)
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n]))
}

// newPty opens a host pty pair for the tests: master and slave.
func newPty(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no ptys here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.FormatUint(uint64(n), 10), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// TestConsoleSocket: the master arrives on the console socket named and
// usable, and the runtime keeps nothing.
func TestConsoleSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tty, err := newConsole(&specs.Process{Terminal: true}, sock, true, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The pipe's write end, named as runc names the master.
	fd, err := unix.Dup(int(w.Fd()))
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	named := os.NewFile(uintptr(fd), "/dev/ptmx")
	err = sendMaster(tty.sock, named)
	named.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := recvMaster(t, l)
	if got.Name() != "/dev/ptmx" {
		t.Errorf("name %q, want /dev/ptmx", got.Name())
	}
	if _, err := got.WriteString("hello\n"); err != nil {
		t.Fatal(err)
	}
	got.Close()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil || line != "hello\n" {
		t.Errorf("read %q, %v", line, err)
	}
}

// TestNewConsoleRules: no terminal, no console; a socket without a
// terminal, or a detached terminal without a socket, is an error; a
// socket that isn't there fails at once.
func TestNewConsoleRules(t *testing.T) {
	term := &specs.Process{Terminal: true}
	for _, tc := range []struct {
		name     string
		p        *specs.Process
		sock     string
		detached bool
		wantNil  bool
		wantErr  string
	}{
		{name: "no terminal", p: &specs.Process{}, wantNil: true},
		{name: "foreground terminal relays", p: term},
		{name: "socket without terminal", p: &specs.Process{}, sock: "/x", wantErr: "no terminal"},
		{name: "detached without socket", p: term, detached: true, wantErr: "--console-socket"},
		{name: "missing socket", p: term, sock: filepath.Join(t.TempDir(), "none"), detached: true, wantErr: "--console-socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newConsole(tc.p, tc.sock, tc.detached, nil, nil, nil)
			defer c.Close()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || (c == nil) != tc.wantNil {
				t.Fatalf("console = %v, %v", c, err)
			}
		})
	}
}

// TestRelay: stdin reaches the pty, the pty's output reaches stdout, and
// finish returns once the slave is closed.
func TestRelay(t *testing.T) {
	master, slave := newPty(t)
	defer slave.Close()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inW.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	tty := &console{stdin: inR, stdout: outW}
	if err := tty.startRelay(master); err != nil {
		t.Fatal(err)
	}
	defer tty.Close()

	if _, err := inW.WriteString("ping\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(slave).ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("slave read %q, %v", line, err)
	}
	if _, err := slave.WriteString("pong\n"); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(outR)
	// The pty echoes ping, then pong (ONLCR: \r\n).
	for {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "pong") {
			break
		}
	}
	slave.Close()
	done := make(chan struct{})
	go func() { tty.finish(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("finish did not return after the slave closed")
	}
	outW.Close()
	inR.Close()
}
