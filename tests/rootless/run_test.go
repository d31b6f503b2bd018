package rootless

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRootfs: a user runs a root filesystem of its own and is root in
// the container, which is its first subordinate uid on the host, its
// other subordinate ids after it and its own uid last; without a
// delegated cgroup the container runs without limits, and says so.
func TestRunRootfs(t *testing.T) {
	h := newHome(t)
	for _, netMode := range []string{"none", "host"} {
		t.Run(netMode, func(t *testing.T) {
			r := h.run(t, []string{"--network", netMode}, "sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; echo out; echo err >&2; exit 3")
			r.wantExit(t, 3)
			want := fmt.Sprintf("0\n0\n0 %d %d\n%d %d 1\n0 %d %d\n%d %d 1\nout\n",
				env.subuid.Start, env.subuid.Count, env.subuid.Count, env.uid,
				env.subgid.Start, env.subgid.Count, env.subgid.Count, env.gid)
			if got := squeeze(r.stdout); got != want {
				t.Errorf("stdout %q, want %q\n%s", got, want, r)
			}
			r.wantStderr(t, "err\n")
			// The notice: once without a delegated cgroup, never with one
			// (the container has a cgroup and the default limits there).
			notices := 1
			if h.delegated != "" {
				notices = 0
			}
			if n := strings.Count(r.stderr, "the container runs without resource limits"); n != notices {
				t.Errorf("the notice %d times, want %d (delegated cgroup: %q)\n%s", n, notices, h.delegated, r)
			}
		})
	}
	// The state went under $XDG_RUNTIME_DIR, nothing is left of the runs.
	dir := filepath.Join(h.dir, "run", "minimal-docker", "containers")
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("%s: %v %v; want an empty directory", dir, ents, err)
	}
}

// squeeze collapses the runs of blanks of uid_map's columns.
func squeeze(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, "\n")
}

// TestOwnersOnTheHost: what the container's users create on a bind mount
// belongs on the host to the user's subordinate ids (container root's to
// the first), never to root nor to the user; a setuid-root binary made
// in the container is setuid to that subordinate id alone on the host.
func TestOwnersOnTheHost(t *testing.T) {
	h := newHome(t)
	vol := h.userDir(t, "vol")
	if err := os.Chmod(vol, 0o777); err != nil { // for uid 1000 inside too
		t.Fatal(err)
	}
	r := h.run(t, []string{"--network", "none", "-v", vol + ":/vol"}, "sh", "-c",
		"touch /vol/by-root && cp /bin/busybox /vol/suid && chmod 4755 /vol/suid")
	r.wantExit(t, 0)
	r = h.run(t, []string{"--network", "none", "-u", "1000:1000", "-v", vol + ":/vol"}, "touch", "/vol/by-1000")
	r.wantExit(t, 0)
	for _, c := range []struct {
		file     string
		uid, gid uint32
	}{
		{"by-root", env.subuid.Start, env.subgid.Start},
		{"by-1000", env.subuid.Start + 1000, env.subgid.Start + 1000},
		{"suid", env.subuid.Start, env.subgid.Start},
	} {
		if uid, gid := owner(t, filepath.Join(vol, c.file)); uid != c.uid || gid != c.gid {
			t.Errorf("%s: owned by %d:%d on the host, want %d:%d", c.file, uid, gid, c.uid, c.gid)
		}
	}
}

// TestLimitsNeedACgroup: a limit asked for that can't be applied (no
// delegated cgroup v2) is an error, and no container runs.
func TestLimitsNeedACgroup(t *testing.T) {
	h := newHome(t)
	if r := h.run(t, []string{"--network", "none"}, "true"); !strings.Contains(r.stderr, "without resource limits") {
		t.Skipf("the user has a delegated cgroup here: limits apply\n%s", r)
	}
	for _, flags := range [][]string{{"--memory", "64m"}, {"--pids-limit", "10"}, {"--cpus", "1"}} {
		t.Run(flags[0], func(t *testing.T) {
			r := h.run(t, append([]string{"--network", "none"}, flags...), "sh", "-c", "echo ran")
			r.wantExit(t, 125)
			r.wantStderr(t, "can't be applied", "delegated")
			if strings.Contains(r.stdout, "ran") {
				t.Errorf("the container ran\n%s", r)
			}
		})
	}
	// "Unlimited" asks for nothing.
	r := h.run(t, []string{"--network", "none", "--memory", "0", "--pids-limit", "-1"}, "true")
	r.wantExit(t, 0)
}

// TestBadEnvironment: without a usable $XDG_RUNTIME_DIR, a clear error
// that names it; a bridge network is refused, naming what works.
func TestBadEnvironment(t *testing.T) {
	h := newHome(t)
	for _, c := range []struct {
		name  string
		extra []string
		want  string
	}{
		{"unset", []string{"XDG_RUNTIME_DIR="}, "$XDG_RUNTIME_DIR is not set"},
		{"missing", []string{"XDG_RUNTIME_DIR=" + filepath.Join(h.dir, "missing")}, "no such file or directory"},
		{"not-ours", []string{"XDG_RUNTIME_DIR=/tmp"}, "belongs to uid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.runAs(t, c.extra, env.bin, "run", "--network", "none", env.rootfs, "true")
			r.wantExit(t, 125)
			r.wantStderr(t, c.want, "XDG_RUNTIME_DIR")
		})
	}
	r := h.run(t, []string{"--network", "bridge"}, "true")
	r.wantExit(t, 125)
	r.wantStderr(t, "bridge networks need root", "pasta", "slirp4netns")
}

// TestKeepID: --userns=keep-id runs the process as the user's own uid and
// gid, and what it writes on a bind mount is the user's on the host.
func TestKeepID(t *testing.T) {
	h := newHome(t)
	vol := h.userDir(t, "vol")
	r := h.run(t, []string{"--network", "none", "--userns", "keep-id", "-v", vol + ":/vol"}, "sh", "-c", "id -u; id -g; touch /vol/mine")
	r.wantExit(t, 0)
	if want := fmt.Sprintf("%d\n%d\n", env.uid, env.gid); r.stdout != want {
		t.Errorf("stdout %q, want %q\n%s", r.stdout, want, r)
	}
	if uid, gid := owner(t, filepath.Join(vol, "mine")); uid != uint32(env.uid) || gid != uint32(env.gid) {
		t.Errorf("/vol/mine: %d:%d on the host, want the user's %d:%d", uid, gid, env.uid, env.gid)
	}
	// --userns=auto is root's.
	r = h.run(t, []string{"--network", "none", "--userns", "auto"}, "true")
	r.wantExit(t, 125)
	r.wantStderr(t, "--userns=auto: needs root")
}

// TestUnshare: `unshare` runs a command as root of the rootless user
// namespace, where the user can remove what belongs to its subordinate
// ids on the host (the store) and can't from outside; a command not
// found is 127; as root, unshare is refused.
func TestUnshare(t *testing.T) {
	h := newHome(t)
	r := h.md(t, "unshare", "sh", "-c", "id -u; cat /proc/self/uid_map")
	r.wantExit(t, 0)
	want := fmt.Sprintf("0\n0 %d %d\n%d %d 1\n", env.subuid.Start, env.subuid.Count, env.subuid.Count, env.uid)
	if got := squeeze(r.stdout); got != want {
		t.Errorf("unshare: %q, want %q\n%s", got, want, r)
	}
	// A container's file on a bind mount: its root's, a subordinate id.
	vol := h.userDir(t, "vol")
	r = h.run(t, []string{"--network", "none", "-v", vol + ":/vol"}, "sh", "-c", "mkdir /vol/d && touch /vol/d/f && chmod 755 /vol/d")
	r.wantExit(t, 0)
	r = h.runAs(t, nil, "/bin/rm", "-rf", filepath.Join(vol, "d"))
	if r.code == 0 {
		t.Fatalf("the user removed its subordinate id's directory from outside: want a refusal\n%s", r)
	}
	r = h.md(t, "unshare", "rm", "-rf", filepath.Join(vol, "d"))
	r.wantExit(t, 0)
	if _, err := os.Stat(filepath.Join(vol, "d")); !os.IsNotExist(err) {
		t.Errorf("%s after unshare rm -rf: %v", filepath.Join(vol, "d"), err)
	}
	r = h.md(t, "unshare", "no-such-command")
	r.wantExit(t, 127)
	r.wantStderr(t, "no-such-command")
}

// TestUnshareAsRoot: root has no rootless namespace to enter: an error
// saying so, 125.
func TestUnshareAsRoot(t *testing.T) {
	out, err := exec.Command(env.bin, "--root", t.TempDir(), "unshare", "true").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 125 || !strings.Contains(string(out), "only for a rootless user") {
		t.Errorf("unshare as root: %v\n%s; want exit 125 and the reason", err, out)
	}
}
