package v1

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func limits() *specs.LinuxResources {
	return &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: cgfstest.I64(32 << 20)},
		Pids:   &specs.LinuxPids{Limit: cgfstest.I64(10)},
		CPU:    &specs.LinuxCPU{Quota: cgfstest.I64(50000), Period: cgfstest.U64(100000)},
	}
}

func TestCreateApplyDestroy(t *testing.T) {
	l := newLayout(t, "memory", "pids", "cpu")
	f := &fake{}
	m := newTestManager(t, f, l)
	if err := m.Create(limits()); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"memory": {memoryLimit, "33554432"},
		"pids":   {pidsMax, "10"},
		"cpu":    {cfsQuota, "50000"},
	}
	for c, w := range want {
		if got := m.Path(c); got != l.dirs[c] {
			t.Errorf("Path(%q) = %q, want %q", c, got, l.dirs[c])
		}
		if got := cgfstest.ReadFile(t, l.dirs[c], w[0]); got != w[1] {
			t.Errorf("%s = %q, want %q", w[0], got, w[1])
		}
	}
	if err := m.Apply(4242); err != nil {
		t.Fatal(err)
	}
	for c, dir := range l.dirs {
		if got := cgfstest.ReadFile(t, dir, "cgroup.procs"); got != "4242" {
			t.Errorf("%s cgroup.procs = %q, want 4242", c, got)
		}
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if len(f.Killed()) != 3 || slices.IndexFunc(f.Killed(), func(p int) bool { return p != 4242 }) >= 0 {
		t.Errorf("killed %v, want 4242 once per hierarchy", f.Killed())
	}
	for c, mount := range l.mounts {
		if cgfstest.Exists(filepath.Join(mount, "parent")) {
			t.Errorf("%s: parent directory left behind", c)
		}
		if !cgfstest.Exists(mount) {
			t.Errorf("%s: mount point removed", c)
		}
	}
}

func TestDestroyIdempotent(t *testing.T) {
	l := newLayout(t, "memory", "pids", "cpu")
	m := newTestManager(t, &fake{}, l)
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy before Create: %v", err)
	}
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := m.Destroy(); err != nil {
			t.Fatalf("Destroy #%d: %v", i+1, err)
		}
	}
}

func TestCreateFailureRemovesWhatItMade(t *testing.T) {
	l := newLayout(t, "memory", "pids", "cpu")
	f := &fake{AsDir: pidsMax}
	m := newTestManager(t, f, l)
	err := m.Create(limits())
	want := "write " + filepath.Join(l.dirs["pids"], pidsMax) + ": is a directory"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Create = %v, want an error containing %q", err, want)
	}
	for c, mount := range l.mounts {
		if cgfstest.Exists(filepath.Join(mount, "parent")) {
			t.Errorf("%s: directory left behind after failed Create", c)
		}
	}
}

func TestCreateKeepsExistingParent(t *testing.T) {
	l := newLayout(t, "memory", "pids", "cpu")
	parent := filepath.Join(l.mounts["memory"], "parent")
	if err := os.Mkdir(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, &fake{}, l)
	if err := m.Create(limits()); err != nil {
		t.Fatal(err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if !cgfstest.Exists(parent) {
		t.Error("Destroy removed a parent it did not make")
	}
	if cgfstest.Exists(l.dirs["memory"]) || cgfstest.Exists(filepath.Join(l.mounts["pids"], "parent")) {
		t.Error("Destroy left what it made")
	}
}

func TestCreateRefusesExistingCgroup(t *testing.T) {
	l := newLayout(t, "memory", "pids", "cpu")
	if err := os.MkdirAll(l.dirs["pids"], 0o755); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, &fake{}, l)
	err := m.Create(nil)
	if !errors.Is(err, unix.EEXIST) || !strings.Contains(err.Error(), l.dirs["pids"]) {
		t.Fatalf("Create = %v, want EEXIST naming %s", err, l.dirs["pids"])
	}
	if !cgfstest.Exists(l.dirs["pids"]) {
		t.Error("the existing cgroup was removed")
	}
	if cgfstest.Exists(filepath.Join(l.mounts["memory"], "parent")) {
		t.Error("memory directories left behind")
	}
}

func TestMissingHierarchy(t *testing.T) {
	tests := []struct {
		name    string
		r       *specs.LinuxResources
		wantErr string
	}{
		{"no limit", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(32 << 20)}}, ""},
		{"unlimited", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgfstest.I64(-1)}}, ""},
		{"limit", limits(), "no pids hierarchy is mounted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t, "memory", "cpu")
			m := newTestManager(t, &fake{}, l)
			err := m.Create(tt.r)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m.Path("pids") != "" {
					t.Errorf("Path(pids) = %q, want \"\"", m.Path("pids"))
				}
				if err := m.Destroy(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Create = %v, want %q", err, tt.wantErr)
			}
			if cgfstest.Exists(l.dirs["memory"]) {
				t.Error("Create made directories before failing")
			}
		})
	}
}

func TestDestroyRetriesBusy(t *testing.T) {
	tests := []struct {
		name    string
		busy    int
		wantErr bool
	}{
		{"busy a moment", 3, false},
		{"busy for good", 1 << 30, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t, "memory")
			f := &fake{}
			m := newTestManager(t, f, l)
			if err := m.Create(nil); err != nil {
				t.Fatal(err)
			}
			f.Busy = tt.busy
			err := m.Destroy()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Destroy = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && !errors.Is(err, unix.EBUSY) {
				t.Errorf("Destroy = %v, want EBUSY", err)
			}
			f.Busy = 0
			if err := m.Destroy(); err != nil {
				t.Fatalf("second Destroy: %v", err)
			}
			if cgfstest.Exists(filepath.Join(l.mounts["memory"], "parent")) {
				t.Error("directories left behind")
			}
		})
	}
}

func TestOOMKillCount(t *testing.T) {
	l := newLayout(t, "memory", "pids")
	m := newTestManager(t, &fake{}, l)
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	cgfstest.WriteFile(t, l.dirs["memory"], "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
	n, err := m.OOMKillCount()
	if err != nil || n != 3 {
		t.Fatalf("OOMKillCount = %d, %v, want 3", n, err)
	}

	noMemory := newTestManager(t, &fake{}, newLayout(t, "pids"))
	if _, err := noMemory.OOMKillCount(); err == nil {
		t.Error("OOMKillCount without a memory hierarchy succeeded")
	}
}
