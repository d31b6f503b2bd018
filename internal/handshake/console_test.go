package handshake

import (
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestConsole passes a descriptor with the console message, between other
// frames, and checks that the parent gets the same open file, named as
// runc names it.
func TestConsole(t *testing.T) {
	parent, child, _ := planPair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := rawFrame(KindConsole, []byte(`{"name":"/dev/pts/0"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Sendmsg(child.Fd(), f, unix.UnixRights(int(w.Fd())), nil, 0); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := child.sendRaw(KindReady, le32(0)); err != nil {
		t.Fatal(err)
	}
	m, err := parent.WaitConsole()
	if err != nil {
		t.Fatal(err)
	}
	if m.Name() != "/dev/ptmx" {
		t.Errorf("name = %q, want /dev/ptmx", m.Name())
	}
	if _, err := parent.WaitReady(); err != nil {
		t.Fatal(err)
	}
	// The received descriptor is the pipe's write end: what goes in comes
	// out of r, and closing it (the last writer) gives EOF.
	if _, err := m.WriteString("hi"); err != nil {
		t.Fatal(err)
	}
	m.Close()
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "hi" {
		t.Errorf("read %q, %v; want hi", b, err)
	}
}
