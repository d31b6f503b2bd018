package integration

import (
	"sort"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestDevHoldsOnlyListedNodes checks /dev's listing, each node's type and
// numbers, each link's target and each mount.
func TestDevHoldsOnlyListedNodes(t *testing.T) {
	testenv.RequireRoot(t)
	t.Run("listing", func(t *testing.T) {
		r := run(t, nil, "ls", "-A", "/dev")
		r.wantExit(t, 0)
		got := strings.Fields(r.stdout)
		sort.Strings(got)
		want := []string{"fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm",
			"stderr", "stdin", "stdout", "tty", "urandom", "zero"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("/dev holds %v, want %v", got, want)
		}
	})
	t.Run("nodes", func(t *testing.T) {
		nodes := []struct{ name, want string }{ // busybox stat: %F type, %t:%T major:minor in hex
			{"/dev/null", "character special file 1:3"},
			{"/dev/zero", "character special file 1:5"},
			{"/dev/full", "character special file 1:7"},
			{"/dev/random", "character special file 1:8"},
			{"/dev/urandom", "character special file 1:9"},
			{"/dev/tty", "character special file 5:0"},
		}
		args := []string{"stat", "-c", "%n %F %t:%T"}
		for _, n := range nodes {
			args = append(args, n.name)
		}
		r := run(t, nil, args...)
		r.wantExit(t, 0)
		got := r.lines()
		if len(got) != len(nodes) {
			t.Fatalf("want %d lines\n%s", len(nodes), r)
		}
		for i, n := range nodes {
			if want := n.name + " " + n.want; got[i] != want {
				t.Errorf("stat %s: %q, want %q", n.name, got[i], want)
			}
		}
	})
	t.Run("links", func(t *testing.T) {
		links := []struct{ name, want string }{
			{"/dev/fd", "/proc/self/fd"},
			{"/dev/stdin", "/proc/self/fd/0"},
			{"/dev/stdout", "/proc/self/fd/1"},
			{"/dev/stderr", "/proc/self/fd/2"},
			{"/dev/ptmx", "pts/ptmx"},
		}
		script := ""
		for _, l := range links {
			script += "readlink " + l.name + "; "
		}
		r := run(t, nil, "sh", "-c", script)
		r.wantExit(t, 0)
		got := r.lines()
		if len(got) != len(links) {
			t.Fatalf("want %d lines\n%s", len(links), r)
		}
		for i, l := range links {
			if got[i] != l.want {
				t.Errorf("%s -> %q, want -> %q", l.name, got[i], l.want)
			}
		}
	})
	t.Run("mounts", func(t *testing.T) {
		r := run(t, nil, "cat", "/proc/self/mountinfo")
		r.wantExit(t, 0)
		mounts, err := testenv.ParseMountinfo(r.stdout)
		if err != nil {
			t.Fatal(err)
		}
		fstypes := map[string]string{}
		for _, m := range mounts {
			fstypes[m.Mountpoint] = m.FSType
		}
		for point, want := range map[string]string{"/dev": "tmpfs", "/dev/pts": "devpts", "/dev/shm": "tmpfs", "/dev/mqueue": "mqueue"} {
			if fstypes[point] != want {
				t.Errorf("%s is %q, want %s", point, fstypes[point], want)
			}
		}
	})
	t.Run("devpts is a new instance", func(t *testing.T) {
		r := run(t, nil, "ls", "-A", "/dev/pts")
		r.wantExit(t, 0)
		if got := strings.Fields(r.stdout); len(got) != 1 || got[0] != "ptmx" {
			t.Errorf("/dev/pts holds %v, want only ptmx (the host's ptys must not show)", got)
		}
	})
}

// TestDevNodesWork uses the device nodes.
func TestDevNodesWork(t *testing.T) {
	testenv.RequireRoot(t)
	tests := []struct {
		name   string
		script string
		want   string
	}{
		{"null", "echo x > /dev/null && wc -c < /dev/null", "0"},
		{"zero", "head -c 4 /dev/zero | od -An -tx1", "00 00 00 00"},
		{"urandom", "head -c 16 /dev/urandom | wc -c", "16"},
		{"full", "if echo x > /dev/full; then echo wrote; else echo ENOSPC; fi", "ENOSPC"},
		{"shm writable", "echo x > /dev/shm/f && cat /dev/shm/f", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, nil, "sh", "-c", tt.script)
			r.wantExit(t, 0)
			if got := strings.TrimSpace(r.stdout); got != tt.want {
				t.Errorf("stdout %q, want %q\n%s", got, tt.want, r)
			}
		})
	}
}
