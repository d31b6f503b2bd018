package handshake

import (
	"errors"
	"io"
	"os"
	"testing"
)

// TestConsole passes a descriptor with the console message, between other
// frames, and checks that the parent gets the same open file, named.
func TestConsole(t *testing.T) {
	parent, childFile, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	child := &Conn{f: childFile}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	done := make(chan error, 1)
	go func() {
		defer child.Close()
		err := child.SendConsole(w, "/dev/ptmx")
		w.Close()
		if err == nil {
			err = child.SendReady(&Ready{})
		}
		done <- err
	}()
	f, err := parent.WaitConsole()
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != "/dev/ptmx" {
		t.Errorf("name = %q, want /dev/ptmx", f.Name())
	}
	if _, err := parent.WaitReady(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The received descriptor is the pipe's write end: what goes in comes
	// out of r, and closing it (the last writer) gives EOF.
	if _, err := f.WriteString("hi"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "hi" {
		t.Errorf("read %q, %v; want hi", b, err)
	}
}

// TestConsoleError: a step that fails before the console arrives comes back
// typed from WaitConsole.
func TestConsoleError(t *testing.T) {
	parent, childFile, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	child := &Conn{f: childFile}
	defer child.Close()
	if err := child.SendError(&Error{Step: "pivot_root", Msg: "boom"}); err != nil {
		t.Fatal(err)
	}
	_, err = parent.WaitConsole()
	var he *Error
	if !errors.As(err, &he) || he.Step != "pivot_root" {
		t.Fatalf("WaitConsole = %v, want the typed pivot_root error", err)
	}
}
