// Package cgfstest is the cgroup drivers' test kit: a fake cgroup
// filesystem in temporary directories (Fake, whose Ops the drivers use in
// place of the kernel's), Set to write one controller's plan, and small
// file helpers. For tests only.
package cgfstest

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// Fake lays cgroups out in temporary directories as the kernel would.
type Fake struct {
	T *testing.T
	// Files are the control files a new cgroup directory is born with,
	// and their content.
	Files map[string]string
	// Inherit, if set, adds what a new directory takes from its parent
	// (cgroup v2's cgroup.controllers).
	Inherit func(t *testing.T, dir string)
	// Omit names control files the fake kernel lacks (cgroup.kill before
	// 5.14, memory.swap.max without swap accounting).
	Omit []string
	// AsDir names a control file made as a directory, so writing it fails.
	AsDir string
	// Busy is how many rmdir calls fail with EBUSY before one succeeds.
	Busy int

	mu     sync.Mutex
	killed []int
}

// Ops are the fake's directory and kill operations.
func (f *Fake) Ops() cgfs.Ops {
	return cgfs.Ops{Mkdir: f.mkdir, Rmdir: f.rmdir, Kill: f.kill, Patience: 100 * time.Millisecond}
}

// Killed lists the pids Kill was asked to kill, in order.
func (f *Fake) Killed() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.killed)
}

func (f *Fake) mkdir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if f.Inherit != nil {
		f.Inherit(f.T, dir)
	}
	for name, content := range f.Files {
		switch {
		case name == f.AsDir:
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
				f.T.Fatal(err)
			}
		case !slices.Contains(f.Omit, name):
			WriteFile(f.T, dir, name, content)
		}
	}
	return nil
}

// rmdir fails with EBUSY, as the kernel does, while dir has child cgroups
// (and the first Busy times).
func (f *Fake) rmdir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, ok := f.Files[e.Name()]; !ok && e.IsDir() {
			return &os.PathError{Op: "rmdir", Path: dir, Err: unix.EBUSY}
		}
	}
	f.mu.Lock()
	busy := f.Busy > 0
	f.Busy--
	f.mu.Unlock()
	if busy {
		return &os.PathError{Op: "rmdir", Path: dir, Err: unix.EBUSY}
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return os.Remove(dir)
}

func (f *Fake) kill(pid int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.killed = append(f.killed, pid)
	return nil
}

// ControlDir is a directory with files in it, for the tests of one
// controller's plan function; the names in omit are left out.
func ControlDir(t *testing.T, files map[string]string, omit ...string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if !slices.Contains(omit, name) {
			WriteFile(t, dir, name, content)
		}
	}
	return dir
}

// Set writes r's limits in dir with one controller's plan, as Create and
// Update write them (cgfs.Set).
func Set(plan func(string, *specs.LinuxResources) ([]cgfs.Write, error), dir string, r *specs.LinuxResources) error {
	return cgfs.Set([]cgfs.Controller{{Name: "test", Plan: plan}}, func(string) string { return dir }, r)
}

// WriteFile writes dir/name, failing the test if it cannot.
func WriteFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ReadFile returns the content of dir/name, failing the test if it cannot.
func ReadFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Exists reports whether path exists (a symlink counts).
func Exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// I64 and U64 point at n, for resource fields.
func I64(n int64) *int64 { return &n }

// U64: see I64.
func U64(n uint64) *uint64 { return &n }
