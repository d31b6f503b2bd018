package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// CheckPaths checks linux.readonlyPaths and linux.maskedPaths before
// anything is made: each an absolute path in the container.
func CheckPaths(readonly, masked []string) error {
	for _, l := range []struct {
		field string
		paths []string
	}{{"linux.readonlyPaths", readonly}, {"linux.maskedPaths", masked}} {
		for _, p := range l.paths {
			if !filepath.IsAbs(p) {
				return fmt.Errorf("%s %s: not an absolute path", l.field, p)
			}
		}
	}
	return nil
}

// MaskPaths hides linux.maskedPaths (checked: CheckPaths) from the
// container. It runs after pivot_root, so every path is resolved inside
// the container: /dev/null (the container's) is bound over a file, an
// empty read-only tmpfs is mounted over a directory, and a path that does
// not exist is skipped.
func MaskPaths(paths []string) error {
	null, err := openDevNull()
	if err != nil {
		return fmt.Errorf("linux.maskedPaths: %w", err)
	}
	if null >= 0 {
		defer unix.Close(null)
	}
	for _, p := range paths {
		if err := maskPath(p, null); err != nil {
			return fmt.Errorf("linux.maskedPaths %s: %w", p, err)
		}
	}
	return nil
}

// openDevNull opens the container's /dev/null without following a
// symlink, and checks that it is the null device (1:3): a rootfs whose
// /dev/null leads elsewhere (say to /proc/sys/kernel/core_pattern) must
// not get that file bound over the masked paths (CVE-2025-31133). -1 when
// there is no /dev/null (then only directories can be masked).
func openDevNull() (int, error) {
	fd, err := unix.Open("/dev/null", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return -1, nil
	}
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: "/dev/null", Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, &os.PathError{Op: "fstat", Path: "/dev/null", Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		unix.Close(fd)
		return -1, fmt.Errorf("/dev/null in the container is not the null device (mode %#o, device %d:%d): refusing to bind it over masked paths",
			st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	return fd, nil
}

// maskPath masks p; null is an O_PATH fd of the checked /dev/null, or -1.
func maskPath(p string, null int) error {
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		flags := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
		if err := unix.Mount("tmpfs", p, "tmpfs", flags, "mode=0755"); err != nil {
			return &os.PathError{Op: "mount read-only tmpfs", Path: p, Err: err}
		}
		return nil
	}
	if null < 0 {
		return errors.New("masking a file needs /dev/null in the container")
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", null), p, "", unix.MS_BIND, ""); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil // the path vanished meanwhile
		}
		return &os.PathError{Op: "bind /dev/null", Path: p, Err: err}
	}
	return nil
}

// ReadonlyPaths makes linux.readonlyPaths (checked: CheckPaths) read-only
// inside the container (after pivot_root): each is bound onto itself, with
// what is mounted beneath it, and the whole tree is made read-only
// (mount_setattr with AT_RECURSIVE; on kernels before 5.12 a remount makes
// the top mount read-only). A path that does not exist is skipped.
func ReadonlyPaths(paths []string) error {
	for _, p := range paths {
		if err := readonlyPath(p); err != nil {
			return fmt.Errorf("linux.readonlyPaths %s: %w", p, err)
		}
	}
	return nil
}

func readonlyPath(p string) error {
	if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return &os.PathError{Op: "bind onto itself", Path: p, Err: err}
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	err := unix.MountSetattr(unix.AT_FDCWD, p, unix.AT_RECURSIVE, &attr)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.ENOSYS) {
		return &os.PathError{Op: "mount_setattr read-only (recursive)", Path: p, Err: err}
	}
	return remountReadonly(p)
}

// remountReadonly makes the mount at p read-only, keeping the flags the
// bind already has (nosuid, nodev, noexec), or the remount fails with EPERM.
func remountReadonly(p string) error {
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return &os.PathError{Op: "statfs", Path: p, Err: err}
	}
	flags |= uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if err := unix.Mount("", p, "", flags, ""); err != nil {
		return &os.PathError{Op: "remount read-only", Path: p, Err: err}
	}
	return nil
}
