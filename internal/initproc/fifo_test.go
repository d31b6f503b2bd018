package initproc

import (
	"errors"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
)

// TestWaitStartHoldsFifo: after its "0" the init keeps the exec fifo's
// write end open, close-on-exec, so that start sees the end only at the
// init's execve (and runs the poststart hooks after it); an error before
// the exec follows the "0", then the end.
func TestWaitStartHoldsFifo(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "exec.fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// start's end, open before the init opens its own (which would block
	// without a reader).
	r, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(r)
	conn, child, err := handshake.Pair()
	if err != nil {
		t.Fatal(err)
	}
	child.Close()
	s := &state{
		cfg:  &handshake.Config{Settings: handshake.Settings{ExecFifo: fifo}},
		spec: &specs.Spec{Process: &specs.Process{Args: []string{"true"}}},
		fifo: -1,
	}
	if err := openExecFifo(s); err != nil {
		t.Fatal(err)
	}
	if err := waitStart(s, conn); err != nil {
		t.Fatal(err)
	}
	defer startFailed(s, nil)
	read := func() (string, error) {
		buf := make([]byte, 64)
		n, err := unix.Read(r, buf)
		return string(buf[:max(n, 0)]), err
	}
	if got, err := read(); got != "0" || err != nil {
		t.Fatalf("start read %q, %v; want the init's 0", got, err)
	}
	// Still open: no data, and no end either (a read would give 0 bytes).
	if got, err := read(); err != unix.EAGAIN {
		t.Fatalf("start read %q, %v after the 0; want EAGAIN (the init's end still open until its execve)", got, err)
	}
	if s.started == nil {
		t.Fatal("the init holds no end of the fifo")
	}
	if flags, err := unix.FcntlInt(s.started.Fd(), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("the init's end of the fifo is not close-on-exec (flags %#x, %v): execve would not close it", flags, err)
	}
	startFailed(s, errors.New("init exec: boom"))
	if got, err := read(); got != "init exec: boom" || err != nil {
		t.Fatalf("start read %q, %v; want the init's error", got, err)
	}
	if got, err := read(); got != "" || err != nil {
		t.Fatalf("start read %q, %v; want the end", got, err)
	}
}
