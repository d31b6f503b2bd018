package testenv

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// RequireIdmap skips the test, with the reason, when the kernel can't
// make an idmapped mount of dir (mount_setattr with MOUNT_ATTR_IDMAP:
// Linux 5.12, and a filesystem that has them; tmpfs since 6.3). It probes
// for real: a detached copy of dir idmapped with the user namespace of a
// `cat` started in a new one, then dropped.
func RequireIdmap(t testing.TB, dir string) {
	t.Helper()
	RequireRoot(t)
	if err := probeIdmap(dir); err != nil {
		t.Skipf("SKIPPING: no idmapped mount of %s here: %v", dir, err)
	}
}

func probeIdmap(dir string) error {
	cmd := exec.Command("cat")
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	m := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER, UidMappings: m, GidMappings: m}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		in.Close()
		_ = cmd.Wait()
	}()
	ns, err := os.Open("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/user")
	if err != nil {
		return err
	}
	defer ns.Close()
	t, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return &os.PathError{Op: "open_tree", Path: dir, Err: err}
	}
	defer unix.Close(t)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns.Fd())}
	if err := unix.MountSetattr(t, "", unix.AT_EMPTY_PATH, attr); err != nil {
		return errors.Join(errors.New("mount_setattr(MOUNT_ATTR_IDMAP)"), err)
	}
	return nil
}
