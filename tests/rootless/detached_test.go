package rootless

import (
	"fmt"
	"os"
	"strings"
	"sync"
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

// TestRootIsSubordinate: root in a rootless container is, on the host,
// the user's first subordinate uid and gid (nobody there): not root, and
// not the user; with --userns=keep-id the process is the user itself.
func TestRootIsSubordinate(t *testing.T) {
	h := newHome(t)
	for _, c := range []struct {
		name     string
		flags    []string
		uid, gid uint32
	}{
		{"default", nil, env.subuid.Start, env.subgid.Start},
		{"keep-id", []string{"--userns=keep-id"}, uint32(env.uid), uint32(env.gid)},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.md(t, append(append([]string{"run", "-d", "--network", "none"}, c.flags...), env.rootfs, "sleep", "1000")...)
			r.wantExit(t, 0)
			id := strings.TrimSpace(r.stdout)
			t.Cleanup(func() { h.md(t, "rm", "-f", id) })
			r = h.md(t, "inspect", "--format", "{{.State.Pid}}", id)
			r.wantExit(t, 0)
			status, err := os.ReadFile("/proc/" + strings.TrimSpace(r.stdout) + "/status")
			if err != nil {
				t.Fatalf("the container's process on the host: %v", err)
			}
			want := fmt.Sprintf("Uid:\t%[1]d\t%[1]d\t%[1]d\t%[1]d\nGid:\t%[2]d\t%[2]d\t%[2]d\t%[2]d\n", c.uid, c.gid)
			if !strings.Contains(string(status), want) {
				t.Errorf("the container's process on the host:\n%s\nwant %q", status, want)
			}
		})
	}
}

// TestFirstCommandsAtOnce: commands started at the same moment with no
// container running share one user namespace (the first one makes it,
// the others wait for it on the holders' list and join it): each
// container can be reached by any later command.
func TestFirstCommandsAtOnce(t *testing.T) {
	h := newHome(t)
	const n = 4
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := h.md(t, "run", "-d", "--network", "none", env.rootfs, "sleep", "1000")
			if r.code != 0 {
				t.Errorf("run -d %d: exit %d\n%s", i, r.code, r)
				return
			}
			ids[i] = strings.TrimSpace(r.stdout)
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, id := range ids {
			if id != "" {
				h.md(t, "rm", "-f", id)
			}
		}
	})
	if t.Failed() {
		return
	}
	var first string
	for _, id := range ids {
		r := h.md(t, "inspect", "--format", "{{.State.Pid}}", id)
		r.wantExit(t, 0)
		ns, err := os.Readlink("/proc/" + strings.TrimSpace(r.stdout) + "/ns/user")
		if err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = ns
		} else if ns != first {
			t.Errorf("container %s is in user namespace %s, the first in %s: want one", id, ns, first)
		}
	}
}
