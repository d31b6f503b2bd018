package v1

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// controlFiles are the files a fake cgroup directory is born with, and
// their content.
var controlFiles = map[string]string{
	"cgroup.procs":       "",
	memoryLimit:          "9223372036854771712",
	memswLimit:           "9223372036854771712",
	"memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
	pidsMax:              "max",
	cfsPeriod:            "100000",
	cfsQuota:             "-1",
	devicesAllow:         "",
	devicesDeny:          "",
	devicesList:          "a *:* rwm\n",
}

// fake lays cgroups out in temporary directories as the kernel would.
type fake struct {
	t      *testing.T
	mu     sync.Mutex
	killed []int
	// asDir names a control file made as a directory, so writing it fails.
	asDir string
	// busy is how many rmdir calls fail with EBUSY before one succeeds.
	busy int
}

func (f *fake) ops() cgfs.Ops {
	return cgfs.Ops{Mkdir: f.mkdir, Rmdir: f.rmdir, Kill: f.kill, Patience: 100 * time.Millisecond}
}

func (f *fake) mkdir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for name, content := range controlFiles {
		path := filepath.Join(dir, name)
		if name == f.asDir {
			if err := os.Mkdir(path, 0o755); err != nil {
				f.t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			f.t.Fatal(err)
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
	f.mu.Lock()
	busy := f.busy > 0
	f.busy--
	f.mu.Unlock()
	if busy {
		return &os.PathError{Op: "rmdir", Path: dir, Err: unix.EBUSY}
	}
	for name := range controlFiles {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
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

// layout is a v1 host in a temporary directory: a mount point per
// controller in names, and the container's directory "parent/ctr" in each.
type layout struct {
	mounts map[string]string
	dirs   map[string]string
}

func newLayout(t *testing.T, names ...string) layout {
	t.Helper()
	root := t.TempDir()
	l := layout{mounts: make(map[string]string), dirs: make(map[string]string)}
	for _, name := range names {
		mount := filepath.Join(root, name)
		if err := os.Mkdir(mount, 0o755); err != nil {
			t.Fatal(err)
		}
		l.mounts[name] = mount
		l.dirs[name] = filepath.Join(mount, "parent", "ctr")
	}
	return l
}

func newTestManager(t *testing.T, f *fake, l layout) *Manager {
	t.Helper()
	f.t = t
	m := New(l.dirs)
	m.ops = f.ops()
	return m
}

// readFile returns the content of dir/name, failing the test if it cannot.
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
		if slices.Contains(omit, name) {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func i64(n int64) *int64   { return &n }
func u64(n uint64) *uint64 { return &n }

func writeTestFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
