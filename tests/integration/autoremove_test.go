package integration

// run -d --rm: the container's monitor removes it when it ends (it runs
// rm -f, as Podman's conmon runs its --exit-command): nothing is left.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestRunDetachedRm: a --rm container stopped, and an image's --rm
// container that ends by itself, are removed with everything they had;
// a foreground run takes --rm.
func TestRunDetachedRm(t *testing.T) {
	root := t.TempDir()
	mdi(t, root, "import", rootfsTarball(t, t.TempDir()), "test/bb").wantExit(t, 0)

	detached(t, root, "--rm", "--name", "gone", env.rootfs, "sleep", "1000")
	c := inspectContainer(t, root, "gone")
	if !c.HostConfig.AutoRemove {
		t.Errorf("inspect: HostConfig.AutoRemove false")
	}
	mdi(t, root, "stop", "-t", "1", "gone").wantExit(t, 0)
	waitRemoved(t, root, "gone")
	wantNothingLeft(t, root, c)

	id := detached(t, root, "--rm", "test/bb", "sh", "-c", "echo w >/written")
	waitFor(t, "the image container's removal", func() bool {
		return len(mdi(t, root, "ps", "-a", "-q").lines()) == 0
	})
	for _, dir := range []string{"writable", "runtime"} {
		if entries, _ := os.ReadDir(filepath.Join(root, dir)); len(entries) != 0 {
			t.Errorf("left in %s/: %d entries", dir, len(entries))
		}
	}
	if _, err := os.Stat(filepath.Join(root, "containers", id)); err == nil {
		t.Errorf("left: containers/%s", id)
	}
	mdi(t, root, "rmi", "test/bb").wantExit(t, 0) // no container holds it

	// Without -d, --rm changes nothing: a foreground container is always
	// removed (Docker users type it out of habit).
	if r := mdi(t, root, "run", "--rm", env.rootfs, "echo", "hi"); r.code != 0 || r.stdout != "hi\n" {
		t.Errorf("run --rm in the foreground: want hi\n%s", r)
	}
}

// TestRunDetachedRelativeRoot: with a relative --root, a detached
// container runs (its monitor, which runs in /, gets absolute paths) and
// its --rm removes it.
func TestRunDetachedRelativeRoot(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "r")
	r := startProc(t, false, func(c *exec.Cmd) { c.Dir = dir }, []string{"--root", "r", "run", "-d", "--rm", "--name", "rel", env.rootfs, "sleep", "1000"}).wait(t)
	r.wantExit(t, 0)
	t.Cleanup(func() { mdi(t, root, "rm", "-f", "rel") })
	c := inspectContainer(t, root, "rel")
	if !c.State.Running || !strings.HasPrefix(c.LogPath, root+"/") {
		t.Errorf("inspect: %+v LogPath %s; want running, its log under %s", c.State, c.LogPath, root)
	}
	mdi(t, root, "stop", "-t", "1", "rel").wantExit(t, 0)
	waitRemoved(t, root, "rel")
	wantNothingLeft(t, root, c)
}

// TestWaitAutoRemove: waits begun while a --rm container runs print its
// exit code although its monitor removes it as soon as it ends (Docker's
// wait does); the removal then leaves nothing, and a wait begun after it
// finds no container.
func TestWaitAutoRemove(t *testing.T) {
	root := t.TempDir()
	mdi(t, root, "import", rootfsTarball(t, t.TempDir()), "test/bb").wantExit(t, 0)
	id := detached(t, root, "--rm", "--name", "rmw", "test/bb", "sh", "-c", "while [ ! -e /go ]; do sleep 0.05; done; exit 7")
	c := inspectContainer(t, root, "rmw")
	var waits []*proc
	for range 2 {
		waits = append(waits, startProc(t, false, nil, []string{"--root", root, "wait", "rmw"}))
	}
	// Both waits hold the waiters' lock (flock, shared: /proc/locks
	// lists each) before the container ends.
	lockPath := filepath.Join(root, "containers", id, "waiters")
	waitFor(t, "the waits' hold on the container", func() bool {
		var st syscall.Stat_t
		if syscall.Stat(lockPath, &st) != nil {
			return false
		}
		locks, _ := os.ReadFile("/proc/locks")
		n := 0
		for _, l := range strings.Split(string(locks), "\n") {
			if strings.Contains(l, "FLOCK") && strings.Contains(l, "READ") && strings.Contains(l, fmt.Sprintf(":%d ", st.Ino)) {
				n++
			}
		}
		return n == 2
	})
	// The waits, stopped, miss the container's Exited state: they see it
	// only once it is being removed (its directory renamed; the removal
	// then waits for them).
	for _, w := range waits {
		w.Cmd.Process.Signal(syscall.SIGSTOP)
		t.Cleanup(func() { w.Cmd.Process.Signal(syscall.SIGCONT) })
	}
	mdi(t, root, "exec", "rmw", "touch", "/go").wantExit(t, 0)
	waitFor(t, "the removal's start", func() bool {
		_, err := os.Stat(filepath.Join(root, "containers", id))
		return os.IsNotExist(err)
	})
	for _, w := range waits {
		w.Cmd.Process.Signal(syscall.SIGCONT)
	}
	for _, w := range waits {
		if r := w.wait(t); r.code != 0 || r.stdout != "7\n" {
			t.Errorf("wait on a --rm container that ended: want 7\n%s", r)
		}
	}
	waitRemoved(t, root, "rmw")
	wantNothingLeft(t, root, c)
	r := mdi(t, root, "wait", "rmw")
	r.wantExit(t, 1)
	r.wantStderr(t, "No such container: rmw")
}

// waitRemoved waits until the removal of container name by its monitor
// (--rm) has ended: the record is gone for lookups from its directory's
// rename on, and the renamed directory (~removing-) is deleted after that
// (once no wait holds it), so a check right after the first would race
// the second.
func waitRemoved(t *testing.T, root, name string) {
	t.Helper()
	waitFor(t, "the removal of "+name, func() bool {
		if !strings.Contains(mdi(t, root, "inspect", name).stderr, "No such object") {
			return false
		}
		entries, _ := os.ReadDir(filepath.Join(root, "containers"))
		return !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return strings.HasPrefix(e.Name(), "~removing-") })
	})
}
