package v2

import (
	"strings"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
)

// freezerDir is a fake cgroup with cgroup.freeze and a cgroup.events that
// reads "frozen FROZEN"; the fake kernel never changes it.
func freezerDir(t *testing.T, frozen string) string {
	t.Helper()
	dir := cgfstest.ControlDir(t, controlFiles)
	cgfstest.WriteFile(t, dir, cgroupFreeze, "0")
	cgfstest.WriteFile(t, dir, cgroupEvents, "populated 1\nfrozen "+frozen+"\n")
	return dir
}

func TestFreeze(t *testing.T) {
	tests := []struct {
		name       string
		events     string // the frozen value cgroup.events reads
		wantErr    string
		wantFreeze string // cgroup.freeze afterwards
	}{
		{"frozen", "1", "", "1"},
		{"never frozen", "0", `still reads "frozen 0"`, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := freezerDir(t, tt.events)
			start := time.Now()
			err := freeze(dir, 20*time.Millisecond)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("freeze = %v, want %q", err, tt.wantErr)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("freeze took %v: the wait is not bounded", d)
			}
			if got := cgfstest.ReadFile(t, dir, cgroupFreeze); got != tt.wantFreeze {
				t.Errorf("%s = %q afterwards, want %q", cgroupFreeze, got, tt.wantFreeze)
			}
		})
	}
}

func TestThaw(t *testing.T) {
	dir := freezerDir(t, "0")
	cgfstest.WriteFile(t, dir, cgroupFreeze, "1")
	if err := New(dir).Thaw(); err != nil {
		t.Fatal(err)
	}
	if got := cgfstest.ReadFile(t, dir, cgroupFreeze); got != "0" {
		t.Errorf("%s = %q after Thaw, want 0", cgroupFreeze, got)
	}
	stuck := freezerDir(t, "1")
	if err := thaw(stuck, 20*time.Millisecond); err == nil || !strings.Contains(err.Error(), `"frozen 1"`) {
		t.Errorf("thaw of a cgroup that stays frozen = %v, want an error", err)
	}
}

func TestFreezeManager(t *testing.T) {
	dir := freezerDir(t, "1")
	if err := New(dir).Freeze(); err != nil {
		t.Fatal(err)
	}
	if got := cgfstest.ReadFile(t, dir, cgroupFreeze); got != "1" {
		t.Errorf("%s = %q after Freeze, want 1", cgroupFreeze, got)
	}
}

func TestFreezeWithoutFreezer(t *testing.T) {
	m := New(cgfstest.ControlDir(t, controlFiles))
	for name, f := range map[string]func() error{"Freeze": m.Freeze, "Thaw": m.Thaw} {
		if err := f(); err == nil || !strings.Contains(err.Error(), "kernel 5.2") {
			t.Errorf("%s without cgroup.freeze = %v, want an error naming the kernel", name, err)
		}
	}
}
