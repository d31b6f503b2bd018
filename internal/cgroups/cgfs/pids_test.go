package cgfs

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func limit(n int64) *int64 { return &n }

func TestPlanPids(t *testing.T) {
	for _, tt := range []struct {
		name string
		pids *specs.LinuxPids
		want string
	}{
		{"nil", nil, "10"},
		{"no limit", &specs.LinuxPids{}, "10"},
		{"limit", &specs.LinuxPids{Limit: limit(20)}, "20"},
		{"zero leaves it", &specs.LinuxPids{Limit: limit(0)}, "10"},
		{"minus one is max", &specs.LinuxPids{Limit: limit(-1)}, "max"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, PidsMax), []byte("10"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := &specs.LinuxResources{Pids: tt.pids}
			if err := Set([]Controller{{Name: "pids", Plan: PlanPids}}, func(string) string { return dir }, r); err != nil {
				t.Fatal(err)
			}
			if got, err := ReadFile(dir, PidsMax); err != nil || got != tt.want {
				t.Errorf("%s = %q, %v; want %q", PidsMax, got, err, tt.want)
			}
		})
	}
}

// TestPlanPidsMissingFile: a pids.max the kernel did not make is an error
// naming it, and is not created.
func TestPlanPidsMissingFile(t *testing.T) {
	dir := t.TempDir()
	writes, _ := PlanPids(dir, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: limit(10)}})
	err := WriteAll(dir, writes)
	want := "write " + filepath.Join(dir, PidsMax) + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("writing pids.max = %v, want %q", err, want)
	}
	if Exists(dir, PidsMax) {
		t.Errorf("%s was created", PidsMax)
	}
}
