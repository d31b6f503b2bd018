package v2

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// controlFiles are the files a fake cgroup directory is born with, and
// their content; cgroup.controllers is added from the parent.
var controlFiles = map[string]string{
	"cgroup.procs":           "",
	"cgroup.subtree_control": "",
	"cgroup.kill":            "",
	memoryMax:                "max",
	swapMax:                  "max",
	"memory.events":          "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
	pidsMax:                  "max",
	cpuMax:                   "max 100000",
}

// fake lays cgroups out in a temporary directory as the kernel would.
type fake struct {
	t      *testing.T
	mu     sync.Mutex
	killed []int
	// omit names control files the fake kernel lacks (cgroup.kill before
	// 5.14, memory.swap.max without swap accounting).
	omit []string
	// asDir names a control file made as a directory, so writing it fails.
	asDir string
}

func (f *fake) ops() cgfs.Ops {
	return cgfs.Ops{Mkdir: f.mkdir, Rmdir: f.rmdir, Kill: f.kill, Patience: 100 * time.Millisecond}
}

func (f *fake) mkdir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	subtree, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "cgroup.subtree_control"))
	if err != nil {
		f.t.Fatal(err)
	}
	writeTestFile(f.t, dir, "cgroup.controllers", strings.ReplaceAll(string(subtree), "+", ""))
	for name, content := range controlFiles {
		switch {
		case name == f.asDir:
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
				f.t.Fatal(err)
			}
		case !slices.Contains(f.omit, name):
			writeTestFile(f.t, dir, name, content)
		}
	}
	return nil
}

// rmdir fails with EBUSY, as the kernel does, while dir has child cgroups.
func (f *fake) rmdir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, ok := controlFiles[e.Name()]; !ok && e.IsDir() {
			return &os.PathError{Op: "rmdir", Path: dir, Err: unix.EBUSY}
		}
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return os.Remove(dir)
}

func (f *fake) kill(pid int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.killed = append(f.killed, pid)
	return nil
}

// newMount is a fake cgroup2 mount whose root offers controllers.
func newMount(t *testing.T, controllers string) string {
	t.Helper()
	mount := t.TempDir()
	writeTestFile(t, mount, "cgroup.controllers", controllers)
	writeTestFile(t, mount, "cgroup.subtree_control", "")
	writeTestFile(t, mount, "cgroup.procs", "1\n")
	return mount
}

func newTestManager(t *testing.T, f *fake, dir string) *Manager {
	t.Helper()
	f.t = t
	m := New(dir)
	m.ops = f.ops()
	return m
}

func writeTestFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// controlDir is a directory with the control files in it, for the tests of
// one controller's set function; files in omit are left out.
func controlDir(t *testing.T, omit ...string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range controlFiles {
		if !slices.Contains(omit, name) {
			writeTestFile(t, dir, name, content)
		}
	}
	return dir
}

func i64(n int64) *int64   { return &n }
func u64(n uint64) *uint64 { return &n }
