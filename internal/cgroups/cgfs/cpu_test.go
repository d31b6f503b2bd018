package cgfs

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWantsCPU(t *testing.T) {
	period, shares := uint64(1000), uint64(512)
	tests := []struct {
		name string
		cpu  *specs.LinuxCPU
		want bool
	}{
		{"nil", nil, false},
		{"no quota", &specs.LinuxCPU{Quota: limit(-1)}, false},
		{"quota", &specs.LinuxCPU{Quota: limit(1000)}, true},
		{"period", &specs.LinuxCPU{Period: &period}, true},
		{"shares", &specs.LinuxCPU{Shares: &shares}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WantsCPU(&specs.LinuxResources{CPU: tt.cpu}); got != tt.want {
				t.Errorf("WantsCPU = %v, want %v", got, tt.want)
			}
		})
	}
}
