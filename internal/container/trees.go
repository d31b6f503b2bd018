package container

// Idmapped mounts: the kernel lets only a process privileged over a
// filesystem's own user namespace (the host's, for the host's disks) make
// an idmapped mount of it, so the init, root of the container's user
// namespace, can't. As runc 1.2 does, the runtime makes them: a detached
// copy of the mount (open_tree), idmapped with a user namespace of the
// mapping (mount_setattr MOUNT_ATTR_IDMAP), handed to the init with the
// go-ahead (handshake.SendGoWith), which moves it into place
// (plan.OpMoveTree).

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/sealed"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// idmapTrees lists the spec's mounts to idmap (rootfs.IDMap), by index
// (handshake.Settings.MountTrees).
func idmapTrees(s *specs.Spec) []int {
	var out []int
	for i, m := range s.Mounts {
		if on, _ := rootfs.IDMap(m); on {
			out = append(out, i)
		}
	}
	return out
}

// makeTrees makes the mount trees of cfg (RootTree, then MountTrees), with
// the user namespace of the init (pid) for the container's own mapping and
// one of a helper's for a mount's other mapping. The caller closes them
// (closeAll), once sent; on failure none is left open.
func makeTrees(cfg *handshake.Config, pid int) (trees []int, err error) {
	if !cfg.RootTree && len(cfg.MountTrees) == 0 {
		return nil, nil
	}
	defer func() {
		if err != nil {
			closeAll(trees)
			trees = nil
		}
	}()
	nsPath := "/proc/" + strconv.Itoa(pid) + "/ns/user"
	ns, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open the container's user namespace", Path: nsPath, Err: err}
	}
	defer unix.Close(ns)
	s := cfg.Spec
	if cfg.RootTree {
		t, err := rootTree(cfg, ns)
		if err != nil {
			return nil, err
		}
		trees = append(trees, t)
	}
	for _, i := range cfg.MountTrees {
		m := s.Mounts[i]
		_, recursive := rootfs.IDMap(m)
		flags, _, _ := rootfs.ParseOptions(m.Options)
		userns := ns
		if len(m.UIDMappings) > 0 && !(slices.Equal(m.UIDMappings, s.Linux.UIDMappings) && slices.Equal(m.GIDMappings, s.Linux.GIDMappings)) {
			h, err := newUserNS(m.UIDMappings, m.GIDMappings)
			if err != nil {
				return trees, fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
			}
			userns = h.fd
			defer h.close()
		}
		t, err := idmapTreeFlags(m.Source, flags&unix.MS_REC != 0, recursive, userns)
		if err != nil {
			return trees, fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
		}
		trees = append(trees, t)
	}
	return trees, nil
}

// rootTree is the root's tree, made with the init's user namespace ns:
// the overlay served by its mount program (idmapped too, when the spec
// asks), the kernel's overlay on idmapped layers, or root.path bound
// idmapped.
func rootTree(cfg *handshake.Config, ns int) (int, error) {
	o, s := cfg.RootOverlay, cfg.Spec
	switch {
	case o != nil && o.MountProgram != "":
		t, err := FuseTree(o)
		if err != nil || !spec.IdmapRoot(s) {
			return t, err
		}
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns)}
		if err := unix.MountSetattr(t, "", unix.AT_EMPTY_PATH, attr); err != nil {
			unix.Close(t)
			return -1, fmt.Errorf("idmapped rootfs: mount_setattr(MOUNT_ATTR_IDMAP) of the %s mount: %w (FUSE has idmapped mounts from Linux 6.12)", o.MountProgram, err)
		}
		return t, nil
	case o != nil:
		t, err := overlayTree(o, ns)
		if err != nil {
			return -1, fmt.Errorf("idmapped rootfs: %w", err)
		}
		return t, nil
	}
	t, err := idmapTree(s.Root.Path, true, ns)
	if err != nil {
		return -1, fmt.Errorf("idmapped rootfs: %w", err)
	}
	return t, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// idmapTree is a detached copy of the mount at path (with those beneath
// it when recursive), idmapped through the user namespace ns (all of it
// when recursive).
func idmapTree(path string, recursive bool, ns int) (int, error) {
	return idmapTreeFlags(path, recursive, recursive, ns)
}

func idmapTreeFlags(path string, rec, recAttr bool, ns int) (int, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if rec {
		flags |= unix.AT_RECURSIVE
	}
	t, err := unix.OpenTree(unix.AT_FDCWD, path, flags)
	if err != nil {
		return -1, &os.PathError{Op: "open_tree", Path: path, Err: err}
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns)}
	at := unix.AT_EMPTY_PATH
	if recAttr {
		at |= unix.AT_RECURSIVE
	}
	if err := unix.MountSetattr(t, "", uint(at), attr); err != nil {
		unix.Close(t)
		return -1, idmapError(path, err)
	}
	return t, nil
}

// idmapError says why the kernel refused to idmap the mount at path.
func idmapError(path string, err error) error {
	var fs unix.Statfs_t
	typ := "?"
	if unix.Statfs(path, &fs) == nil {
		typ = fmt.Sprintf("%#x", fs.Type)
	}
	switch {
	case errors.Is(err, unix.ENOSYS):
		return fmt.Errorf("mount_setattr %s: %w: the kernel lacks idmapped mounts (mount_setattr with MOUNT_ATTR_IDMAP, Linux 5.12)", path, err)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("mount_setattr(MOUNT_ATTR_IDMAP) %s: %w: the kernel can't idmap this mount (its filesystem, magic %s, may not support idmapped mounts, which need Linux 5.12 and a filesystem that has them)", path, err, typ)
	}
	return fmt.Errorf("mount_setattr(MOUNT_ATTR_IDMAP) %s: %w", path, err)
}

// overlayTree is the image's overlay made detached (fsopen, fsmount) on
// idmapped copies of its lower layers (through /proc/self/fd: they are
// attached nowhere); the upper and work directories are plain, owned by
// the container's root, so that what the container writes belongs to
// its mapped range on the host.
func overlayTree(o *handshake.Overlay, ns int) (int, error) {
	var lowers []int
	defer func() { closeAll(lowers) }()
	var names []string
	for _, l := range o.Lower {
		t, err := idmapTree(l, false, ns)
		if err != nil {
			return -1, err
		}
		lowers = append(lowers, t)
		names = append(names, "/proc/self/fd/"+strconv.Itoa(t))
	}
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)
	for _, kv := range [][2]string{{"lowerdir", strings.Join(names, ":")}, {"upperdir", o.Upper}, {"workdir", o.Work}} {
		if err := unix.FsconfigSetString(fsfd, kv[0], kv[1]); err != nil {
			return -1, fmt.Errorf("overlay option %s=%s: %w", kv[0], kv[1], err)
		}
	}
	if o.Volatile {
		if err := unix.FsconfigSetFlag(fsfd, "volatile"); err != nil {
			return -1, fmt.Errorf("overlay option volatile: %w", err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("make the overlay (lower %s, upper %s): %w", strings.Join(o.Lower, ":"), o.Upper, err)
	}
	t, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("fsmount overlay: %w", err)
	}
	return t, nil
}

// userNSHelper is a process in a new user namespace with a mapping, held
// until close, for the fd of its namespace.
type userNSHelper struct {
	cmd  *exec.Cmd
	hold io.Closer
	fd   int
}

// newUserNS starts minimal-docker-helper's "hold" (it waits for the end
// of its stdin) in a new user namespace with the mappings, and opens the
// namespace.
func newUserNS(uids, gids []specs.LinuxIDMapping) (*userNSHelper, error) {
	path, err := sealed.Beside(sealed.HelperName)
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd := exec.Command(path, sealed.HelperHold)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER,
		UidMappings: sysIDMaps(uids),
		GidMappings: sysIDMaps(gids),
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start a process in a user namespace for the mapping: %w", err)
	}
	h := &userNSHelper{cmd: cmd, hold: w, fd: -1}
	nsPath := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/user"
	if h.fd, err = unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		h.close()
		return nil, &os.PathError{Op: "open the mapping's user namespace", Path: nsPath, Err: err}
	}
	return h, nil
}

// close lets the helper go and reaps it.
func (h *userNSHelper) close() {
	if h.fd >= 0 {
		unix.Close(h.fd)
	}
	h.hold.Close()
	_ = h.cmd.Process.Kill()
	_ = h.cmd.Wait()
}
