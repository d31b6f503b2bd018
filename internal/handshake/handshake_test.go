package handshake

import (
	"errors"
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
