package initproc

// The plan's filesystem steps: propagation, the rootfs, the mounts, /dev,
// sysctls, read-only and masked paths (package rootfs's work, as ops).

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/plan"
	"github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// buildPropagation sets what the container's mount table shares with the
// caller's before anything is mounted (setPropagation): the mount holding
// the rootfs is found here, in the parent's mount table, of which the
// child's new one is a copy.
func buildPropagation(b *builder) error {
	flags, privateParent, err := rootfs.PropagationBeforePivot(b.spec.Linux.RootfsPropagation)
	if err != nil {
		return err
	}
	b.op(plan.OpMount, "mount propagation", "/", []uint64{uint64(flags), plan.FlagHost}, "", "/", "", "")
	if privateParent {
		parent, err := rootfs.ParentMount(b.root)
		if err != nil {
			return err
		}
		b.op(plan.OpMount, "mount propagation", parent, []uint64{unix.MS_PRIVATE, plan.FlagHost}, "", parent, "", "")
	}
	return nil
}

func buildBindRootfs(b *builder) error {
	b.op(plan.OpMount, "bind rootfs", b.root, []uint64{unix.MS_BIND | unix.MS_REC, plan.FlagHost}, b.root, b.root, "", "")
	return nil
}

// buildRootTree moves the root the parent made (handshake.Settings.RootTree:
// an idmapped bind of the rootfs, the overlay on idmapped layers, or the
// overlay of a mount program, the Go frame's first tree) onto root.path.
func buildRootTree(b *builder) error {
	what := "move the parent's idmapped rootfs onto"
	if o := b.cfg.RootOverlay; o != nil && o.MountProgram != "" {
		what = "move the parent's " + filepath.Base(o.MountProgram) + " mount onto"
	} else if o != nil {
		what = "move the parent's overlay (on idmapped layers) onto"
	}
	b.op(plan.OpMoveTree, what, b.root, []uint64{0, plan.FlagHost}, b.root)
	return nil
}

// buildOverlayRootfs mounts the image's overlay on the root. Its
// "volatile" option is asked for only on kernels that know it (5.10 and
// later; the plan decides from the kernel's release, as the init can't
// retry without it).
func buildOverlayRootfs(b *builder) error {
	o := b.cfg.RootOverlay
	data, err := rootfs.OverlayData(o.Lower, o.Upper, o.Work)
	if err != nil {
		return err
	}
	if o.Volatile && proc.KernelAtLeast(5, 10) {
		data += ",volatile"
	}
	what := "mount overlay"
	if len(data) >= os.Getpagesize() {
		what = fmt.Sprintf("mount overlay (%d layers: the options exceed a page)", len(o.Lower))
	}
	b.op(plan.OpMount, what, b.root, []uint64{0, plan.FlagHost}, "overlay", b.root, "overlay", data)
	return nil
}

// buildMounts adds each spec mount: its mount point made
// in the root (an empty file for a bind of a host file), the mount, a
// remount for a bind's other flags, then its propagation flags.
func buildMounts(b *builder) error {
	trees := map[int]uint64{}
	for k, i := range b.cfg.MountTrees {
		trees[i] = uint64(k)
		if b.cfg.RootTree {
			trees[i]++
		}
	}
	for i, m := range b.spec.Mounts {
		if tree, ok := trees[i]; ok {
			b.mountTree(m, tree)
			continue
		}
		b.mount(m)
	}
	return nil
}

// mountTree moves the idmapped bind the parent made of mount m (the Go
// frame's tree #tree: handshake.Settings.MountTrees) onto its
// destination, then remounts it with its other flags and sets its
// propagation, as a bind's.
func (b *builder) mountTree(m specs.Mount, tree uint64) {
	dest := m.Destination
	flags, propagation, _ := rootfs.ParseOptions(m.Options)
	mk := plan.FlagMkdir
	if fi, err := os.Stat(m.Source); err == nil && !fi.IsDir() {
		mk = plan.FlagMkfile
	}
	b.op(plan.OpMoveTree, "move the parent's idmapped bind of "+m.Source+" onto", dest, []uint64{tree, mk}, dest)
	if rest := flags &^ (unix.MS_BIND | unix.MS_REC); rest != 0 {
		b.op(plan.OpMount, "remount bind", dest, []uint64{uint64(unix.MS_BIND | unix.MS_REMOUNT | rest), 0}, "", dest, "", "")
	}
	for _, pf := range propagation {
		b.op(plan.OpMount, "mount propagation", dest, []uint64{uint64(pf), 0}, "", dest, "", "")
	}
}

func (b *builder) mount(m specs.Mount) {
	dest := m.Destination
	flags, propagation, data := rootfs.ParseOptions(m.Options)
	typ := m.Type
	if flags&unix.MS_BIND != 0 {
		typ = "bind"
	}
	if typ == "bind" {
		flags |= unix.MS_BIND // type bind without a bind option
	}
	if typ == "sysfs" && b.sysfsRefused() {
		// As runc: the host's /sys, bound with what is mounted beneath.
		typ, flags = "bind", flags|unix.MS_BIND|unix.MS_REC
		m.Source = "/sys"
	}
	mk := plan.FlagMkdir
	if typ == "bind" {
		if fi, err := os.Stat(m.Source); err == nil && !fi.IsDir() {
			mk = plan.FlagMkfile
		}
	}
	switch typ {
	case "bind":
		b.op(plan.OpMount, "bind mount "+m.Source, dest, []uint64{uint64(flags & (unix.MS_BIND | unix.MS_REC)), mk}, m.Source, dest, "", "")
		if rest := flags &^ (unix.MS_BIND | unix.MS_REC); rest != 0 {
			b.op(plan.OpMount, "remount bind", dest, []uint64{uint64(unix.MS_BIND | unix.MS_REMOUNT | rest), 0}, "", dest, "", "")
		}
	case "cgroup":
		b.cgroupMount(dest, flags)
	default:
		b.op(plan.OpMount, "mount "+typ, dest, []uint64{uint64(flags), mk}, m.Source, dest, typ, data)
	}
	for _, pf := range propagation {
		b.op(plan.OpMount, "mount propagation", dest, []uint64{uint64(pf), 0}, "", dest, "", "")
	}
}

// sysfsRefused: in a user namespace the kernel mounts sysfs only for a
// network namespace that the user namespace owns, which a container
// without a new network namespace of its own does not have (the host's,
// or one joined by path): /sys is then the host's, bound.
func (b *builder) sysfsRefused() bool {
	return b.userns && !namespaces.Has(b.spec.Linux.Namespaces, specs.NetworkNamespace)
}

// cgroupMount mounts the container's view of the cgroup tree
// (rootfs.mountCgroup): cgroup2, or a tmpfs with one mount per v1
// hierarchy (in name order), made read-only after them when asked.
func (b *builder) cgroupMount(dest string, flags uintptr) {
	if b.cfg.CgroupMode == "v2" {
		if dir, ok := b.cfg.CgroupBinds[""]; ok {
			b.bindCgroup(dir, dest, flags)
			return
		}
		if b.cfg.CgroupBinds != nil {
			// No cgroup of its own to bind (cgroups.None): the tree is
			// what the host's /sys brought, if any.
			return
		}
		b.op(plan.OpMount, "mount cgroup2", dest, []uint64{uint64(flags), plan.FlagMkdir}, "cgroup2", dest, "cgroup2", "")
		return
	}
	const tmpfsFlags = unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV
	b.op(plan.OpMount, "mount tmpfs", dest, []uint64{tmpfsFlags, plan.FlagMkdir}, "tmpfs", dest, "tmpfs", "mode=755")
	for _, dir := range slices.Sorted(maps.Keys(b.cfg.CgroupV1)) {
		opts := b.cfg.CgroupV1[dir]
		sub := strings.TrimSuffix(dest, "/") + "/" + dir
		if host, ok := b.cfg.CgroupBinds[dir]; ok {
			b.bindCgroup(host, sub, flags)
			continue
		}
		b.op(plan.OpMount, "mount cgroup "+opts, sub, []uint64{uint64(flags), plan.FlagMkdir}, "cgroup", sub, "cgroup", opts)
	}
	if ro := flags & unix.MS_RDONLY; ro != 0 {
		b.op(plan.OpMount, "remount tmpfs read-only", dest, []uint64{unix.MS_REMOUNT | tmpfsFlags | unix.MS_RDONLY, 0}, "", dest, "", "mode=755")
	}
}

// bindCgroup binds the container's cgroup directory on the host (dir)
// at dest, with the mount's flags (a remount), in place of a cgroup mount
// that the kernel refuses in a user namespace without a cgroup namespace
// of its own (handshake.Settings.CgroupBinds), as runc does.
func (b *builder) bindCgroup(dir, dest string, flags uintptr) {
	b.op(plan.OpMount, "bind the container's cgroup "+dir+" (no cgroup mount in a user namespace without a cgroup namespace)", dest,
		[]uint64{unix.MS_BIND, plan.FlagMkdir}, dir, dest, "", "")
	if rest := flags &^ (unix.MS_BIND | unix.MS_REC); rest != 0 {
		b.op(plan.OpMount, "remount bind", dest, []uint64{uint64(unix.MS_BIND | unix.MS_REMOUNT | rest), 0}, "", dest, "", "")
	}
}

// buildDevices makes the standard nodes and links in the container's own
// /dev tmpfs (rootfs.DevNodes, DevLinks). In a user namespace, where the
// kernel refuses mknod, each node is the host's, bound onto an empty file
// (bindDevice), as runc does.
func buildDevices(b *builder) error {
	for _, d := range rootfs.DevNodes {
		p := "/dev/" + d.Name
		if b.userns {
			b.bindDevice(p, unix.S_IFCHR, unix.Mkdev(d.Major, d.Minor))
			continue
		}
		b.op(plan.OpMknod, "mknod", p, []uint64{unix.S_IFCHR | 0o666, unix.Mkdev(d.Major, d.Minor), 0, 0}, p)
	}
	for _, l := range rootfs.DevLinks {
		p := "/dev/" + l[0]
		b.op(plan.OpSymlink, "symlink "+l[1], p, nil, l[1], p)
	}
	return nil
}

// buildSpecDevices makes the linux.devices nodes (rootfs.CreateDevices);
// one in a directory bind-mounted from the host is only checked.
func buildSpecDevices(b *builder) error {
	for _, d := range b.spec.Linux.Devices {
		typ, rdev, err := rootfs.DeviceNode(d)
		if err != nil {
			return fmt.Errorf("linux.devices %s: %w", d.Path, err)
		}
		if m := rootfs.BindMountOver(b.spec.Mounts, d.Path); m != "" {
			what := fmt.Sprintf("linux.devices %s: %s is bind-mounted from the host, where the node is not created (it would change the host): want the requested device (%d:%d) at", d.Path, m, unix.Major(rdev), unix.Minor(rdev))
			b.op(plan.OpCheckDev, what, d.Path, []uint64{uint64(typ), rdev}, d.Path)
			continue
		}
		if b.userns {
			b.bindDevice(d.Path, typ, rdev)
			continue
		}
		mode := uint64(rootfs.DefaultDeviceMode)
		if d.FileMode != nil {
			mode = uint64(*d.FileMode) & 0o7777
		}
		var uid, gid uint64
		if d.UID != nil {
			uid = uint64(*d.UID)
		}
		if d.GID != nil {
			gid = uint64(*d.GID)
		}
		b.op(plan.OpMknod, "linux.devices "+d.Path+": mknod", d.Path, []uint64{uint64(typ) | mode, rdev, uid, gid}, d.Path)
	}
	return nil
}

// bindDevice binds the host's node at path onto an empty file at path in
// the container, and checks that what is there is the device asked for
// (the host's node may be another, or missing: the bind then fails).
// Its mode and owner are the host's: a user namespace can't change them.
func (b *builder) bindDevice(path string, typ uint32, rdev uint64) {
	b.op(plan.OpMount, "bind the host's device (no mknod in a user namespace)", path,
		[]uint64{unix.MS_BIND, plan.FlagMkfile}, path, path, "", "")
	b.op(plan.OpCheckDev, fmt.Sprintf("the host's %s (bound in a user namespace): want the requested device (%d:%d) at", path, unix.Major(rdev), unix.Minor(rdev)),
		path, []uint64{uint64(typ), rdev}, path)
}

// buildSysctls writes linux.sysctl (checked: checkSysctls) through the
// container's /proc, in name order.
func buildSysctls(b *builder) error {
	if !sharesMounts(b.state) && !mountsProc(b.spec.Mounts) {
		return errors.New("linux.sysctl: /proc/sys in the container is not procfs (mount proc at /proc)")
	}
	for _, k := range slices.Sorted(maps.Keys(b.spec.Linux.Sysctl)) {
		v := b.spec.Linux.Sysctl[k]
		path, err := checkSysctl(k, b.spec.Linux.Namespaces)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("linux.sysctl %q = %q (a missing file: no such sysctl in the container's namespaces): write", k, v)
		b.op(plan.OpWriteFile, what, path, []uint64{0}, path, v)
	}
	return nil
}

// mountsProc reports whether the spec mounts proc at /proc, through which
// the sysctls are written.
func mountsProc(mounts []specs.Mount) bool {
	for _, m := range mounts {
		if m.Type == "proc" && strings.TrimRight(m.Destination, "/") == "/proc" {
			return true
		}
	}
	return false
}

// buildReadonlyPaths binds each of linux.readonlyPaths onto itself, with
// what is mounted beneath it, and makes the tree read-only
// (mount_setattr, recursive); a missing path is skipped.
func buildReadonlyPaths(b *builder) error {
	for _, p := range b.spec.Linux.ReadonlyPaths {
		b.op(plan.OpMount, "linux.readonlyPaths "+p+": bind onto itself", p,
			[]uint64{unix.MS_BIND | unix.MS_REC, plan.FlagSourceInRoot | plan.FlagIgnoreMissing}, p, p, "", "")
		b.op(plan.OpSetattr, "linux.readonlyPaths "+p+": mount_setattr read-only (recursive)", p,
			[]uint64{unix.MOUNT_ATTR_RDONLY, 0, 1, plan.FlagIgnoreMissing}, p)
	}
	return nil
}

func buildMaskedPaths(b *builder) error {
	for _, p := range b.spec.Linux.MaskedPaths {
		b.op(plan.OpMask, "linux.maskedPaths "+p+": mask", p, nil, p)
	}
	return nil
}

// buildReadonlyRoot makes the new root's mount read-only (root.readonly):
// mount_setattr keeps its other flags.
func buildReadonlyRoot(b *builder) error {
	b.op(plan.OpSetattr, "remount read-only", "/", []uint64{unix.MOUNT_ATTR_RDONLY, 0, 0, 0}, "/")
	return nil
}

func buildRootPropagation(b *builder) error {
	flags, err := rootfs.Propagation(b.spec.Linux.RootfsPropagation)
	if err != nil {
		return err
	}
	b.op(plan.OpMount, "mount propagation", "/", []uint64{uint64(flags), 0}, "", "/", "", "")
	return nil
}
