package v2

import (
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestPlanCPU writes in a new cgroup's cpu.max ("max 100000"): what r does
// not set (nil or zero) is kept.
func TestPlanCPU(t *testing.T) {
	tests := []struct {
		name string
		cpu  *specs.LinuxCPU
		want string
	}{
		{"nil", nil, "max 100000"},
		{"shares only", &specs.LinuxCPU{Shares: cgfstest.U64(512)}, "max 100000"},
		{"quota and period", &specs.LinuxCPU{Quota: cgfstest.I64(50000), Period: cgfstest.U64(100000)}, "50000 100000"},
		{"quota, default period", &specs.LinuxCPU{Quota: cgfstest.I64(20000)}, "20000 100000"},
		{"period alone", &specs.LinuxCPU{Period: cgfstest.U64(50000)}, "max 50000"},
		{"quota zero leaves max", &specs.LinuxCPU{Quota: cgfstest.I64(0), Period: cgfstest.U64(200000)}, "max 200000"},
		{"quota minus one is max", &specs.LinuxCPU{Quota: cgfstest.I64(-1)}, "max 100000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := cgfstest.ControlDir(t, controlFiles)
			cgfstest.WriteFile(t, dir, cpuWeight, "100")
			if err := cgfstest.Set(planCPU, dir, &specs.LinuxResources{CPU: tt.cpu}); err != nil {
				t.Fatal(err)
			}
			if got := cgfstest.ReadFile(t, dir, cpuMax); got != tt.want {
				t.Errorf("%s = %q, want %q", cpuMax, got, tt.want)
			}
			if tt.cpu != nil && tt.cpu.Shares != nil {
				if got, want := cgfstest.ReadFile(t, dir, cpuWeight), "20"; got != want {
					t.Errorf("%s = %q, want %q (shares 512)", cpuWeight, got, want)
				}
			}
		})
	}
}

func TestSharesToWeight(t *testing.T) {
	for shares, want := range map[uint64]uint64{0: 0, 2: 1, 1024: 39, 262144: 10000, 1 << 30: 10000} {
		if got := sharesToWeight(shares); got != want {
			t.Errorf("sharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}
