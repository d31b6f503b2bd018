package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLeftoverCheck proves the check that ends every suite: it must see a
// process, a mount and a cgroup directory that an engine instance left,
// let the engine's declared residue pass, and remove all of them.
func TestLeftoverCheck(t *testing.T) {
	requireInterop(t)
	rt := runtimeUnderTest{name: "self", dockerName: "self"}
	dir := instanceDir(t, "self", rt)
	parent := "/" + uniqueName("self", rt)
	l := &leftovers{dir: dir, parents: []string{parent}, residue: []string{parent}}
	l.before = takeSnapshot(t, l.parents)

	// The engine's residue (allowed) and a container's cgroup (not), in
	// every hierarchy.
	for _, d := range parentDirs(parent + "/container") {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	// A process whose command line names the directory: a shell blocked
	// in its read builtin (no child to orphan).
	stdin, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	proc := exec.Command("/bin/sh", "-c", "read x; : "+dir)
	proc.Stdin = stdin
	proc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	waited := false
	t.Cleanup(func() {
		if !waited {
			proc.Process.Kill()
			proc.Wait()
		}
	})

	err = l.check(t)
	if err == nil {
		t.Fatal("the leftover check found nothing")
	}
	t.Logf("the check reported:\n%v", err)
	msg := err.Error()
	for _, want := range []string{"leftover process", "leftover mount: " + mnt, "leftover cgroup directory: ", "/container"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the report does not mention %q", want)
		}
	}
	for _, d := range parentDirs(parent) {
		if strings.Contains(msg, "leftover cgroup directory: "+d+"\n") || strings.HasSuffix(msg, "leftover cgroup directory: "+d) {
			t.Errorf("the engine's residue %s was reported as a leftover", d)
		}
	}

	// Everything is gone afterwards.
	if err := cgroupGone(parent); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", dir, err)
	}
	waited = true
	if err := proc.Wait(); err == nil {
		t.Error("the stray process was not killed")
	}
}
