package container

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// TestSaveLoadConfig: the copy taken at create is what later commands read
// for the hooks (the hooks and the annotations their state carries),
// whatever happens to the bundle.
func TestSaveLoadConfig(t *testing.T) {
	h := mustCreate(t, newStore(t), "c1")
	s := &specs.Spec{
		Version:     specs.Version,
		Process:     &specs.Process{Args: []string{"true"}},
		Hooks:       &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Args: []string{"true", "x"}}}},
		Annotations: map[string]string{"k": "v"},
	}
	p, err := saveConfig(h, s)
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(h.Dir(), configName) {
		t.Errorf("config copy at %s", p)
	}
	s.Hooks.Poststop[0].Path = "/changed" // the caller's spec is not the copy
	got, err := loadHooks(&State{ID: "c1", Config: p, Bundle: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if hk := got.Hooks.Poststop; len(hk) != 1 || hk[0].Path != "/bin/true" || hk[0].Args[1] != "x" {
		t.Errorf("loaded hooks = %+v", got.Hooks)
	}
	if got.Annotations["k"] != "v" {
		t.Errorf("loaded annotations = %v", got.Annotations)
	}
	if _, err := loadHooks(&State{ID: "c1", Config: filepath.Join(h.Dir(), "missing")}); err == nil || !strings.Contains(err.Error(), "c1") {
		t.Errorf("missing copy: err = %v", err)
	}
}

// TestWarnHooks: poststart and poststop failures are warnings, one a
// line, and every hook runs.
func TestWarnHooks(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	s := &specs.Spec{Hooks: &specs.Hooks{Poststop: []specs.Hook{
		{Path: "/bin/sh", Args: []string{"sh", "-c", "echo bad >&2; exit 4"}},
		{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + marker}},
		{Path: "/nonexistent"},
	}}}
	var w bytes.Buffer
	poststop(&w, "c1", "/b", s)
	lines := strings.Split(strings.TrimSpace(w.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "warning: poststop hook #0 (/bin/sh): exit status 4: bad") ||
		!strings.Contains(lines[1], "poststop hook #2 (/nonexistent)") {
		t.Errorf("warnings:\n%s", w.String())
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("the hook after a failed one did not run")
	}
	warnHooks(nil, s, "poststop", &specs.State{}) // no writer: no panic
}

// TestHookState: the state a hook gets before the container has a State.
func TestHookState(t *testing.T) {
	s := &specs.Spec{Annotations: map[string]string{"a": "b"}}
	got := hookState("c1", "/b", s, 42, specs.StateCreating)
	want := specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreating, Pid: 42, Bundle: "/b", Annotations: s.Annotations}
	if got.ID != want.ID || got.Status != want.Status || got.Pid != want.Pid || got.Bundle != want.Bundle || got.Version != want.Version || got.Annotations["a"] != "b" {
		t.Errorf("hookState = %+v, want %+v", got, want)
	}
}

// fifoState is a created container's state whose "init" is this test
// process, waiting on a fresh exec fifo.
func fifoState(t *testing.T) *State {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), execFifoName)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	start, err := proc.StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return &State{ID: "c1", Status: Created, Pid: os.Getpid(), PidStartTime: start, ExecFifo: fifo}
}

// initWrites plays the init's side of the exec fifo, as initproc does: hold
// the fifo's directory (O_PATH) from its setup on; then open the fifo
// through that handle (which blocks until start opens it), wait, write msg
// (nil: nothing) and close both.
func initWrites(t *testing.T, fifo string, delay time.Duration, msg []byte) {
	t.Helper()
	dir, err := unix.Open(filepath.Dir(fifo), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer unix.Close(dir)
		fd, err := unix.Openat(dir, filepath.Base(fifo), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Error(err)
			return
		}
		f := os.NewFile(uintptr(fd), fifo)
		time.Sleep(delay)
		if msg != nil {
			f.Write(msg)
		}
		f.Close()
	}()
}

// TestOpenFifo: start waits while the init runs its startContainer hooks,
// and gets their error from the fifo.
func TestOpenFifo(t *testing.T) {
	t.Run("go", func(t *testing.T) {
		st := fifoState(t)
		initWrites(t, st.ExecFifo, 200*time.Millisecond, []byte("0"))
		if err := openFifo(st, debugLog{}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(st.ExecFifo); !os.IsNotExist(err) {
			t.Error("the fifo is left after start")
		}
	})
	t.Run("hook failed", func(t *testing.T) {
		st := fifoState(t)
		initWrites(t, st.ExecFifo, 200*time.Millisecond, []byte("1init startContainer-hooks: startContainer hook #0 (/x): exit status 1\n"))
		err := openFifo(st, debugLog{})
		if err == nil || err.Error() != "start c1: init startContainer-hooks: startContainer hook #0 (/x): exit status 1" {
			t.Fatalf("err = %v", err)
		}
	})
	// After its "0" the init holds its end until execve closes it: start
	// returns (and runs the poststart hooks) only after that.
	t.Run("go waits for the exec", func(t *testing.T) {
		st := fifoState(t)
		var closed atomic.Bool
		go func() {
			f, err := os.OpenFile(st.ExecFifo, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			f.Write([]byte("0"))
			time.Sleep(200 * time.Millisecond) // on its way to execve
			closed.Store(true)
			f.Close()
		}()
		if err := openFifo(st, debugLog{}); err != nil {
			t.Fatal(err)
		}
		if !closed.Load() {
			t.Fatal("openFifo returned after the init's 0, before its end closed (its execve)")
		}
	})
	t.Run("failed after go", func(t *testing.T) {
		st := fifoState(t)
		initWrites(t, st.ExecFifo, 0, []byte("0init exec: exec /bin/x: permission denied"))
		err := openFifo(st, debugLog{})
		if err == nil || err.Error() != "start c1: init exec: exec /bin/x: permission denied" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("closed without a word", func(t *testing.T) {
		st := fifoState(t)
		initWrites(t, st.ExecFifo, 0, nil)
		done := make(chan error, 1)
		go func() { done <- openFifo(st, debugLog{}) }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "without a word") {
				t.Fatalf("err = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("openFifo still waits after the init closed the fifo")
		}
	})
}
