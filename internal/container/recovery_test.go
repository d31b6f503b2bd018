package container

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// What killed commands leave, and how the next command deals with it.

// startSleeper starts a process that lives until killed, as a container's
// init; the test kills and reaps it whatever happens.
func startSleeper(t *testing.T) (*exec.Cmd, uint64) {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	start, err := proc.StartTime(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return cmd, start
}

// gone reports whether the process cmd has exited (killed), waiting a
// little for the kill to land.
func gone(cmd *exec.Cmd, start uint64) bool {
	for i := 0; i < 100; i++ {
		if alive, _ := proc.Alive(cmd.Process.Pid, start); !alive {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// TestUnsavedContainer: a create killed before it saved a state leaves a
// directory that loads as a stopped container, which list shows and delete
// removes without --force, freeing the ID.
func TestUnsavedContainer(t *testing.T) {
	s := newStore(t)
	mustCreate(t, s, "c1").Close()
	ids, err := s.List()
	if err != nil || !slices.Equal(ids, []string{"c1"}) {
		t.Fatalf("list = %q, %v", ids, err)
	}
	st, err := StateOf(s, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != "c1" || st.Status != Stopped || st.Pid != 0 || st.Created.IsZero() {
		t.Fatalf("state = %+v, want c1 stopped, no pid, a creation time", st)
	}
	if oci := st.OCI(); oci.Status != "stopped" || oci.Version == "" {
		t.Fatalf("OCI state = %+v", oci)
	}
	if err := Start(s, "c1", Logger{}); !errors.Is(err, ErrWrongStatus) {
		t.Fatalf("start: err = %v, want ErrWrongStatus", err)
	}
	if err := Delete(s, "c1", false, Logger{}); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, s.root); len(names) != 0 {
		t.Fatalf("root holds %q after delete", names)
	}
	mustCreate(t, s, "c1")
}

// TestKilledCreate: a create killed after it saved its plan (creating,
// with its init's pid) shows creating while the init lives; delete kills
// the init and removes the container without --force.
func TestKilledCreate(t *testing.T) {
	s := newStore(t)
	init, start := startSleeper(t)
	h := mustCreate(t, s, "c1")
	if err := h.Save(&State{ID: "c1", Status: Creating, Pid: init.Process.Pid, PidStartTime: start}); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if got := statusOf(t, s, "c1"); got != Creating {
		t.Fatalf("status = %s, want creating", got)
	}
	if err := Delete(s, "c1", false, Logger{}); err != nil {
		t.Fatal(err)
	}
	if !gone(init, start) {
		t.Fatal("the init of the killed create still runs after delete")
	}
	if _, err := s.Open("c1"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("open after delete: err = %v, want ErrNotExist", err)
	}
}

// TestStartRunning: a second start of a running container fails at once,
// also when a start killed after it released the init left the fifo and
// the state created.
func TestStartRunning(t *testing.T) {
	s := newStore(t)
	saveLive(t, s, "running", Running, nil)
	if err := Start(s, "running", Logger{}); !errors.Is(err, ErrRunning) {
		t.Fatalf("start of a running container: err = %v, want ErrRunning", err)
	}

	h := mustCreate(t, s, "released")
	fifo := filepath.Join(h.Dir(), execFifoName)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	start, err := proc.StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// The "init" (this process) holds no fifo: it went past start.
	if err := h.Save(&State{ID: "released", Status: Created, Pid: os.Getpid(), PidStartTime: start, ExecFifo: fifo}); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if got := statusOf(t, s, "released"); got != Running {
		t.Fatalf("status = %s, want running", got)
	}
	done := make(chan error, 1)
	go func() { done <- Start(s, "released", Logger{}) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrRunning) {
			t.Fatalf("second start: err = %v, want ErrRunning", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second start still waits")
	}
}

// TestReadStartMsgPastStart: a start that finds the fifo but an init that
// no longer holds it (released by a start that was then killed) gives up
// instead of waiting for the container's whole life.
func TestReadStartMsgPastStart(t *testing.T) {
	st := fifoState(t)
	// The init is another process, alive, that holds no fifo.
	init, start := startSleeper(t)
	st.Pid, st.PidStartTime = init.Process.Pid, start
	done := make(chan error, 1)
	go func() { done <- openFifo(st, debugLog{}) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrRunning) {
			t.Fatalf("err = %v, want ErrRunning", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("start still waits for an init that went past start")
	}
}

// writeTrash lays out a directory as Remove leaves it when killed: the
// container's directory renamed to root/name, with state st (nil: none)
// and the lock file.
func writeTrash(t *testing.T, s *Store, name string, st *State) string {
	t.Helper()
	dir := filepath.Join(s.root, name)
	if err := os.MkdirAll(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, lockName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if st != nil {
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeAtomic(filepath.Join(dir, stateName), b); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestFinishRemovals: OpenStore finishes the removals killed commands left
// — killing what the state names as still running — and leaves alone the
// one a live command is doing.
func TestFinishRemovals(t *testing.T) {
	s := newStore(t)
	init, start := startSleeper(t)
	killed := writeTrash(t, s, trashPrefix+"a", &State{ID: "c1", Status: Running, Pid: init.Process.Pid, PidStartTime: start})
	// The earlier form: ~removing-N/ID.
	nested := writeTrash(t, s, filepath.Join(trashPrefix+"b", "c2"), &State{ID: "c2", Status: Stopped})
	// Emptied but for a file (killed in RemoveAll), and empty (killed
	// after MkdirTemp, in the earlier form).
	partial := filepath.Join(s.root, trashPrefix+"c")
	if err := os.MkdirAll(partial, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(partial, configName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(s.root, trashPrefix+"d"), 0o711); err != nil {
		t.Fatal(err)
	}
	// Being removed by a live command, which holds its lock.
	busy := writeTrash(t, s, trashPrefix+"e", &State{ID: "c3", Status: Stopped})
	lock, err := os.Open(filepath.Join(busy, lockName))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "live").Close() // a container: not touched

	if _, err := OpenStore(s.root); err != nil {
		t.Fatal(err)
	}
	names := dirNames(t, s.root)
	if !slices.Equal(names, []string{"live", trashPrefix + "e"}) {
		t.Fatalf("root holds %q, want the container and the trash being removed", names)
	}
	if !gone(init, start) {
		t.Fatal("the init named in a killed removal's state still runs")
	}
	for _, d := range []string{killed, filepath.Dir(nested), partial} {
		if _, err := os.Lstat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", d, err)
		}
	}
	// Once its remover is gone, the next command finishes it too.
	lock.Close()
	if _, err := OpenStore(s.root); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, s.root); !slices.Equal(names, []string{"live"}) {
		t.Fatalf("root holds %q, want only the container", names)
	}
}

// TestPlannedCgroup: the record lists what the cgroup's Create will make —
// each container directory and its missing parents, parents first, each
// once — and no directory that exists already.
func TestPlannedCgroup(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"memory", "pids", "cpu,cpuacct/x", "freezer/c1"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	j := func(p string) string { return filepath.Join(root, p) }
	paths := map[string]string{
		"memory":  j("memory/a/b/c1"),
		"pids":    j("pids/c1"),
		"cpu":     j("cpu,cpuacct/x/c1"),
		"cpuacct": j("cpu,cpuacct/x/c1"), // co-mounted: one directory
		"freezer": j("freezer/c1"),       // exists: not this container's
	}
	got, err := plannedCgroup(paths)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{j("cpu,cpuacct/x/c1"), j("memory/a"), j("memory/a/b"), j("memory/a/b/c1"), j("pids/c1")}
	if !slices.Equal(got, want) {
		t.Fatalf("planned %q\nwant %q", got, want)
	}
}

// TestPrune: prune removes the stopped containers that no live run owns
// (a killed run's), and leaves running ones and those whose run is still
// finishing.
func TestPrune(t *testing.T) {
	s := newStore(t)
	self := os.Getpid()
	selfStart, err := proc.StartTime(self)
	if err != nil {
		t.Fatal(err)
	}
	dead := exitedPid(t)
	save := func(st *State) {
		t.Helper()
		h := mustCreate(t, s, st.ID)
		if err := h.Save(st); err != nil {
			t.Fatal(err)
		}
		h.Close()
	}
	save(&State{ID: "killed-run", Status: Running, Pid: dead, PidStartTime: 1, OwnerPid: dead, OwnerStartTime: 1})
	save(&State{ID: "finishing", Status: Running, Pid: dead, PidStartTime: 1, OwnerPid: self, OwnerStartTime: selfStart})
	save(&State{ID: "running", Status: Running, Pid: self, PidStartTime: selfStart, OwnerPid: dead, OwnerStartTime: 1})
	mustCreate(t, s, "unsaved").Close()

	removed, err := Prune(s, Logger{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{"killed-run", "unsaved"}) {
		t.Fatalf("removed %q, want killed-run and unsaved", removed)
	}
	ids, err := s.List()
	if err != nil || !slices.Equal(ids, []string{"finishing", "running"}) {
		t.Fatalf("left %q, %v", ids, err)
	}
}

// TestRemoveKilled: Remove renames the directory out of the ID's way
// first; what a kill after the rename leaves is a trash directory, which
// the next OpenStore removes.
func TestRemoveKilled(t *testing.T) {
	s := newStore(t)
	h := mustCreate(t, s, "c1")
	trash, err := renameToTrash(h.Dir()) // killed here
	if err != nil {
		t.Fatal(err)
	}
	h.Close() // the process died: its lock goes
	if !filepath.IsAbs(trash) || filepath.Dir(trash) != s.root {
		t.Fatalf("trash %s is not in the root %s", trash, s.root)
	}
	mustCreate(t, s, "c1").Close() // the ID is free at once
	if _, err := OpenStore(s.root); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, s.root); !slices.Equal(names, []string{"c1"}) {
		t.Fatalf("root holds %q, want only the new c1", names)
	}
}
