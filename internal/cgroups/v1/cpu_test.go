package v1

import (
	"testing"

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
		{"shares only", &specs.LinuxCPU{Shares: u64(512)}, "default", "default"},
		{"quota and period", &specs.LinuxCPU{Quota: i64(50000), Period: u64(100000)}, "100000", "50000"},
		{"quota alone", &specs.LinuxCPU{Quota: i64(20000)}, "default", "20000"},
		{"period alone", &specs.LinuxCPU{Period: u64(50000)}, "50000", "-1"},
		{"quota zero is none", &specs.LinuxCPU{Quota: i64(0), Period: u64(100000)}, "100000", "-1"},
		{"quota minus one is none", &specs.LinuxCPU{Quota: i64(-1)}, "default", "-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := controlDir(t)
			writeTestFile(t, dir, cfsPeriod, "default")
			writeTestFile(t, dir, cfsQuota, "default")
			writeTestFile(t, dir, cpuShares, "1024")
			if err := setCPU(dir, &specs.LinuxResources{CPU: tt.cpu}); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, dir, cfsPeriod); got != tt.wantPeriod {
				t.Errorf("%s = %q, want %q", cfsPeriod, got, tt.wantPeriod)
			}
			if got := readFile(t, dir, cfsQuota); got != tt.wantQuota {
				t.Errorf("%s = %q, want %q", cfsQuota, got, tt.wantQuota)
			}
			if tt.cpu != nil && tt.cpu.Shares != nil {
				if got := readFile(t, dir, cpuShares); got != "512" {
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
		{"no quota", &specs.LinuxCPU{Quota: i64(-1)}, false},
		{"quota", &specs.LinuxCPU{Quota: i64(1000)}, true},
		{"period", &specs.LinuxCPU{Period: u64(1000)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wantsCPU(&specs.LinuxResources{CPU: tt.cpu}); got != tt.want {
				t.Errorf("wantsCPU = %v, want %v", got, tt.want)
			}
		})
	}
}
