package cgfs

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func limit(n int64) *int64 { return &n }

func TestSetPids(t *testing.T) {
	for _, tt := range []struct {
		name string
		pids *specs.LinuxPids
		want string
	}{
		{"nil", nil, "default"},
		{"no limit", &specs.LinuxPids{}, "default"},
		{"limit", &specs.LinuxPids{Limit: limit(10)}, "10"},
		{"zero is max", &specs.LinuxPids{Limit: limit(0)}, "max"},
		{"minus one is max", &specs.LinuxPids{Limit: limit(-1)}, "max"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, PidsMax), []byte("default"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := SetPids(dir, &specs.LinuxResources{Pids: tt.pids}); err != nil {
				t.Fatal(err)
			}
			if got, err := ReadFile(dir, PidsMax); err != nil || got != tt.want {
				t.Errorf("%s = %q, %v; want %q", PidsMax, got, err, tt.want)
			}
		})
	}
}

// TestSetPidsMissingFile: a pids.max the kernel did not make is an error
// naming it, and is not created.
func TestSetPidsMissingFile(t *testing.T) {
	dir := t.TempDir()
	err := SetPids(dir, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: limit(10)}})
	want := "write " + filepath.Join(dir, PidsMax) + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("SetPids = %v, want %q", err, want)
	}
	if Exists(dir, PidsMax) {
		t.Errorf("SetPids created %s", PidsMax)
	}
}
