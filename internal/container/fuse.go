package container

// fuse-overlayfs (Podman's mount_program): where the kernel's overlay
// can't be mounted (a rootless runtime on a kernel before 5.11, a store
// without user xattrs), an image's root is a FUSE filesystem served by
// fuse-overlayfs. The runtime never attaches it anywhere: it opens
// /dev/fuse, makes the FUSE mount detached (fsopen, fsmount) on that
// descriptor, and starts fuse-overlayfs on it (mount point /dev/fd/N:
// libfuse's "the caller mounted it"); the init moves the tree onto
// root.path as it moves an idmapped one (handshake.Settings.RootTree).
// The container's mount namespace then holds the only reference: when
// it goes (the container's end, a failed start, rm), the kernel ends the
// FUSE connection, and fuse-overlayfs, reading ENODEV, exits. Until the
// tree is sent, the runtime's descriptor is the only reference, so a
// failure half-way (or a killed runtime) leaves no mount and no process.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// fuseStartTimeout bounds fuse-overlayfs' start: it returns once its
// daemon serves the mount.
const fuseStartTimeout = 60 * time.Second

// FuseTree is the overlay o served by o.MountProgram (fuse-overlayfs), a
// detached mount (see above). The caller closes it; closing it before
// anything holds the mount ends the program.
func FuseTree(o *handshake.Overlay) (int, error) {
	data, err := rootfs.OverlayData(o.Lower, o.Upper, o.Work)
	if err != nil {
		return -1, err
	}
	// The kernel's userxattr is not fuse-overlayfs' option.
	data = strings.TrimSuffix(data, ",userxattr")
	if o.Volatile {
		data += ",fsync=0" // fuse-overlayfs' volatile: no fsync reaches the disk
	}
	fd, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return -1, fmt.Errorf("fuse-overlayfs: %w", err)
	}
	defer fd.Close()
	t, err := fuseMount(int(fd.Fd()), filepath.Base(o.MountProgram))
	if err != nil {
		return -1, fmt.Errorf("fuse-overlayfs: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), fuseStartTimeout)
	defer cancel()
	// /dev/fd/3: ExtraFiles[0]. Without -f it daemonizes, and returns
	// once the daemon is ready: its stdio goes to /dev/null then.
	cmd := exec.CommandContext(ctx, o.MountProgram, "-o", data, "/dev/fd/3")
	cmd.ExtraFiles = []*os.File{fd}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err != nil {
		unix.Close(t)
		msg := strings.TrimSpace(out.String())
		if msg != "" {
			return -1, fmt.Errorf("%s (lower %s, upper %s): %w: %s", o.MountProgram, strings.Join(o.Lower, ":"), o.Upper, err, msg)
		}
		return -1, fmt.Errorf("%s (lower %s, upper %s): %w", o.MountProgram, strings.Join(o.Lower, ":"), o.Upper, err)
	}
	return t, nil
}

// fuseMount makes a detached FUSE mount on the /dev/fuse descriptor dev:
// the caller's uid and gid as its owner (0: the runtime is root, of the
// host or of its user namespace), open to every process of the
// container (allow_other: its processes run as other ids), the kernel
// checking permissions from the modes fuse-overlayfs reports
// (default_permissions), as fuse-overlayfs run as root mounts itself;
// subtype names the program.
func fuseMount(dev int, subtype string) (int, error) {
	fsfd, err := unix.Fsopen("fuse", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen fuse: %w", err)
	}
	defer unix.Close(fsfd)
	for _, kv := range [][2]string{
		{"source", subtype},
		{"subtype", subtype}, // the type "fuse.fuse-overlayfs", as its own mount's
		{"fd", strconv.Itoa(dev)},
		{"rootmode", "40000"}, // S_IFDIR, octal
		{"user_id", strconv.Itoa(os.Geteuid())},
		{"group_id", strconv.Itoa(os.Getegid())},
	} {
		if err := unix.FsconfigSetString(fsfd, kv[0], kv[1]); err != nil {
			return -1, fmt.Errorf("fuse option %s=%s: %w", kv[0], kv[1], err)
		}
	}
	for _, flag := range []string{"allow_other", "default_permissions"} {
		if err := unix.FsconfigSetFlag(fsfd, flag); err != nil {
			return -1, fmt.Errorf("fuse option %s: %w", flag, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("make the fuse mount: %w", err)
	}
	t, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("fsmount fuse: %w", err)
	}
	return t, nil
}
