package rootless

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestOtherUserCantTouch: one rootless user's containers are out of
// another's reach (the second CI user, mdrootless2): its commands don't
// see them (its own store and state), and a kill of their processes,
// or a read of their files, is refused by the kernel.
func TestOtherUserCantTouch(t *testing.T) {
	h := newHome(t)
	other := testenv.RequireRootlessUserNamed(t, testenv.OtherRootlessUserName)
	h2 := newHomeOf(t, other.Name, other.UID, other.GID)

	r := h.md(t, "run", "-d", "--network", "none", "--name", "mine", env.rootfs, "sleep", "1000")
	r.wantExit(t, 0)
	id := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { h.md(t, "rm", "-f", id) })
	r = h.md(t, "inspect", "--format", "{{.State.Pid}}", "mine")
	r.wantExit(t, 0)
	pid := strings.TrimSpace(r.stdout)
	if _, err := strconv.Atoi(pid); err != nil {
		t.Fatalf("inspect: pid %q\n%s", pid, r)
	}

	r = h2.md(t, "ps", "-a", "-q")
	r.wantExit(t, 0)
	if strings.TrimSpace(r.stdout) != "" {
		t.Errorf("%s sees containers: %q", other.Name, r.stdout)
	}
	r = h2.md(t, "exec", "mine", "true")
	if r.code == 0 {
		t.Errorf("%s exec'd into the other user's container\n%s", other.Name, r)
	}
	r = h2.runAs(t, nil, "/bin/kill", "-9", pid)
	if r.code == 0 {
		t.Errorf("%s killed the other user's container's process %s\n%s", other.Name, pid, r)
	}
	r = h2.runAs(t, nil, "/bin/ls", filepath.Join(h.dir, "data", "minimal-docker"))
	if r.code == 0 {
		t.Errorf("%s read the other user's store\n%s", other.Name, r)
	}
	if _, err := os.Stat("/proc/" + pid); err != nil {
		t.Errorf("the container's process is gone: %v", err)
	}
}
