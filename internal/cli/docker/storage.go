package docker

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/hostcheck"
	"github.com/minimal-docker/minimal-docker/internal/ondisk"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
)

// --storage-opt (Podman's global flag, KEY=VALUE, repeatable) sets the
// image overlay's options; the one known is overlay.mount_program=PATH:
// the program that mounts image containers' overlays (fuse-overlayfs)
// in place of the kernel. Without it a rootless runtime chooses
// (rootfs.ChooseOverlayMount): the kernel's overlay where it mounts in
// the user namespace on the store's file system, else fuse-overlayfs.

// storageOptMountProgram is --storage-opt's key for the mount program.
const storageOptMountProgram = "overlay.mount_program"

// parseStorageOpts checks --storage-opt's values and returns the mount
// program they name ("" for none).
func parseStorageOpts(opts []string) (string, error) {
	program := ""
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		switch {
		case !ok:
			return "", fmt.Errorf("--storage-opt %q: want KEY=VALUE (%s=PATH)", o, storageOptMountProgram)
		case k != storageOptMountProgram && k != "mount_program":
			return "", fmt.Errorf("--storage-opt %q: unknown option %q (known: %s)", o, k, storageOptMountProgram)
		case v == "":
			program = ""
			continue
		}
		p, err := exec.LookPath(v)
		if err != nil {
			return "", fmt.Errorf("--storage-opt %s: %w", o, err)
		}
		if program, err = filepath.Abs(p); err != nil {
			return "", fmt.Errorf("--storage-opt %s: %w", o, err)
		}
	}
	return program, nil
}

// overlayMount decides, once a command, how image containers' overlays
// are mounted (rootfs.ChooseOverlayMount); a rootless runtime's probe of
// the kernel's overlay on the store is kept in the store (overlayProbe).
func (g *globals) overlayMount() (rootfs.OverlayMount, error) {
	if g.overlay != nil {
		return *g.overlay, g.overlayErr
	}
	program, err := parseStorageOpts(g.storageOpts)
	if err != nil {
		return rootfs.OverlayMount{}, err
	}
	m, err := rootfs.ChooseOverlayMount(rootfs.OverlayHost{
		MountProgram: program,
		Rootless:     rootless.Active(),
		Kernel:       func() error { return overlayProbe(g.imageRoot) },
		LookPath:     exec.LookPath,
		DevFuse:      devFuse,
	})
	g.overlay, g.overlayErr = &m, err
	return m, err
}

// devFuse says whether /dev/fuse may be opened for reading and writing.
func devFuse() error {
	if err := unix.Access("/dev/fuse", unix.R_OK|unix.W_OK); err != nil {
		return fmt.Errorf("%w: %v", rootfs.ErrNoDevFuse, err)
	}
	return nil
}

// overlayProbeFile, in the store, keeps the kernel's answer to a rootless
// overlay mount there: the kernel's release, then the error ("" when it
// mounted). A new kernel is asked again.
const overlayProbeFile = "overlay-probe"

// overlayProbe mounts the kernel's overlay on directories in the store
// (root), in a child of a mount namespace of its own, as a rootless
// container's root is mounted (hostcheck.RunProbeIn); the answer is kept
// in the store for the kernel that gave it.
func overlayProbe(root string) error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return fmt.Errorf("uname: %w", err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	path := filepath.Join(root, overlayProbeFile)
	if b, err := os.ReadFile(path); err == nil {
		if rel, msg, ok := strings.Cut(string(b), "\n"); ok && rel == release {
			if msg == "" {
				return nil
			}
			return errors.New(msg)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("probe the overlay: find this binary: %w", err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("probe the overlay: %w", err)
	}
	perr := hostcheck.RunProbeIn(exe, hostcheck.ProbeOverlay, os.Getuid(), os.Getgid(), root)
	msg := ""
	if perr != nil {
		msg = perr.Error()
	}
	_ = ondisk.WriteFile(path, []byte(release+"\n"+msg), 0o600, ondisk.Volatile) // a cache: asked again when missing
	return perr
}
