package v1

import (
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSetMemory(t *testing.T) {
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
		{name: "zero is unlimited", mem: &specs.LinuxMemory{Limit: cgfstest.I64(0)}, wantLimit: "-1", wantMemsw: unlimited},
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
			err := setMemory(dir, r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("setMemory: %v, want error %v", err, tt.wantErr)
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

func TestSetMemoryMissingFile(t *testing.T) {
	dir := cgfstest.ControlDir(t, controlFiles, memoryLimit)
	err := setMemory(dir, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(100)}})
	want := "write " + dir + "/" + memoryLimit + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("setMemory = %v, want %q", err, want)
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wantsMemory(tt.r); got != tt.want {
				t.Errorf("wantsMemory = %v, want %v", got, tt.want)
			}
		})
	}
}
