package rootfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// PivotRoot makes root the root of the mount namespace and detaches the old
// root (pivot_root(".", ".") as runc does: no directory for the old root is
// needed in the rootfs).
func PivotRoot(root string) error {
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/", Err: err}
	}
	defer unix.Close(oldRoot)
	if err := unix.Chdir(root); err != nil {
		return &os.PathError{Op: "chdir", Path: root, Err: err}
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return &os.PathError{Op: "pivot_root", Path: root, Err: err}
	}
	// The old root is now stacked on the new one at "/". "." is still the
	// new root's mount: go to the old one, make it a slave (recursively),
	// so that the unmounts of its mounts that are shared with the host
	// (shared root propagation) don't reach the host's, and detach it.
	if err := unix.Fchdir(oldRoot); err != nil {
		return &os.PathError{Op: "fchdir", Path: "old root", Err: err}
	}
	if err := SetPropagation(".", unix.MS_SLAVE|unix.MS_REC); err != nil {
		return err
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return &os.PathError{Op: "umount old root", Path: root, Err: err}
	}
	if err := unix.Chdir("/"); err != nil {
		return &os.PathError{Op: "chdir", Path: "/", Err: err}
	}
	return nil
}

// Chroot makes root the process's root directory without touching the
// mount table: for a container that shares the caller's mount namespace
// (no mount namespace in its config), where pivot_root would move the
// caller's root.
func Chroot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return &os.PathError{Op: "chdir", Path: root, Err: err}
	}
	if err := unix.Chroot("."); err != nil {
		return &os.PathError{Op: "chroot", Path: root, Err: err}
	}
	if err := unix.Chdir("/"); err != nil {
		return &os.PathError{Op: "chdir", Path: "/", Err: err}
	}
	return nil
}

// ReadonlyRoot remounts the new root read-only (root.readonly).
func ReadonlyRoot() error {
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err == nil {
		// Keep the flags the bind already has (nosuid, nodev...), or the
		// remount fails with EPERM.
		flags |= uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	}
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return &os.PathError{Op: "remount read-only", Path: "/", Err: err}
	}
	return nil
}
