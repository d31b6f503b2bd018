package rootless

// The user's delegated cgroup v2 (issue 18: "limits only where the user
// has a delegated cgroup"): where systemd (or, in the v2 lane, its init.sh)
// has delegated user@UID.service to the user, each of the user's commands
// starts in a leaf beneath it (app.slice/md-test-*.scope, as systemd
// --user places a user's programs), and its containers' cgroups go
// beside that leaf, beneath user@UID.service (cgroups.DelegatedRoot). On
// a host without one (a hybrid or v1 host, or no user@UID.service of the
// user's) the tests here skip, saying why.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
)

// delegatedCgroup returns the cgroup v2 that systemd delegates to the
// user uid at login (user@UID.service, Delegate=yes) where the host has
// one owned by the user; else "" and why not.
func delegatedCgroup(uid int) (dir, why string) {
	h, err := cgroups.FindHierarchies()
	if err != nil {
		return "", err.Error()
	}
	if h.Mode != cgroups.V2 {
		return "", fmt.Sprintf("the host's cgroups are %v, not v2 alone: no cgroup is delegated to a user (the v2 lane, make test-cgroupv2, has one)", h.Mode)
	}
	dir = filepath.Join(h.Unified, "user.slice", fmt.Sprintf("user-%d.slice", uid), fmt.Sprintf("user@%d.service", uid))
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return "", fmt.Sprintf("no delegated cgroup for uid %d: %v (systemd makes it at the user's login; the v2 lane's init.sh makes it)", uid, err)
	}
	if st.Uid != uint32(uid) {
		return "", fmt.Sprintf("%s is not delegated to uid %d: its owner is %d", dir, uid, st.Uid)
	}
	return dir, ""
}

// enterDelegated finds h's user's delegated cgroup and makes the leaf its
// commands start in (h.command), owned by the user as systemd --user's
// scopes are. Its cleanup, which runs once the user's processes are gone,
// fails the test for every cgroup left beneath the delegated one besides
// the leaf (and app.slice, if made here), and kills and removes them all.
func (h *home) enterDelegated(t *testing.T) {
	t.Helper()
	h.delegated, h.noDelegation = delegatedCgroup(h.uid)
	if h.delegated == "" {
		return
	}
	before, err := cgroupsBeneath(h.delegated)
	if err != nil {
		t.Fatal(err)
	}
	var ours []string // made here, in the order made
	t.Cleanup(func() {
		if h.leaf != nil {
			h.leaf.Close()
		}
		now, err := cgroupsBeneath(h.delegated)
		if err != nil {
			t.Error(err)
		}
		var gone []string
		for _, d := range now {
			if !slices.Contains(before, d) && !slices.Contains(ours, d) {
				t.Errorf("cgroup left behind: %s", d)
				gone = append(gone, d)
			}
		}
		for i := len(ours) - 1; i >= 0; i-- {
			gone = append(gone, ours[i])
		}
		removeCgroups(t, gone)
	})
	apps := filepath.Join(h.delegated, "app.slice")
	if !slices.Contains(before, apps) {
		if err := userCgroup(apps, h.uid, h.gid); err != nil {
			t.Fatal(err)
		}
		ours = append(ours, apps)
	}
	leaf := filepath.Join(apps, fmt.Sprintf("md-test-%d.scope", time.Now().UnixNano()))
	if err := userCgroup(leaf, h.uid, h.gid); err != nil {
		t.Fatal(err)
	}
	ours = append(ours, leaf)
	if h.leaf, err = os.Open(leaf); err != nil {
		t.Fatal(err)
	}
}

// userCgroup makes the cgroup dir and gives it to the user as systemd's
// Delegate=yes does: the directory, cgroup.procs, cgroup.subtree_control
// and cgroup.threads.
func userCgroup(dir string, uid, gid int) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"} {
		if err := os.Chown(filepath.Join(dir, f), uid, gid); err != nil {
			return errors.Join(err, os.Remove(dir))
		}
	}
	return nil
}

// cgroupsBeneath lists the cgroups beneath dir.
func cgroupsBeneath(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// removeCgroups kills what runs in each cgroup of dirs (cgroup.kill) and
// removes them, children before their parents.
func removeCgroups(t *testing.T, dirs []string) {
	slices.SortStableFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range dirs {
		_ = os.WriteFile(filepath.Join(d, "cgroup.kill"), []byte("1"), 0)
		var err error
		for deadline := time.Now().Add(env.timeout); ; time.Sleep(50 * time.Millisecond) {
			if err = os.Remove(d); err == nil || errors.Is(err, fs.ErrNotExist) || time.Now().After(deadline) {
				break
			}
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("remove the cgroup %s: %v", d, err)
		}
	}
}

// readCgroupFile is a cgroup file's content, trimmed.
func readCgroupFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestDelegatedCgroup: a user with a delegated cgroup v2 gets containers
// with cgroups of their own beneath it, beside the cgroup its commands run
// in; the limits asked for are in the kernel's files and enforced (an
// allocation over the memory limit is OOM-killed, a fork over the pids
// limit fails), the default limits apply without a notice and the
// container's root can't lift them, pause,
// unpause and stats work, and rm leaves no cgroup (enterDelegated checks).
func TestDelegatedCgroup(t *testing.T) {
	h := newHome(t)
	if h.delegated == "" {
		t.Skip(h.noDelegation)
	}

	t.Run("detached: limits, pause, stats, rm", func(t *testing.T) {
		r := h.md(t, "run", "-d", "--network", "none", "--name", "lim", "-m", "32m", "--pids-limit", "20", "--cpus", "0.5", env.rootfs, "sleep", "1000")
		r.wantExit(t, 0)
		id := strings.TrimSpace(r.stdout)
		t.Cleanup(func() { h.md(t, "rm", "-f", id) })
		dir := filepath.Join(h.delegated, id)
		for _, f := range []struct{ file, want string }{
			{"memory.max", "33554432"}, {"pids.max", "20"}, {"cpu.max", "50000 100000"},
		} {
			if got := readCgroupFile(t, dir, f.file); got != f.want {
				t.Errorf("%s/%s = %q, want %q", dir, f.file, got, f.want)
			}
		}
		r = h.md(t, "inspect", "--format", "{{.State.Pid}}", "lim")
		r.wantExit(t, 0)
		if procs := strings.Fields(readCgroupFile(t, dir, "cgroup.procs")); !slices.Contains(procs, strings.TrimSpace(r.stdout)) {
			t.Errorf("%s/cgroup.procs = %v, want the container's init %s in it", dir, procs, r.stdout)
		}

		r = h.md(t, "pause", "lim")
		r.wantExit(t, 0)
		if ev := readCgroupFile(t, dir, "cgroup.events"); !strings.Contains(ev, "frozen 1") {
			t.Errorf("after pause, %s/cgroup.events:\n%s", dir, ev)
		}
		r = h.md(t, "ps", "--format", "{{.Names}} {{.Status}}")
		r.wantExit(t, 0)
		if !strings.Contains(r.stdout, "(Paused)") {
			t.Errorf("ps after pause: %q, want (Paused)", r.stdout)
		}
		r = h.md(t, "unpause", "lim")
		r.wantExit(t, 0)
		if ev := readCgroupFile(t, dir, "cgroup.events"); !strings.Contains(ev, "frozen 0") {
			t.Errorf("after unpause, %s/cgroup.events:\n%s", dir, ev)
		}

		r = h.md(t, "stats", "--no-stream", "--format", "{{.MemUsage}}|{{.PIDs}}", "lim")
		r.wantExit(t, 0)
		if !regexp.MustCompile(`^[0-9.]+[KMG]?i?B / 32MiB\|1\n$`).MatchString(r.stdout) {
			t.Errorf("stats: %q, want USAGE / 32MiB|1\n%s", r.stdout, r)
		}

		r = h.md(t, "rm", "-f", "lim")
		r.wantExit(t, 0)
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after rm -f, %s: %v, want it gone", dir, err)
		}
	})

	t.Run("memory over the limit", func(t *testing.T) {
		// dd's buffer of 100 MiB, filled from /dev/zero, is touched at once.
		r := h.run(t, []string{"--network", "none", "-m", "32m"}, "dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1")
		r.wantExit(t, 137)
		r.wantStderr(t, "container was killed: out of memory (limit 32MiB)")
	})
	t.Run("memory under the limit", func(t *testing.T) {
		r := h.run(t, []string{"--network", "none", "-m", "32m"}, "dd", "if=/dev/zero", "of=/dev/null", "bs=8M", "count=1")
		r.wantExit(t, 0)
	})

	t.Run("pids limit", func(t *testing.T) {
		r := h.run(t, []string{"--network", "none", "--pids-limit", "10"}, "sh", "-c", "i=0; while [ $i -lt 20 ]; do sleep 60 & i=$((i+1)); done; echo all-forked")
		if r.code == 0 || strings.Contains(r.stdout, "all-forked") {
			t.Errorf("forked 20 processes under --pids-limit 10\n%s", r)
		}
		if !regexp.MustCompile(`can't fork|Resource temporarily unavailable`).MatchString(r.stderr) {
			t.Errorf("stderr does not say the fork failed\n%s", r)
		}
	})

	t.Run("default limits, no notice, not liftable inside", func(t *testing.T) {
		r := h.run(t, []string{"--network", "none"}, "sh", "-c",
			"cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; echo max > /sys/fs/cgroup/memory.max && echo lifted; cat /sys/fs/cgroup/memory.max")
		r.wantExit(t, 0)
		if r.stdout != "268435456\n64\n268435456\n" {
			t.Errorf("memory.max and pids.max inside, then memory.max after a write of max: %q, want the defaults 256m and 64, kept\n%s", r.stdout, r)
		}
		if strings.Contains(r.stderr, "without resource limits") {
			t.Errorf("a notice of no limits, with a delegated cgroup\n%s", r)
		}
	})
}
