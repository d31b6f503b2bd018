package v2

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSetCPU(t *testing.T) {
	tests := []struct {
		name string
		cpu  *specs.LinuxCPU
		want string
	}{
		{"nil", nil, "default"},
		{"neither", &specs.LinuxCPU{Shares: u64(512)}, "default"},
		{"quota and period", &specs.LinuxCPU{Quota: i64(50000), Period: u64(100000)}, "50000 100000"},
		{"quota, default period", &specs.LinuxCPU{Quota: i64(20000)}, "20000 100000"},
		{"period alone", &specs.LinuxCPU{Period: u64(50000)}, "max 50000"},
		{"quota zero is max", &specs.LinuxCPU{Quota: i64(0), Period: u64(200000)}, "max 200000"},
		{"quota minus one is max", &specs.LinuxCPU{Quota: i64(-1)}, "max 100000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := controlDir(t)
			writeTestFile(t, dir, cpuMax, "default")
			if err := setCPU(dir, &specs.LinuxResources{CPU: tt.cpu}); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, dir, cpuMax); got != tt.want {
				t.Errorf("%s = %q, want %q", cpuMax, got, tt.want)
			}
		})
	}
}
