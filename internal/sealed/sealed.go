// Package sealed gives the runtime a handle on its companion binaries that
// a container cannot write through (CVE-2019-5736): the parent executes
// the container's init from that handle, so /proc/<init>/exe, and any
// "#!/proc/self/exe" trick inside the container, lead to a file that
// can't be opened for writing.
//
// The cheap way (Linux 5.12+): open_tree(OPEN_TREE_CLONE) makes a
// detached bind mount of the binary — attached nowhere, so it is in no
// mount table and goes away with its last fd — and mount_setattr makes
// it read-only: a write open fails with EROFS. It costs a few system
// calls. The fallback copies the binary into a sealed memfd (a few
// milliseconds for a 5 MB binary).
//
// What is sealed is the binary that runs in a container's namespaces:
// minimal-docker-helper beside the runtime (Helper), whose constructor is
// the container's init (it runs the plan) and, for exec, joins the
// container's namespaces before it runs the exec'd process's plan.
package sealed

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Method says how the binary was sealed, for --log-level debug.
type Method string

const (
	// ReadonlyMount is a detached read-only bind mount of the binary.
	ReadonlyMount Method = "read-only detached mount"
	// Memfd is a sealed in-memory copy.
	Memfd Method = "sealed memfd copy"
)

// The runtime's companion binaries, looked for beside its own binary.
const (
	// HelperName is the runtime's cgo half (cmd/minimal-docker-helper):
	// its constructor is the container's init (the plan's interpreter)
	// and joins a container's namespaces for exec; its main compiles
	// seccomp profiles with libseccomp.
	HelperName = "minimal-docker-helper"
	// MonitorName is the monitor of a detached container
	// (cmd/minimal-docker-monitor, C): minimal-docker starts it for
	// run -d, and it drives RuncName.
	MonitorName = "minimal-docker-monitor"
	// RuncName is the OCI runtime front door (cmd/minimal-runc), which
	// the monitor and minimal-docker's verbs of detached containers run.
	RuncName = "minimal-runc"
	// ImageName is minimal-docker built whole (cmd/minimal-docker without
	// the build tag lean): the lean minimal-docker that make build makes
	// hands it pull, load, save and import, whose registry client and
	// archive formats it does not link.
	ImageName = "minimal-docker-image"
)

// InitArg0 is the argv[0] the runtime gives HelperName when it starts it
// as a container's init or exec'd process: what ps shows for it until
// the plan's exec, telling the init from the helper's other uses.
const InitArg0 = "minimal-docker-init"

// Helper returns a sealed fd (as Open's) of HelperName beside this
// process's binary, and its path. There is no fallback: a missing helper
// is an error naming where it was looked for.
func Helper(minFD int) (*os.File, string, Method, error) {
	path, err := Beside(HelperName)
	if err != nil {
		return nil, "", "", err
	}
	f, m, err := Open(path, minFD)
	return f, path, m, err
}

// Beside returns the path of the companion binary name beside this
// process's binary, checked as beside says; a missing one is an
// error that names the path and says how to install it.
func Beside(name string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the runtime's binary: %w", err)
	}
	path, err := beside(self, name)
	if err == nil && path == "" {
		err = fmt.Errorf("%s: %w (install %s beside the runtime: make build puts it in bin/)",
			filepath.Join(filepath.Dir(self), name), fs.ErrNotExist, name)
	}
	return path, err
}

// beside returns name's path beside self, or "" when there is none. It
// must be an executable regular file with the same owner as self that no
// one can write who can't write self: it runs as root.
func beside(self, name string) (string, error) {
	path := filepath.Join(filepath.Dir(self), name)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s %s: not an executable regular file (mode %v)", name, path, fi.Mode())
	}
	own, err := os.Stat(self)
	if err != nil {
		return "", err
	}
	if uid(fi) != uid(own) {
		return "", fmt.Errorf("%s %s: owned by uid %d, the runtime %s by uid %d", name, path, uid(fi), self, uid(own))
	}
	if extra := fi.Mode().Perm() & 0o022 &^ own.Mode().Perm(); extra != 0 {
		return "", fmt.Errorf("%s %s: writable by group or others (mode %v, the runtime's %v); chmod go-w it", name, path, fi.Mode().Perm(), own.Mode().Perm())
	}
	return path, nil
}

func uid(fi fs.FileInfo) uint32 { return fi.Sys().(*syscall.Stat_t).Uid }

// Open returns an fd of the executable file at path that can't be
// written through, numbered minFD or above (so that it survives the
// child's fd shuffling at fork) and close-on-exec. Execute it as
// /proc/self/fd/N; close it once the child has exec'd.
func Open(path string, minFD int) (*os.File, Method, error) {
	fd, err := readonlyMount(path)
	method := ReadonlyMount
	if err != nil {
		fd, err = memfdCopy(path)
		method = Memfd
	}
	if err != nil {
		return nil, "", err
	}
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, minFD)
	unix.Close(fd)
	if err != nil {
		return nil, "", os.NewSyscallError("fcntl(F_DUPFD_CLOEXEC)", err)
	}
	return os.NewFile(uintptr(high), "sealed-exe"), method, nil
}

// readonlyMount opens the binary through a detached read-only bind mount:
// the fd open_tree returns refers to the root of that mount, which is the
// binary itself, and executes as /proc/self/fd/N.
func readonlyMount(path string) (int, error) {
	tree, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, &os.PathError{Op: "open_tree", Path: path, Err: err}
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOSUID}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(tree)
		return -1, &os.PathError{Op: "mount_setattr", Path: path, Err: err}
	}
	return tree, nil
}

// memfdCopy copies the binary into a memfd and seals it against writes.
func memfdCopy(path string) (int, error) {
	src, err := os.Open(path)
	if err != nil {
		return -1, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("minimal-docker", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, os.NewSyscallError("memfd_create", err)
	}
	dst := os.NewFile(uintptr(fd), "memfd")
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return -1, fmt.Errorf("copy %s to a memfd: %w", path, err)
	}
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		dst.Close()
		return -1, os.NewSyscallError("fcntl(F_ADD_SEALS)", err)
	}
	// Keep the fd; dst is not closed (its fd is handed back).
	newfd, err := unix.Dup(fd)
	dst.Close()
	if err != nil {
		return -1, os.NewSyscallError("dup", err)
	}
	return newfd, nil
}

// HelperHold is minimal-docker-helper's command that waits for the end of
// its standard input, then exits 0: a process that holds a user namespace
// open for the runtime (idmapped mounts with a mapping of their own).
const HelperHold = "hold"
