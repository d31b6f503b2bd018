package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// MaskPaths hides linux.maskedPaths from the container. It runs after
// pivot_root, so every path is resolved inside the container: /dev/null (the
// container's) is bound over a file, an empty read-only tmpfs is mounted over
// a directory, and a path that does not exist is skipped.
func MaskPaths(paths []string) error {
	for _, p := range paths {
		if err := maskPath(p); err != nil {
			return fmt.Errorf("linux.maskedPaths %s: %w", p, err)
		}
	}
	return nil
}

func maskPath(p string) error {
	if !filepath.IsAbs(p) {
		return errors.New("not an absolute path")
	}
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
	if err := unix.Mount("/dev/null", p, "", unix.MS_BIND, ""); err != nil {
		if errors.Is(err, unix.ENOENT) {
			if _, serr := os.Stat("/dev/null"); serr != nil {
				return fmt.Errorf("masking a file needs /dev/null in the container: %w", serr)
			}
			return nil // the path vanished meanwhile
		}
		return &os.PathError{Op: "bind /dev/null", Path: p, Err: err}
	}
	return nil
}

// ReadonlyPaths makes linux.readonlyPaths read-only inside the container
// (after pivot_root): each is bound onto itself, with what is mounted
// beneath it, and the whole tree is made read-only (mount_setattr with
// AT_RECURSIVE; on kernels before 5.12 a remount makes the top mount
// read-only). A path that does not exist is skipped.
func ReadonlyPaths(paths []string) error {
	for _, p := range paths {
		if err := readonlyPath(p); err != nil {
			return fmt.Errorf("linux.readonlyPaths %s: %w", p, err)
		}
	}
	return nil
}

func readonlyPath(p string) error {
	if !filepath.IsAbs(p) {
		return errors.New("not an absolute path")
	}
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
