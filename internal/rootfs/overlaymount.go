package rootfs

import (
	"errors"
	"fmt"
)

// FuseOverlayfs is the program that stands in for the kernel's overlay
// where a rootless runtime can't mount that (Debian's fuse-overlayfs;
// Podman's overlay.mount_program).
const FuseOverlayfs = "fuse-overlayfs"

// OverlayMount is how an image container's overlay is mounted: by the
// kernel (Program "") or by a mount program (fuse-overlayfs), and why.
type OverlayMount struct {
	Program string
	Why     string
}

// String is the path in a sentence: "the kernel's overlay" or the program.
func (m OverlayMount) String() string {
	if m.Program == "" {
		return "the kernel's overlay"
	}
	return m.Program
}

// OverlayHost is what ChooseOverlayMount asks of the host.
type OverlayHost struct {
	// MountProgram is the one the user named (--storage-opt
	// overlay.mount_program), "" for none.
	MountProgram string
	// Rootless: the runtime runs in a user namespace of its own.
	Rootless bool
	// Kernel mounts the kernel's overlay as a rootless container's is
	// mounted, on the store's file system (a probe): nil when it mounts.
	Kernel func() error
	// LookPath finds a program in PATH (exec.LookPath).
	LookPath func(string) (string, error)
	// DevFuse says whether /dev/fuse may be opened for reading and
	// writing (nil when it may).
	DevFuse func() error
}

// ChooseOverlayMount decides how image containers' overlays are mounted:
// with the mount program the user named; as root with the kernel's
// overlay (as always); rootless with the kernel's overlay where it
// mounts in the user namespace (Linux 5.11, a store with user xattrs),
// else with fuse-overlayfs (Podman's choice). When neither can be used
// the error names both.
func ChooseOverlayMount(h OverlayHost) (OverlayMount, error) {
	if h.MountProgram != "" {
		return OverlayMount{h.MountProgram, "overlay.mount_program (--storage-opt) names it"}, nil
	}
	if !h.Rootless {
		return OverlayMount{"", "root mounts the kernel's overlay"}, nil
	}
	kerr := h.Kernel()
	if kerr == nil {
		return OverlayMount{"", "it mounts in the user namespace (userxattr)"}, nil
	}
	path, err := h.LookPath(FuseOverlayfs)
	if err == nil {
		err = h.DevFuse()
	}
	if err != nil {
		return OverlayMount{}, fmt.Errorf("no overlay for an image's root: the kernel's overlay can't be mounted in the user namespace (%v; it needs Linux 5.11 and a store on a file system with user xattrs), and %s can't stand in (%w): install it (apt-get install %s; /dev/fuse readable and writable by you)", kerr, FuseOverlayfs, err, FuseOverlayfs)
	}
	return OverlayMount{path, fmt.Sprintf("the kernel's overlay can't be mounted in the user namespace: %v", kerr)}, nil
}

// ErrNoDevFuse is DevFuse's error where the device can't be opened.
var ErrNoDevFuse = errors.New("/dev/fuse is not readable and writable")
