package testenv

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// runNetns is where `ip netns add` pins its namespaces.
const runNetns = "/run/netns"

// AddNetns makes network namespace name with `ip netns add` (skipping the
// test without iproute2's ip) and deletes it when the test ends. The
// first `ip netns add` on a host also bind-mounts /run/netns on itself;
// when this call made the directory, the cleanup undoes that too once
// nothing else is in it, so that no test leaves the mount behind.
func AddNetns(t testing.TB, name string) string {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command (iproute2)")
	}
	_, statErr := os.Stat(runNetns)
	made := errors.Is(statErr, fs.ErrNotExist)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
		if !made {
			return
		}
		if entries, err := os.ReadDir(runNetns); err == nil && len(entries) == 0 {
			for isMountPoint(runNetns) {
				if err := syscall.Unmount(runNetns, syscall.MNT_DETACH); err != nil {
					t.Errorf("umount %s: %v", runNetns, err)
					return
				}
			}
			_ = os.Remove(runNetns)
		}
	})
	return runNetns + "/" + name
}

// isMountPoint reports whether dir is a mount point in this process's
// mount table.
func isMountPoint(dir string) bool {
	mounts, err := ReadMountinfo()
	if err != nil {
		return false
	}
	for _, m := range mounts {
		if m.Mountpoint == dir {
			return true
		}
	}
	return false
}
