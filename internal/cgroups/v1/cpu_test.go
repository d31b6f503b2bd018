package v1

import (
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSetCPU(t *testing.T) {
	tests := []struct {
		name       string
		cpu        *specs.LinuxCPU
		wantPeriod string
		wantQuota  string
	}{
		{"nil", nil, "default", "default"},
		{"shares only", &specs.LinuxCPU{Shares: cgfstest.U64(512)}, "default", "default"},
		{"quota and period", &specs.LinuxCPU{Quota: cgfstest.I64(50000), Period: cgfstest.U64(100000)}, "100000", "50000"},
		{"quota alone", &specs.LinuxCPU{Quota: cgfstest.I64(20000)}, "default", "20000"},
		{"period alone", &specs.LinuxCPU{Period: cgfstest.U64(50000)}, "50000", "-1"},
		{"quota zero is none", &specs.LinuxCPU{Quota: cgfstest.I64(0), Period: cgfstest.U64(100000)}, "100000", "-1"},
		{"quota minus one is none", &specs.LinuxCPU{Quota: cgfstest.I64(-1)}, "default", "-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := cgfstest.ControlDir(t, controlFiles)
			cgfstest.WriteFile(t, dir, cfsPeriod, "default")
			cgfstest.WriteFile(t, dir, cfsQuota, "default")
			cgfstest.WriteFile(t, dir, cpuShares, "1024")
			if err := setCPU(dir, &specs.LinuxResources{CPU: tt.cpu}); err != nil {
				t.Fatal(err)
			}
			if got := cgfstest.ReadFile(t, dir, cfsPeriod); got != tt.wantPeriod {
				t.Errorf("%s = %q, want %q", cfsPeriod, got, tt.wantPeriod)
			}
			if got := cgfstest.ReadFile(t, dir, cfsQuota); got != tt.wantQuota {
				t.Errorf("%s = %q, want %q", cfsQuota, got, tt.wantQuota)
			}
			if tt.cpu != nil && tt.cpu.Shares != nil {
				if got := cgfstest.ReadFile(t, dir, cpuShares); got != "512" {
					t.Errorf("%s = %q, want 512", cpuShares, got)
				}
			}
		})
	}
}

func TestWantsCPU(t *testing.T) {
	tests := []struct {
		name string
		cpu  *specs.LinuxCPU
		want bool
	}{
		{"nil", nil, false},
		{"no quota", &specs.LinuxCPU{Quota: cgfstest.I64(-1)}, false},
		{"quota", &specs.LinuxCPU{Quota: cgfstest.I64(1000)}, true},
		{"period", &specs.LinuxCPU{Period: cgfstest.U64(1000)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wantsCPU(&specs.LinuxResources{CPU: tt.cpu}); got != tt.want {
				t.Errorf("wantsCPU = %v, want %v", got, tt.want)
			}
		})
	}
}
