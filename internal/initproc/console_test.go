package initproc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
)

// envTerminalChild makes the test binary the child of TestTerminal.
const envTerminalChild = "MD_TEST_TERMINAL_CHILD"

// TestTerminal runs Terminal in a re-executed test binary (it changes the
// process's session and stdio) with the host's /dev/ptmx, receives the
// master over the handshake as the runtime does, and reads what the child
// reports about its terminal through it.
func TestTerminal(t *testing.T) {
	if os.Getenv(envTerminalChild) == "1" {
		terminalChild()
		return
	}
	if _, err := os.Stat(ptmxPath); err != nil {
		t.Skipf("no %s: %v", ptmxPath, err)
	}
	parent, childEnd, err := handshake.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTerminal$")
	cmd.Env = append(os.Environ(), envTerminalChild+"=1", handshake.EnvFD+"=3")
	cmd.ExtraFiles = []*os.File{childEnd}
	err = cmd.Start()
	childEnd.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	master, err := parent.WaitConsole()
	if err != nil {
		t.Fatalf("WaitConsole: %v", err)
	}
	defer master.Close()
	if master.Name() != ptmxPath {
		t.Errorf("master named %q, want %s", master.Name(), ptmxPath)
	}
	out := make(chan string, 1)
	go func() {
		// Until EIO: the child, the slave's last holder, has exited.
		b, _ := io.ReadAll(master)
		out <- string(b)
	}()
	var got string
	select {
	case got = <-out:
	case <-time.After(30 * time.Second):
		t.Fatal("no EIO from the master 30s after start")
	}
	for _, want := range []string{"size=24x80", "leader=true", "ctty=true", "stdio=/dev/pts/"} {
		if !strings.Contains(got, want) {
			t.Errorf("child reports %q, want %q in it", got, want)
		}
	}
}

// terminalChild is the re-executed side of TestTerminal: Terminal, then a
// report on stdout (the pty), then exit.
func terminalChild() {
	conn, err := handshake.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	p := &specs.Process{ConsoleSize: &specs.Box{Height: 24, Width: 80}, User: specs.User{UID: uint32(os.Getuid())}}
	if err := Terminal(conn, p, false); err != nil {
		_ = conn.SendError(&handshake.Error{Step: "console", Msg: err.Error()})
		os.Exit(1)
	}
	conn.Close()
	ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
	if err != nil {
		ws = &unix.Winsize{}
	}
	sid, _ := unix.Getsid(0)
	fg, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	ctty := err == nil && fg == unix.Getpgrp()
	var names []string
	for fd := 0; fd <= 2; fd++ {
		l, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		if err != nil {
			l = err.Error()
		}
		names = append(names, l)
	}
	stdio := names[0]
	if names[1] != stdio || names[2] != stdio {
		stdio = strings.Join(names, ",")
	}
	fmt.Printf("size=%dx%d leader=%v ctty=%v stdio=%s\n", ws.Row, ws.Col, sid == unix.Getpid(), ctty, stdio)
	os.Exit(0)
}

// TestOpenPty: a new pty's slave is unlocked, named by its number, and
// passes bytes to the master.
func TestOpenPty(t *testing.T) {
	master, slavePath, err := openPty(ptmxPath)
	if errors.Is(err, unix.ENOENT) {
		t.Skipf("no %s", ptmxPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	if !strings.HasPrefix(slavePath, "/dev/pts/") {
		t.Errorf("slave path %q", slavePath)
	}
	if err := resize(master, &specs.Box{Height: 70000, Width: 1}); err == nil {
		t.Error("a height above 65535 was accepted")
	}
	slave, err := openSlave(master, slavePath)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(slave)
	var a, b unix.Stat_t
	if err := unix.Fstat(slave, &a); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(slavePath, &b); err != nil {
		t.Fatal(err)
	}
	if a.Rdev != b.Rdev {
		t.Errorf("the opened slave is not %s", slavePath)
	}
	if _, err := unix.Write(slave, []byte("x\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	n, err := master.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "x") {
		t.Errorf("master read %q, %v", buf[:n], err)
	}
}
