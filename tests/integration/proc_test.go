package integration

import (
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestProcReflectsContainer checks that /proc is a procfs of the
// container's PID namespace.
func TestProcReflectsContainer(t *testing.T) {
	testenv.RequireRoot(t)
	tests := []struct {
		name    string
		command []string
		want    string // the whole stdout
	}{
		// echo is a shell builtin: the shell is the only process.
		{"only container pids", []string{"sh", "-c", "echo /proc/[0-9]*"}, "/proc/1\n"},
		{"PID 1 cmdline", []string{"cat", "/proc/1/cmdline"}, "cat\x00/proc/1/cmdline\x00"},
		{"self is PID 1", []string{"readlink", "/proc/self"}, "1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, nil, tt.command...)
			r.wantExit(t, 0)
			if r.stdout != tt.want {
				t.Errorf("stdout %q, want %q\n%s", r.stdout, tt.want, r)
			}
		})
	}
}

// TestNamespaces checks that the container has its own namespaces of each
// kind that minimal-docker creates, and shares the network namespace with
// --network host.
func TestNamespaces(t *testing.T) {
	testenv.RequireRoot(t)
	kinds := []string{"uts", "ipc", "mnt", "pid", "net", "cgroup"}
	tests := []struct {
		name   string
		flags  []string
		shared map[string]bool // kinds shared with the host
	}{
		{"default", nil, nil},
		{"network host", []string{"--network", "host"}, map[string]bool{"net": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := ""
			for _, k := range kinds {
				script += "readlink /proc/self/ns/" + k + "; "
			}
			r := run(t, tt.flags, "sh", "-c", script)
			r.wantExit(t, 0)
			got := r.lines()
			if len(got) != len(kinds) {
				t.Fatalf("want %d namespace links\n%s", len(kinds), r)
			}
			for i, k := range kinds {
				host := hostNamespace(t, k)
				if same := got[i] == host; same != tt.shared[k] {
					t.Errorf("%s namespace: container %s, host %s; want shared=%v", k, got[i], host, tt.shared[k])
				}
			}
		})
	}
}

// TestProcMounted checks that /proc is a fresh procfs mount.
func TestProcMounted(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, nil, "cat", "/proc/self/mountinfo")
	r.wantExit(t, 0)
	mounts, err := testenv.ParseMountinfo(r.stdout)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		if m.Mountpoint == "/proc" {
			if m.FSType != "proc" {
				t.Errorf("/proc is %s, want proc: %s", m.FSType, m.Line)
			}
			return
		}
	}
	t.Errorf("no mount on /proc\n%s", strings.TrimSpace(r.stdout))
}
