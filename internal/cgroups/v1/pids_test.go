package v1

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSetPids(t *testing.T) {
	tests := []struct {
		name string
		pids *specs.LinuxPids
		want string
	}{
		{"nil", nil, "default"},
		{"no limit", &specs.LinuxPids{}, "default"},
		{"limit", &specs.LinuxPids{Limit: i64(10)}, "10"},
		{"zero is max", &specs.LinuxPids{Limit: i64(0)}, "max"},
		{"minus one is max", &specs.LinuxPids{Limit: i64(-1)}, "max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := controlDir(t)
			writeTestFile(t, dir, pidsMax, "default")
			if err := setPids(dir, &specs.LinuxResources{Pids: tt.pids}); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, dir, pidsMax); got != tt.want {
				t.Errorf("%s = %q, want %q", pidsMax, got, tt.want)
			}
		})
	}
}

func TestSetPidsMissingFile(t *testing.T) {
	dir := controlDir(t, pidsMax)
	if err := setPids(dir, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}}); err == nil {
		t.Fatal("setPids wrote a file the kernel did not make")
	}
	if exists(dir + "/" + pidsMax) {
		t.Errorf("setPids created %s", pidsMax)
	}
}
