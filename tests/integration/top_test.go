package integration

// top: the processes of a running detached container, as the host's ps
// describes them (Docker's columns), and ps options passed on.

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestTop(t *testing.T) {
	// top runs the host's ps, as Docker's does: procps's, for -ef and -o.
	if out, err := exec.Command("ps", "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), "procps") {
		t.Skipf("top needs procps's ps on the host (ps --version: %v %q)", err, out)
	}
	root := t.TempDir()
	detached(t, root, "--name", "tp", env.rootfs, "sleep", "1000")
	pid := strconv.Itoa(inspectContainer(t, root, "tp").State.Pid)

	r := mdi(t, root, "top", "tp")
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) != 2 {
		t.Fatalf("top: want a header and one process (sleep)\n%s", r)
	}
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "UID PID PPID C STIME TTY TIME CMD" {
		t.Errorf("top header: %q, want ps -ef's", lines[0])
	}
	f := strings.Fields(lines[1])
	if len(f) < 9 || f[0] != "root" || f[1] != pid || strings.Join(f[7:], " ") != "sleep 1000" {
		t.Errorf("top row: %q, want root, pid %s, sleep 1000", lines[1], pid)
	}

	r = mdi(t, root, "top", "tp", "-o", "pid,args")
	r.wantExit(t, 0)
	if got := strings.Join(strings.Fields(r.stdout), " "); got != "PID COMMAND "+pid+" sleep 1000" {
		t.Errorf("top -o pid,args: %q, want PID COMMAND %s sleep 1000\n%s", got, pid, r)
	}

	mdi(t, root, "stop", "-t", "0", "tp").wantExit(t, 0)
	r = mdi(t, root, "top", "tp")
	r.wantExit(t, 1)
	r.wantStderr(t, "is not running")
}
