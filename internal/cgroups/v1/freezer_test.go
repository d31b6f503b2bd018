package v1

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
)

// freezerDir is a fake freezer cgroup directory in state.
func freezerDir(t *testing.T, state string) string {
	t.Helper()
	dir := cgfstest.ControlDir(t, controlFiles)
	cgfstest.WriteFile(t, dir, freezerState, state)
	return dir
}

func TestFreezeThaw(t *testing.T) {
	dir := freezerDir(t, thawed)
	m := New(map[string]string{"freezer": dir})
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if got := cgfstest.ReadFile(t, dir, freezerState); got != frozen {
		t.Errorf("after Freeze %s = %q, want %s", freezerState, got, frozen)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if got := cgfstest.ReadFile(t, dir, freezerState); got != thawed {
		t.Errorf("after Thaw %s = %q, want %s", freezerState, got, thawed)
	}
}

func TestFreezeWithoutHierarchy(t *testing.T) {
	m := New(map[string]string{"memory": cgfstest.ControlDir(t, controlFiles)})
	for name, f := range map[string]func() error{"Freeze": m.Freeze, "Thaw": m.Thaw} {
		if err := f(); err == nil || !strings.Contains(err.Error(), "no freezer hierarchy") {
			t.Errorf("%s = %v, want an error naming the missing freezer hierarchy", name, err)
		}
	}
}

func TestFreezeMissingFile(t *testing.T) {
	m := New(map[string]string{"freezer": cgfstest.ControlDir(t, controlFiles)})
	err := m.Freeze()
	if err == nil || !strings.Contains(err.Error(), freezerState) {
		t.Fatalf("Freeze = %v, want an error naming %s", err, freezerState)
	}
}

// TestFreezeWaits drives freeze with a scripted freezer.state: the kernel
// may read FREEZING for a while before FROZEN, or never get there.
func TestFreezeWaits(t *testing.T) {
	tests := []struct {
		name      string
		reads     []string // what freezer.state reads, the last one repeated
		wantErr   string
		wantState string // the file's content afterwards
		// How long freeze may wait: long where it must not run out (a
		// slow machine must not fail the test), short where it must.
		wait time.Duration
	}{
		{"frozen at once", []string{frozen}, "", frozen, time.Minute},
		{"freezing a while", []string{freezing, freezing, freezing, frozen}, "", frozen, time.Minute},
		{"stuck freezing", []string{freezing}, "still FREEZING", thawed, 20 * time.Millisecond},
		{"unexpected state", []string{"BOGUS"}, `reads "BOGUS"`, thawed, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := freezerDir(t, thawed)
			n := 0
			read := func() (string, error) {
				s := tt.reads[min(n, len(tt.reads)-1)]
				n++
				return s, nil
			}
			start := time.Now()
			err := freeze(dir, tt.wait, read)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("freeze = %v, want %q", err, tt.wantErr)
			}
			if d := time.Since(start); d > tt.wait+time.Minute {
				t.Errorf("freeze took %v: the wait is not bounded", d)
			}
			if got := cgfstest.ReadFile(t, dir, freezerState); got != tt.wantState {
				t.Errorf("%s = %q afterwards, want %s", freezerState, got, tt.wantState)
			}
		})
	}
}

func TestFreezerIsManaged(t *testing.T) {
	if !slices.Contains(Controllers(), "freezer") {
		t.Fatalf("Controllers() = %v, want freezer among them", Controllers())
	}
	l := newLayout(t, "memory", "freezer")
	m := newTestManager(t, &fake{}, l)
	if err := m.Create(limits()); err == nil {
		t.Fatal("Create with a pids limit and no pids hierarchy succeeded")
	}
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	if m.Path("freezer") != l.dirs["freezer"] || !cgfstest.Exists(l.dirs["freezer"]) {
		t.Errorf("Path(freezer) = %q; want %q, made", m.Path("freezer"), l.dirs["freezer"])
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if cgfstest.Exists(filepath.Join(l.mounts["freezer"], "parent")) {
		t.Error("freezer directories left behind")
	}
}

// TestDestroyFrozen: frozen processes act on SIGKILL only once thawed, so
// Destroy kills them while frozen and then thaws the cgroup.
func TestDestroyFrozen(t *testing.T) {
	l := newLayout(t, "memory", "freezer")
	f := &fake{}
	m := newTestManager(t, f, l)
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	fdir := l.dirs["freezer"]
	cgfstest.WriteFile(t, fdir, freezerState, thawed)
	rmdir := m.ops.Rmdir
	var stateAtRmdir string
	m.ops.Rmdir = func(dir string) error {
		if dir == fdir {
			stateAtRmdir = cgfstest.ReadFile(t, dir, freezerState)
		}
		return rmdir(dir)
	}
	var statesAtKill []string
	kill := m.ops.Kill
	m.ops.Kill = func(pid int) error {
		if s, err := os.ReadFile(filepath.Join(fdir, freezerState)); err == nil {
			statesAtKill = append(statesAtKill, string(s))
		}
		return kill(pid)
	}
	if err := m.Apply(4242); err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if len(statesAtKill) == 0 || statesAtKill[0] != frozen {
		t.Errorf("freezer.state at each kill: %q; want the first kill while %s", statesAtKill, frozen)
	}
	if stateAtRmdir != thawed {
		t.Errorf("freezer.state = %q when its cgroup was removed, want %s: frozen processes do not die", stateAtRmdir, thawed)
	}
	if !slices.Contains(f.Killed(), 4242) {
		t.Errorf("killed %v, want 4242", f.Killed())
	}
	if cgfstest.Exists(filepath.Join(l.mounts["freezer"], "parent")) {
		t.Error("freezer directories left behind")
	}
}
