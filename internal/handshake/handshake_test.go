package handshake

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestProtocol walks both ends through the protocol in order, as the parent
// and the child would, and checks that a child's step error arrives typed.
func TestProtocol(t *testing.T) {
	parent, childFile, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	child := &Conn{f: childFile}
	done := make(chan error, 1)
	go func() {
		cfg, err := child.WaitConfig()
		if err != nil {
			done <- err
			return
		}
		if cfg.Spec.Hostname != "box" {
			done <- errors.New("wrong hostname " + cfg.Spec.Hostname)
			return
		}
		if err := child.WaitGo(); err != nil {
			done <- err
			return
		}
		if err := child.SendReady(&Ready{Steps: []StepTime{{"hostname", 3}}}); err != nil {
			done <- err
			return
		}
		if err := child.WaitStart(); err != nil {
			done <- err
			return
		}
		done <- child.SendError(&Error{Step: "exec", Path: "/bin/x", Msg: "no", Code: 127})
		child.Close()
	}()
	if err := parent.SendConfig(&Config{Spec: &specs.Spec{Hostname: "box"}}); err != nil {
		t.Fatal(err)
	}
	if err := parent.SendGo(); err != nil {
		t.Fatal(err)
	}
	r, err := parent.WaitReady()
	if err != nil || len(r.Steps) != 1 || r.Steps[0].Name != "hostname" {
		t.Fatalf("WaitReady = %+v, %v", r, err)
	}
	if err := parent.SendStart(); err != nil {
		t.Fatal(err)
	}
	err = parent.WaitExec()
	var he *Error
	if !errors.As(err, &he) || he.Code != 127 || he.Step != "exec" {
		t.Fatalf("WaitExec = %v, want a typed exec error", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
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
	big := &specs.Spec{Annotations: map[string]string{"big": strings.Repeat("a", MaxFrame)}}
	err = parent.SendConfig(&Config{Spec: big})
	if err == nil || !strings.Contains(err.Error(), "over the limit of 16 MiB") || !strings.Contains(err.Error(), "config") {
		t.Fatalf("SendConfig of %d bytes = %v, want an error naming the 16 MiB limit", MaxFrame, err)
	}
	if err := parent.SendGo(); err != nil {
		t.Fatal(err)
	}
	if err := child.WaitGo(); err != nil {
		t.Fatalf("WaitGo after a refused message = %v", err)
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
		{"typed error", &Error{Step: "mounts", Msg: "no", Code: 125}, false},
		{"other", errors.New("other"), false},
	} {
		if got := Broken(tc.err); got != tc.want {
			t.Errorf("%s: Broken(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
