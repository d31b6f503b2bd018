package hostcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// Probe is a question for the kernel that only trying answers: a child is
// started in new namespaces (RunProbe) and reaped.
type Probe int

const (
	// ProbeUserNS: may the user make a user namespace?
	ProbeUserNS Probe = iota
	// ProbeOverlay: does an overlay mount (in a mount namespace of the
	// probe's own)?
	ProbeOverlay
	// ProbeOverlayUserNS: does an overlay mount inside a user namespace
	// (the user's id as root; Linux 5.11), as a rootless container's
	// image root is mounted?
	ProbeOverlayUserNS
)

func (p Probe) String() string {
	switch p {
	case ProbeUserNS:
		return "a user namespace"
	case ProbeOverlay:
		return "an overlay mount"
	case ProbeOverlayUserNS:
		return "an overlay mount in a user namespace"
	}
	return fmt.Sprintf("probe %d", int(p))
}

// errNotProbed is a probe that Host does not run.
var errNotProbed = errors.New("not probed")

// ProbeArgs are the arguments that make minimal-docker a probe's child:
// `minimal-docker check --probe-overlay DIR` (the check verb's hidden
// flag) mounts an overlay of DIR's lower, upper and work directories on
// DIR/merged (ChildMountOverlay) and unmounts it.
func ProbeArgs(dir string) []string { return []string{"check", "--probe-overlay", dir} }

// probeTimeout bounds a probe's child: it mounts and unmounts one overlay.
const probeTimeout = 30 * time.Second

// RunProbe asks the kernel p by starting exe (minimal-docker) as a child
// in new namespaces — a user namespace that maps the user's own uid and
// gid to root, and/or a mount namespace — and reaping it. An overlay
// probe's directories are made in a temporary directory removed
// afterwards; its mount is made in the child's mount namespace, which
// ends with it.
func RunProbe(exe string, p Probe, uid, gid int) (err error) {
	return RunProbeIn(exe, p, uid, gid, "")
}

// RunProbeIn is RunProbe with an overlay probe's temporary directory made
// in base (the image store: the file system its overlays are on), or
// where os.MkdirTemp makes one when base is "" or refuses one.
func RunProbeIn(exe string, p Probe, uid, gid int, base string) (err error) {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	userns := func() {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	args := []string{"--version"} // a child that does nothing: the clone is the question
	switch p {
	case ProbeUserNS:
		userns()
	case ProbeOverlayUserNS:
		userns()
		fallthrough
	case ProbeOverlay:
		attr.Cloneflags |= unix.CLONE_NEWNS
		dir, err := probeDir(base)
		if err != nil {
			return fmt.Errorf("probe %v: %w", p, err)
		}
		defer func() {
			if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
				err = fmt.Errorf("probe %v: %w", p, rerr)
			}
		}()
		for _, d := range []string{"lower", "upper", "work", "merged"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
				return fmt.Errorf("probe %v: %w", p, err)
			}
		}
		args = ProbeArgs(dir)
	default:
		return fmt.Errorf("unknown probe %d", int(p))
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.SysProcAttr = attr
	if p != ProbeUserNS {
		// The child checks that it is not in this mount namespace.
		ns, err := os.Open("/proc/self/ns/mnt")
		if err != nil {
			return fmt.Errorf("probe %v: %w", p, err)
		}
		defer ns.Close()
		cmd.ExtraFiles = []*os.File{ns}
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", EnvParentMntNS, 3))
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%s", strings.TrimPrefix(msg, "minimal-docker: "))
		}
		var se *os.SyscallError
		if errors.As(err, &se) {
			return se.Err // clone's refusal: "operation not permitted"
		}
		return err
	}
	return nil
}

// probeDir makes an overlay probe's temporary directory in base, else
// in its nearest ancestor that takes one (a store the user can't write
// to, owned by its user namespace's root, is on the file system of the
// directory it is in), else where os.MkdirTemp makes one.
func probeDir(base string) (string, error) {
	for d := base; d != ""; d = filepath.Dir(d) {
		if dir, err := os.MkdirTemp(d, ".overlay-probe-"); err == nil {
			return dir, nil
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	return os.MkdirTemp("", "minimal-docker-check-")
}

// ChildMountOverlay is a probe's child (ProbeArgs): in a mount namespace
// other than its parent's (checked first: run by hand, in the caller's
// own, it refuses, as making the mounts private there would change the
// caller's), it makes every mount private (so that nothing reaches the
// parent's), mounts an overlay of dir's lower, upper and work directories
// on dir/merged as the runtime mounts an image's root
// (rootfs.MountOverlay), and unmounts it.
func ChildMountOverlay(dir string) error {
	if err := ownMountNS(); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return &os.PathError{Op: "make mounts private", Path: "/", Err: err}
	}
	merged := filepath.Join(dir, "merged")
	if err := rootfs.MountOverlay(merged, []string{filepath.Join(dir, "lower")}, filepath.Join(dir, "upper"), filepath.Join(dir, "work"), false); err != nil {
		return err
	}
	if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil {
		return &os.PathError{Op: "unmount", Path: merged, Err: err}
	}
	return nil
}

// EnvParentMntNS names the descriptor, inherited by a probe's child, of
// its parent's mount namespace (/proc/self/ns/mnt, opened by RunProbe),
// which the child must not be in.
const EnvParentMntNS = "_MINIMAL_DOCKER_CHECK_MNTNS_FD"

// nsGetNSType is the ioctl that tells a namespace file's type (linux/nsfs.h:
// NS_GET_NSTYPE, _IO(0xb7, 0x3)).
const nsGetNSType = 0xb703

// ownMountNS checks that this process is in a mount namespace other than
// its parent's, given by the descriptor EnvParentMntNS names.
func ownMountNS() error {
	fd, err := strconv.Atoi(os.Getenv(EnvParentMntNS))
	if err != nil {
		return fmt.Errorf("--probe-overlay: $%s names no descriptor: it is check's own child, started in new namespaces", EnvParentMntNS)
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil || fs.Type != unix.NSFS_MAGIC {
		return fmt.Errorf("--probe-overlay: descriptor %d ($%s) is no namespace", fd, EnvParentMntNS)
	}
	if t, err := unix.IoctlRetInt(fd, nsGetNSType); err != nil || t != unix.CLONE_NEWNS {
		return fmt.Errorf("--probe-overlay: descriptor %d ($%s) is no mount namespace", fd, EnvParentMntNS)
	}
	var parent, self unix.Stat_t
	if err := unix.Fstat(fd, &parent); err != nil {
		return &os.PathError{Op: "fstat", Path: fmt.Sprintf("descriptor %d", fd), Err: err}
	}
	if err := unix.Stat("/proc/self/ns/mnt", &self); err != nil {
		return &os.PathError{Op: "stat", Path: "/proc/self/ns/mnt", Err: err}
	}
	if parent.Dev == self.Dev && parent.Ino == self.Ino {
		return fmt.Errorf("--probe-overlay: refused in its parent's mount namespace: it is check's own child, started in new namespaces")
	}
	return nil
}
