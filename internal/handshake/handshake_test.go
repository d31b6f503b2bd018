package handshake

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/plan"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// TestProtocol walks both ends through the protocol in order, as the parent
// and the plan's interpreter would, and checks that the child's error at
// exec arrives typed, naming the op's step and path, with its cause.
func TestProtocol(t *testing.T) {
	parent, child, _ := planPair(t)
	done := make(chan error, 1)
	go func() {
		for _, step := range []func() error{
			func() error { return wantEmpty(child, KindGo) },
			func() error { return child.sendRaw(KindReady, le32(1, 2, 3)) },
			func() error { return wantEmpty(child, KindStart) },
			func() error {
				return child.sendRaw(KindError, append(le32(5, uint32(unix.ENOENT)), plan.CauseNotFound))
			},
		} {
			if err := step(); err != nil {
				done <- err
				return
			}
		}
		done <- child.Close()
	}()
	if err := parent.SendGo(); err != nil {
		t.Fatal(err)
	}
	r, err := parent.WaitReady()
	if err != nil || len(r.Steps) != 1 || r.Steps[0].Name != "mounts" || r.Steps[0].Micros != 3 {
		t.Fatalf("WaitReady = %+v, %v; want mounts, 3us", r, err)
	}
	if err := parent.SendStart(); err != nil {
		t.Fatal(err)
	}
	err = parent.WaitExec()
	var he *Error
	if !errors.As(err, &he) || he.Step != "exec" || he.Path != "sh" || !errors.Is(err, rootfs.ErrNotFound) {
		t.Fatalf("WaitExec = %v, want a typed exec error: not found", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// wantEmpty reads the next frame at c, which must be of kind k with no
// body (the parent's signals).
func wantEmpty(c *Conn, k Kind) error {
	got, body, err := c.recv()
	switch {
	case err != nil:
		return err
	case got != k || len(body) != 0:
		return fmt.Errorf("got %s with %d bytes, want an empty %s", got, len(body), k)
	}
	return nil
}

// TestExecEOF: a clean close (the fd closing at execve) means exec worked.
func TestExecEOF(t *testing.T) {
	parent, childFile, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	childFile.Close()
	if err := parent.WaitExec(); err != nil {
		t.Fatalf("WaitExec after close = %v, want nil", err)
	}
	if _, err := parent.WaitReady(); err == nil {
		t.Fatal("WaitReady after close: want error")
	}
}

// TestFrameLimit: a message over MaxFrame is refused by the sender, naming
// the limit, and nothing is written (the peer still gets the next one).
func TestFrameLimit(t *testing.T) {
	parent, childFile, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	child := &Conn{f: childFile}
	defer child.Close()
	err = parent.sendRaw(KindConfig, make([]byte, MaxFrame))
	if err == nil || !strings.Contains(err.Error(), "over the limit of 16 MiB") || !strings.Contains(err.Error(), "config") {
		t.Fatalf("a config of %d bytes: %v, want an error naming the 16 MiB limit", MaxFrame, err)
	}
	if err := parent.SendGo(); err != nil {
		t.Fatal(err)
	}
	if err := wantEmpty(child, KindGo); err != nil {
		t.Fatalf("Go after a refused message: %v", err)
	}
}

// TestBroken: a peer that is gone is told from a typed error.
func TestBroken(t *testing.T) {
	parent, childFile, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	childFile.Close()
	_, werr := parent.WaitReady()
	serr := parent.SendGo()
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"wait after close", werr, true},
		{"send after close", serr, true},
		{"typed error", &Error{Step: "mounts", Msg: "no"}, false},
		{"other", errors.New("other"), false},
	} {
		if got := Broken(tc.err); got != tc.want {
			t.Errorf("%s: Broken(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestStepError: a step's error becomes a typed one with its path and its
// cause, which survives the handshake; a typed one stays as it is.
func TestStepError(t *testing.T) {
	typed := &Error{Step: "lookup", Msg: "no", Cause: CauseNotFound}
	if got := StepError("other", fmt.Errorf("wrapped: %w", typed)); got != typed {
		t.Errorf("StepError of a typed error = %v, want it as it is", got)
	}
	e := StepError("cwd", &os.PathError{Op: "chdir", Path: "/w", Err: unix.ENOENT})
	if e.Step != "cwd" || e.Path != "/w" || e.Cause != "" || e.Error() != "init cwd: chdir /w: no such file or directory" {
		t.Errorf("StepError = %+v", e)
	}
	e = StepError("exec", fmt.Errorf("%q: %w", "/x", rootfs.ErrNotExecutable))
	if e.Cause != CauseNotExecutable || !errors.Is(e, rootfs.ErrNotExecutable) || errors.Is(e, rootfs.ErrNotFound) {
		t.Errorf("StepError = %+v: want the cause not executable", e)
	}
}
