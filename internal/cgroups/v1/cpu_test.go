package v1

import (
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestPlanCPU writes in a new cgroup's files (no quota, the default
// period); nil or zero leaves a value as it is.
func TestPlanCPU(t *testing.T) {
	tests := []struct {
		name       string
		cpu        *specs.LinuxCPU
		wantPeriod string
		wantQuota  string
		wantShares string
	}{
		{"nil", nil, "100000", "-1", "1024"},
		{"shares only", &specs.LinuxCPU{Shares: cgfstest.U64(512)}, "100000", "-1", "512"},
		{"quota and period", &specs.LinuxCPU{Quota: cgfstest.I64(50000), Period: cgfstest.U64(200000)}, "200000", "50000", "1024"},
		{"quota alone", &specs.LinuxCPU{Quota: cgfstest.I64(20000)}, "100000", "20000", "1024"},
		{"period alone", &specs.LinuxCPU{Period: cgfstest.U64(50000)}, "50000", "-1", "1024"},
		{"zeros leave", &specs.LinuxCPU{Quota: cgfstest.I64(0), Period: cgfstest.U64(0), Shares: cgfstest.U64(0)}, "100000", "-1", "1024"},
		{"quota minus one is none", &specs.LinuxCPU{Quota: cgfstest.I64(-1)}, "100000", "-1", "1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := cgfstest.ControlDir(t, controlFiles)
			if err := cgfstest.Set(planCPU, dir, &specs.LinuxResources{CPU: tt.cpu}); err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{cfsPeriod: tt.wantPeriod, cfsQuota: tt.wantQuota, cpuShares: tt.wantShares} {
				if got := cgfstest.ReadFile(t, dir, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}
