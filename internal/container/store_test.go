package container

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/proc"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := OpenStore(filepath.Join(t.TempDir(), "root"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustCreate(t *testing.T, s *Store, id string) *Handle {
	t.Helper()
	h, err := s.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func TestOpenStoreMode(t *testing.T) {
	s := newStore(t)
	fi, err := os.Stat(s.root)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm()&^0o711 != 0 {
		t.Fatalf("root mode %v, want a directory within 0711", fi.Mode())
	}
	if _, err := OpenStore(""); err == nil {
		t.Fatal("empty root accepted")
	}
}

func TestSaveLoad(t *testing.T) {
	s := newStore(t)
	h := mustCreate(t, s, "c1")
	want := &State{
		OCIVersion:   "1.0.2",
		ID:           "c1",
		Status:       Running,
		Pid:          1234,
		PidStartTime: 56789,
		Bundle:       "/bundle",
		Rootfs:       "/bundle/rootfs",
		Annotations:  map[string]string{"a": "b"},
		Config:       filepath.Join(h.Dir(), "config.json"),
		Created:      time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		ExecFifo:     filepath.Join(h.Dir(), "exec.fifo"),
		CgroupMode:   "v1",
		CgroupPaths:  map[string]string{"memory": "/sys/fs/cgroup/memory/c1"},
		CgroupMade:   []string{"/sys/fs/cgroup/memory/c1"},
	}
	for _, status := range []Status{Creating, Running} { // second save replaces the first
		want.Status = status
		if err := h.Save(want); err != nil {
			t.Fatal(err)
		}
		got, err := h.Load()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("loaded %+v\nsaved %+v", got, want)
		}
	}
	names := dirNames(t, h.Dir())
	if !slices.Equal(names, []string{lockName, stateName}) {
		t.Fatalf("directory holds %q, want only the lock and the state (no temp file)", names)
	}
}

func TestSaveWrongID(t *testing.T) {
	h := mustCreate(t, newStore(t), "c1")
	if err := h.Save(&State{ID: "c2"}); err == nil {
		t.Fatal("saved another container's state")
	}
}

func TestLoadCorrupt(t *testing.T) {
	h := mustCreate(t, newStore(t), "c1")
	if err := os.WriteFile(filepath.Join(h.Dir(), stateName), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Load(); err == nil || errors.Is(err, ErrNotExist) {
		t.Fatalf("err = %v, want a decode error", err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestCreateOpenErrors(t *testing.T) {
	s := newStore(t)
	mustCreate(t, s, "c1").Close()
	tests := []struct {
		name string
		op   func() (*Handle, error)
		want error
	}{
		{"create twice", func() (*Handle, error) { return s.Create("c1") }, ErrExist},
		{"create bad id", func() (*Handle, error) { return s.Create("../c1") }, ErrInvalidID},
		{"open missing", func() (*Handle, error) { return s.Open("nope") }, ErrNotExist},
		{"open bad id", func() (*Handle, error) { return s.Open("..") }, ErrInvalidID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := tt.op()
			if !errors.Is(err, tt.want) {
				if h != nil {
					_ = h.Close()
				}
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestList(t *testing.T) {
	s := newStore(t)
	if ids, err := s.List(); err != nil || len(ids) != 0 {
		t.Fatalf("empty store lists %q, %v", ids, err)
	}
	for _, id := range []string{"b", "a", "c"} {
		mustCreate(t, s, id).Close()
	}
	// Not containers: a file, and a directory whose name is no ID.
	if err := os.WriteFile(filepath.Join(s.root, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(s.root, trashPrefix+"1"), 0o700); err != nil {
		t.Fatal(err)
	}
	ids, err := s.List()
	if err != nil || !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Fatalf("list = %q, %v", ids, err)
	}
}

// tryLock reports whether the container's lock is free, without waiting.
func tryLock(t *testing.T, h *Handle) bool {
	t.Helper()
	f, err := os.Open(filepath.Join(h.Dir(), lockName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func TestLockExcludes(t *testing.T) {
	s := newStore(t)
	h := mustCreate(t, s, "c1")
	if tryLock(t, h) {
		t.Fatal("lock free while Create's handle is held")
	}
	h.Close()
	if !tryLock(t, h) {
		t.Fatal("lock held after Close")
	}
	h2, err := s.Open("c1")
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if tryLock(t, h2) {
		t.Fatal("lock free while Open's handle is held")
	}
}

// TestLockSerializes checks that a second Open returns only after the first
// handle is closed: the first holder marks "closing" before it closes, and
// the second must see that mark once it holds the lock.
func TestLockSerializes(t *testing.T) {
	s := newStore(t)
	mustCreate(t, s, "c1").Close()
	h1, err := s.Open("c1")
	if err != nil {
		t.Fatal(err)
	}
	closing := make(chan struct{})
	type result struct {
		afterClose bool
		err        error
	}
	done := make(chan result)
	go func() {
		h2, err := s.Open("c1")
		if err == nil {
			defer h2.Close()
		}
		select {
		case <-closing:
			done <- result{true, err}
		default:
			done <- result{false, err}
		}
	}()
	close(closing)
	if err := h1.Close(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !r.afterClose {
		t.Fatal("second Open returned while the first handle was held")
	}
}

func TestRemove(t *testing.T) {
	s := newStore(t)
	h := mustCreate(t, s, "c1")
	if err := h.Save(&State{ID: "c1", Status: Created}); err != nil {
		t.Fatal(err)
	}
	// A command that waits for the lock while the container is removed
	// finds no container.
	waited := make(chan error)
	go func() {
		h2, err := s.Open("c1")
		if err == nil {
			h2.Close()
		}
		waited <- err
	}()
	if err := h.Remove(); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if err := <-waited; !errors.Is(err, ErrNotExist) {
		t.Fatalf("waiting Open: err = %v, want ErrNotExist", err)
	}
	if _, err := s.Open("c1"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Open after Remove: err = %v, want ErrNotExist", err)
	}
	if names := dirNames(t, s.root); len(names) != 0 {
		t.Fatalf("root holds %q after Remove", names)
	}
	mustCreate(t, s, "c1") // the ID is free again
}

// TestLive: a container is live while its directory has no state yet, or
// its init or its owner runs; gone without its directory, or once both
// are gone.
func TestLive(t *testing.T) {
	s := newStore(t)
	live := func(id string) bool {
		t.Helper()
		ok, err := s.Live(id)
		if err != nil {
			t.Fatalf("Live(%s): %v", id, err)
		}
		return ok
	}
	if live("absent") {
		t.Errorf("a container not in the store is live")
	}
	h := mustCreate(t, s, "c1")
	if !live("c1") {
		t.Errorf("a container without a state yet (its create at work) is not live")
	}
	self, err := proc.StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// A pid that is not ours with our start time: no process is that.
	dead := State{ID: "c1", Status: Running, Pid: os.Getpid(), PidStartTime: self + 1}
	if err := h.Save(&dead); err != nil {
		t.Fatal(err)
	}
	if live("c1") {
		t.Errorf("a container whose init is gone and that has no owner is live")
	}
	owned := dead
	owned.OwnerPid, owned.OwnerStartTime = os.Getpid(), self
	if err := h.Save(&owned); err != nil {
		t.Fatal(err)
	}
	if !live("c1") {
		t.Errorf("a container whose owner runs is not live")
	}
	running := dead
	running.PidStartTime = self
	if err := h.Save(&running); err != nil {
		t.Fatal(err)
	}
	if !live("c1") {
		t.Errorf("a container whose init runs is not live")
	}
}
