package v1

import (
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestPlanMemory writes in a new cgroup's files (both limits unlimited).
func TestPlanMemory(t *testing.T) {
	const unlimited = "9223372036854771712"
	tests := []struct {
		name      string
		mem       *specs.LinuxMemory
		noMemsw   bool
		wantLimit string
		wantMemsw string
		wantErr   bool
	}{
		{name: "nil", wantLimit: unlimited, wantMemsw: unlimited},
		{name: "no limit", mem: &specs.LinuxMemory{}, wantLimit: unlimited, wantMemsw: unlimited},
		{name: "limit", mem: &specs.LinuxMemory{Limit: cgfstest.I64(32 << 20)}, wantLimit: "33554432", wantMemsw: unlimited},
		{name: "zero leaves it", mem: &specs.LinuxMemory{Limit: cgfstest.I64(0)}, wantLimit: unlimited, wantMemsw: unlimited},
		{name: "minus one is unlimited", mem: &specs.LinuxMemory{Limit: cgfstest.I64(-1), Swap: cgfstest.I64(-1)}, wantLimit: "-1", wantMemsw: "-1"},
		{name: "limit and swap", mem: &specs.LinuxMemory{Limit: cgfstest.I64(32 << 20), Swap: cgfstest.I64(64 << 20)}, wantLimit: "33554432", wantMemsw: "67108864"},
		{name: "swap zero is left", mem: &specs.LinuxMemory{Limit: cgfstest.I64(100), Swap: cgfstest.I64(0)}, wantLimit: "100", wantMemsw: unlimited},
		{name: "no swap accounting", mem: &specs.LinuxMemory{Limit: cgfstest.I64(100), Swap: cgfstest.I64(200)}, noMemsw: true, wantLimit: "100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var omit []string
			if tt.noMemsw {
				omit = append(omit, memswLimit)
			}
			dir := cgfstest.ControlDir(t, controlFiles, omit...)
			r := &specs.LinuxResources{Memory: tt.mem}
			err := cgfstest.Set(planMemory, dir, r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("planMemory: %v, want error %v", err, tt.wantErr)
			}
			if got := cgfstest.ReadFile(t, dir, memoryLimit); got != tt.wantLimit {
				t.Errorf("%s = %q, want %q", memoryLimit, got, tt.wantLimit)
			}
			if tt.noMemsw {
				if cgfstest.Exists(dir + "/" + memswLimit) {
					t.Errorf("%s was created", memswLimit)
				}
				return
			}
			if got := cgfstest.ReadFile(t, dir, memswLimit); got != tt.wantMemsw {
				t.Errorf("%s = %q, want %q", memswLimit, got, tt.wantMemsw)
			}
		})
	}
}

func TestPlanMemoryMissingFile(t *testing.T) {
	dir := cgfstest.ControlDir(t, controlFiles, memoryLimit)
	err := cgfstest.Set(planMemory, dir, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(100)}})
	want := "open " + dir + "/" + memoryLimit + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("planMemory = %v, want %q", err, want)
	}
}

func TestWantsMemory(t *testing.T) {
	tests := []struct {
		name string
		r    *specs.LinuxResources
		want bool
	}{
		{"nil", nil, false},
		{"no memory", &specs.LinuxResources{}, false},
		{"unlimited", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(-1)}}, false},
		{"limit", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(1)}}, true},
		{"swap", &specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: cgfstest.I64(1)}}, true},
		{"reservation", &specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: cgfstest.I64(1)}}, true},
		{"swappiness", &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: cgfstest.U64(0)}}, true},
		{"OOM killer off", &specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: func() *bool { b := true; return &b }()}}, true},
		{"kernel memory", &specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: cgfstest.I64(1)}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wantsMemory(tt.r); got != tt.want {
				t.Errorf("wantsMemory = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPlanMemoryTuning: the reservation, swappiness and OOM killer switch
// go to their files, as runc writes them; the kernel memory limits to none.
func TestPlanMemoryTuning(t *testing.T) {
	no, yes := false, true
	for _, tc := range []struct {
		name string
		mem  *specs.LinuxMemory
		want map[string]string
	}{
		{"none", &specs.LinuxMemory{}, map[string]string{softLimit: unlimitedV1, swappiness: "60", oomControl: "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"}},
		{"all", &specs.LinuxMemory{Reservation: cgfstest.I64(16 << 20), Swappiness: cgfstest.U64(10), DisableOOMKiller: &yes},
			map[string]string{softLimit: "16777216", swappiness: "10", oomControl: "1"}},
		{"reservation removed, swappiness 0", &specs.LinuxMemory{Reservation: cgfstest.I64(-1), Swappiness: cgfstest.U64(0), DisableOOMKiller: &no},
			map[string]string{softLimit: "-1", swappiness: "0", oomControl: "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"}},
		{"swappiness -1 is unset", &specs.LinuxMemory{Swappiness: cgfstest.U64(1<<64 - 1)}, map[string]string{swappiness: "60"}},
		{"kernel memory ignored", &specs.LinuxMemory{Kernel: cgfstest.I64(1 << 20), KernelTCP: cgfstest.I64(1 << 20)},
			map[string]string{softLimit: unlimitedV1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := cgfstest.ControlDir(t, controlFiles)
			if err := cgfstest.Set(planMemory, dir, &specs.LinuxResources{Memory: tc.mem}); err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.want {
				if got := cgfstest.ReadFile(t, dir, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestPlanMemoryTuningMissingFile(t *testing.T) {
	dir := cgfstest.ControlDir(t, controlFiles, swappiness)
	err := cgfstest.Set(planMemory, dir, &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: cgfstest.U64(30)}})
	want := "linux.resources.memory.swappiness 30: write " + dir + "/" + swappiness + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("planMemory = %v, want %q", err, want)
	}
}
