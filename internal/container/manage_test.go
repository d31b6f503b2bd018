package container

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// fakeCgroups lays out a v1 container cgroup in temporary directories, one
// per controller, with the control files the tests read and write.
func fakeCgroups(t *testing.T, controllers ...string) map[string]string {
	t.Helper()
	files := map[string]map[string]string{
		"memory":  {"cgroup.procs": "42\n7\n", "memory.limit_in_bytes": "104857600", "memory.memsw.limit_in_bytes": "104857600"},
		"pids":    {"cgroup.procs": "42\n7\n", "pids.max": "64"},
		"cpu":     {"cgroup.procs": "42\n7\n", "cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000"},
		"freezer": {"cgroup.procs": "42\n7\n", "freezer.state": "THAWED"},
		"cpuset":  {"cgroup.procs": "42\n7\n", "cpuset.cpus": "0-1", "cpuset.mems": "0"},
	}
	paths := map[string]string{}
	for _, c := range controllers {
		dir := filepath.Join(t.TempDir(), c)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range files[c] {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		paths[c] = dir
	}
	return paths
}

// saveLive saves a container whose init is this test process (alive), in
// status, with the cgroup paths given.
func saveLive(t *testing.T, s *Store, id string, status Status, paths map[string]string) {
	t.Helper()
	h, err := s.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	start, err := proc.StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	st := &State{ID: id, Status: status, Pid: os.Getpid(), PidStartTime: start, CgroupMode: "hybrid", CgroupPaths: paths}
	if err := h.Save(st); err != nil {
		t.Fatal(err)
	}
}

func statusOf(t *testing.T, s *Store, id string) Status {
	t.Helper()
	st, err := StateOf(s, id)
	if err != nil {
		t.Fatal(err)
	}
	return st.Status
}

func readTrimmed(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestPauseResume(t *testing.T) {
	s := newStore(t)
	paths := fakeCgroups(t, "memory", "freezer")
	state := filepath.Join(paths["freezer"], "freezer.state")
	saveLive(t, s, "c", Running, paths)

	if err := Pause(s, "c"); err != nil {
		t.Fatal(err)
	}
	if got := statusOf(t, s, "c"); got != Paused {
		t.Errorf("status after Pause = %s, want paused", got)
	}
	if got := readTrimmed(t, state); got != "FROZEN" {
		t.Errorf("freezer.state after Pause = %q, want FROZEN", got)
	}
	if err := Pause(s, "c"); !errors.Is(err, ErrWrongStatus) {
		t.Errorf("Pause of a paused container = %v, want ErrWrongStatus", err)
	}

	if err := Resume(s, "c"); err != nil {
		t.Fatal(err)
	}
	if got := statusOf(t, s, "c"); got != Running {
		t.Errorf("status after Resume = %s, want running", got)
	}
	if got := readTrimmed(t, state); got != "THAWED" {
		t.Errorf("freezer.state after Resume = %q, want THAWED", got)
	}
	if err := Resume(s, "c"); !errors.Is(err, ErrWrongStatus) {
		t.Errorf("Resume of a running container = %v, want ErrWrongStatus", err)
	}
}

func TestPauseRefused(t *testing.T) {
	s := newStore(t)
	t.Run("stopped", func(t *testing.T) {
		h, err := s.Create("stopped")
		if err != nil {
			t.Fatal(err)
		}
		err = h.Save(&State{ID: "stopped", Status: Running, Pid: 0, CgroupMode: "hybrid", CgroupPaths: fakeCgroups(t, "freezer")})
		h.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := Pause(s, "stopped"); !errors.Is(err, ErrWrongStatus) {
			t.Errorf("Pause of a stopped container = %v, want ErrWrongStatus", err)
		}
	})
	t.Run("no freezer", func(t *testing.T) {
		saveLive(t, s, "nofreezer", Running, fakeCgroups(t, "memory"))
		err := Pause(s, "nofreezer")
		if err == nil || !strings.Contains(err.Error(), "freezer") {
			t.Errorf("Pause without a freezer cgroup = %v, want an error naming the freezer", err)
		}
		if got := statusOf(t, s, "nofreezer"); got != Running {
			t.Errorf("status after a failed Pause = %s, want running", got)
		}
	})
}

func TestPs(t *testing.T) {
	s := newStore(t)
	saveLive(t, s, "c", Running, fakeCgroups(t, "memory", "pids"))
	pids, err := Ps(s, "c")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pids, []int{7, 42}) {
		t.Errorf("Ps = %v, want [7 42]", pids)
	}
	if _, err := Ps(s, "nope"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Ps of a missing container = %v, want ErrNotExist", err)
	}
}

func TestUpdateContainer(t *testing.T) {
	s := newStore(t)
	paths := fakeCgroups(t, "memory", "pids", "cpu", "cpuset")
	saveLive(t, s, "c", Running, paths)

	mem, swap, pids := int64(200<<20), int64(300<<20), int64(5)
	if err := Update(s, "c", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &mem, Swap: &swap}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := Update(s, "c", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &pids}, CPU: &specs.LinuxCPU{Cpus: "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		filepath.Join(paths["cpuset"], "cpuset.cpus"):                 "1",
		filepath.Join(paths["cpuset"], "cpuset.mems"):                 "0",
		filepath.Join(paths["memory"], "memory.limit_in_bytes"):       "209715200",
		filepath.Join(paths["memory"], "memory.memsw.limit_in_bytes"): "314572800",
		filepath.Join(paths["pids"], "pids.max"):                      "5",
		filepath.Join(paths["cpu"], "cpu.cfs_quota_us"):               "50000",
	} {
		if got := readTrimmed(t, file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	b, err := os.ReadFile(filepath.Join(s.root, "c", resourcesName))
	if err != nil {
		t.Fatal(err)
	}
	var saved specs.LinuxResources
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}
	want := specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &mem, Swap: &swap}, Pids: &specs.LinuxPids{Limit: &pids},
		CPU: &specs.LinuxCPU{Cpus: "1"}}
	if !reflect.DeepEqual(saved, want) {
		t.Errorf("saved limits %s, want both updates merged", b)
	}

	weight := uint16(500)
	for _, tc := range []struct {
		r    *specs.LinuxResources
		want string
	}{
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: &weight}}, "cannot update blockIO.weight"},
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}}}, "cannot update hugepageLimits"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Mems: "0-"}}, `linux.resources.cpu.mems "0-"`},
	} {
		if err := Update(s, "c", tc.r, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Update(%+v) = %v, want a refusal naming %q", tc.r, err, tc.want)
		}
	}
}

// TestUpdateWarnsOfIgnored: the kernel memory limits are ignored with a
// warning, as runc does, and the update goes on.
func TestUpdateWarnsOfIgnored(t *testing.T) {
	s := newStore(t)
	paths := fakeCgroups(t, "memory", "pids")
	saveLive(t, s, "c", Running, paths)
	kmem, pids := int64(64<<20), int64(7)
	var log strings.Builder
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: &kmem, KernelTCP: &kmem}, Pids: &specs.LinuxPids{Limit: &pids}}
	if err := Update(s, "c", r, &log); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"warning: linux.resources.memory.kernel is ignored", "warning: linux.resources.memory.kernelTCP is ignored"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log %q lacks %q", log.String(), want)
		}
	}
	if got := readTrimmed(t, filepath.Join(paths["pids"], "pids.max")); got != "7" {
		t.Errorf("pids.max = %q, want 7", got)
	}
}

func TestUpdateStopped(t *testing.T) {
	s := newStore(t)
	h, err := s.Create("c")
	if err != nil {
		t.Fatal(err)
	}
	err = h.Save(&State{ID: "c", Status: Running, CgroupMode: "hybrid", CgroupPaths: fakeCgroups(t, "pids")})
	h.Close()
	if err != nil {
		t.Fatal(err)
	}
	n := int64(3)
	if err := Update(s, "c", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &n}}, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Update of a stopped container = %v, want ErrNotRunning", err)
	}
}

func TestMergeResources(t *testing.T) {
	i := func(n int64) *int64 { return &n }
	u := func(n uint64) *uint64 { return &n }
	base := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i(100), Swap: i(200), Reservation: i(50)},
		CPU:    &specs.LinuxCPU{Quota: i(1000), Period: u(10000), Shares: u(512)},
		Pids:   &specs.LinuxPids{Limit: i(10)},
	}
	tests := []struct {
		name string
		r    *specs.LinuxResources
		want *specs.LinuxResources
	}{
		{"nil", nil, base},
		{"zeros leave", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i(0)}, CPU: &specs.LinuxCPU{Period: u(0)}, Pids: &specs.LinuxPids{Limit: i(0)}}, base},
		{"memory limit", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i(150)}}, &specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: i(150), Swap: i(200), Reservation: i(50)}, CPU: base.CPU, Pids: base.Pids}},
		{"unlimited memory", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i(-1)}}, &specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: i(-1), Swap: i(-1), Reservation: i(50)}, CPU: base.CPU, Pids: base.Pids}},
		{"cpu period and pids", &specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u(20000)}, Pids: &specs.LinuxPids{Limit: i(-1)}}, &specs.LinuxResources{
			Memory: base.Memory, CPU: &specs.LinuxCPU{Quota: i(1000), Period: u(20000), Shares: u(512)}, Pids: &specs.LinuxPids{Limit: i(-1)}}},
		{"cpuset", &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-1"}}, &specs.LinuxResources{
			Memory: base.Memory, CPU: &specs.LinuxCPU{Quota: i(1000), Period: u(10000), Shares: u(512), Cpus: "0-1"}, Pids: base.Pids}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := json.Marshal(base)
			got := MergeResources(base, tt.r)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tt.want)
			if string(gb) != string(wb) {
				t.Errorf("MergeResources = %s, want %s", gb, wb)
			}
			if after, _ := json.Marshal(base); string(after) != string(before) {
				t.Errorf("MergeResources changed base: %s", after)
			}
		})
	}
	if got := MergeResources(nil, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i(4)}}); got.Pids == nil || *got.Pids.Limit != 4 {
		t.Errorf("MergeResources(nil, pids 4) = %+v", got)
	}
}
