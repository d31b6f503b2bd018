package rootless

import (
	"strings"
	"testing"
)

// TestDetachedLifecycle: detached containers are reached by the user's
// later commands, each a process of its own (they join the user
// namespace the containers are in): ps, exec, kill and stop of
// containers whose processes are not the user's own uid on the host
// (the container's uid 1000), rm; nothing is left of them.
func TestDetachedLifecycle(t *testing.T) {
	h := newHome(t)
	for _, name := range []string{"bg", "bg2"} {
		r := h.md(t, "run", "-d", "--network", "none", "-u", "1000", "--name", name, env.rootfs, "sleep", "1000")
		r.wantExit(t, 0)
		id := strings.TrimSpace(r.stdout)
		t.Cleanup(func() { h.md(t, "rm", "-f", id) })
	}
	r := h.md(t, "ps", "--format", "{{.Names}} {{.Status}}")
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "bg Up") || !strings.Contains(r.stdout, "bg2 Up") {
		t.Errorf("ps: %q, want bg and bg2 Up\n%s", r.stdout, r)
	}
	r = h.md(t, "exec", "-u", "0", "bg", "sh", "-c", "id -u; stat -c %u /proc/1; cat /proc/1/comm")
	r.wantExit(t, 0)
	if r.stdout != "0\n1000\nsleep\n" {
		t.Errorf("exec: %q, want root's, in the container of uid 1000's sleep\n%s", r.stdout, r)
	}
	r = h.md(t, "kill", "bg")
	r.wantExit(t, 0)
	r = h.md(t, "stop", "-t", "1", "bg2")
	r.wantExit(t, 0)
	r = h.md(t, "ps", "-a", "--format", "{{.Names}} {{.Status}}")
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "bg Exited (137)") || !strings.Contains(r.stdout, "bg2 Exited (137)") {
		t.Errorf("ps -a: %q, want both killed (137)\n%s", r.stdout, r)
	}
	r = h.md(t, "rm", "bg", "bg2")
	r.wantExit(t, 0)
	r = h.md(t, "ps", "-a", "-q")
	r.wantExit(t, 0)
	if strings.TrimSpace(r.stdout) != "" {
		t.Errorf("ps -a after rm: %q", r.stdout)
	}
}
