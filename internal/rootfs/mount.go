// Package rootfs prepares the container's filesystem from inside its new
// mount namespace: propagation, the bind of the root onto itself, the spec's
// mounts, the /dev nodes and links, and pivot_root. Every mount target is
// resolved inside the rootfs (symlinks cannot lead out of it).
package rootfs

import (
	"errors"
	"fmt"
	"github.com/moby/sys/mountinfo"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountFlag is a mount option that is a flag: set, or cleared.
type mountFlag struct {
	clear bool
	flag  uintptr
}

// mountFlags is the table of mount options that are flags; any other option
// is passed to the filesystem as data. Built at first use, as the other
// tables here: a map built at init costs every command's start-up.
var mountFlags = sync.OnceValue(func() map[string]mountFlag {
	return map[string]mountFlag{
		"ro":          {false, unix.MS_RDONLY},
		"rw":          {true, unix.MS_RDONLY},
		"nosuid":      {false, unix.MS_NOSUID},
		"suid":        {true, unix.MS_NOSUID},
		"nodev":       {false, unix.MS_NODEV},
		"dev":         {true, unix.MS_NODEV},
		"noexec":      {false, unix.MS_NOEXEC},
		"exec":        {true, unix.MS_NOEXEC},
		"sync":        {false, unix.MS_SYNCHRONOUS},
		"async":       {true, unix.MS_SYNCHRONOUS},
		"dirsync":     {false, unix.MS_DIRSYNC},
		"remount":     {false, unix.MS_REMOUNT},
		"mand":        {false, unix.MS_MANDLOCK},
		"nomand":      {true, unix.MS_MANDLOCK},
		"atime":       {true, unix.MS_NOATIME},
		"noatime":     {false, unix.MS_NOATIME},
		"diratime":    {true, unix.MS_NODIRATIME},
		"nodiratime":  {false, unix.MS_NODIRATIME},
		"bind":        {false, unix.MS_BIND},
		"rbind":       {false, unix.MS_BIND | unix.MS_REC},
		"relatime":    {false, unix.MS_RELATIME},
		"norelatime":  {true, unix.MS_RELATIME},
		"strictatime": {false, unix.MS_STRICTATIME},
	}
})

// propagationFlags is the table of propagation options.
var propagationFlags = sync.OnceValue(func() map[string]uintptr {
	return map[string]uintptr{
		"private":     unix.MS_PRIVATE,
		"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
		"shared":      unix.MS_SHARED,
		"rshared":     unix.MS_SHARED | unix.MS_REC,
		"slave":       unix.MS_SLAVE,
		"rslave":      unix.MS_SLAVE | unix.MS_REC,
		"unbindable":  unix.MS_UNBINDABLE,
		"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
	}
})

// parsedMount is a spec mount's options split into flags, propagation and
// filesystem data.
type parsedMount struct {
	flags       uintptr
	propagation []uintptr
	data        string
}

// ParseOptions splits a spec mount's options into mount flags, the
// propagation flags to apply after the mount, in order, and the
// filesystem's data ("size=64m,mode=755").
func ParseOptions(opts []string) (flags uintptr, propagation []uintptr, data string) {
	p := parseOptions(opts)
	return p.flags, p.propagation, p.data
}

func parseOptions(opts []string) parsedMount {
	var p parsedMount
	var data []string
	for _, o := range opts {
		if f, ok := mountFlags()[o]; ok {
			if f.clear {
				p.flags &^= f.flag
			} else {
				p.flags |= f.flag
			}
			continue
		}
		if f, ok := propagationFlags()[o]; ok {
			p.propagation = append(p.propagation, f)
			continue
		}
		data = append(data, o)
	}
	p.data = strings.Join(data, ",")
	return p
}

// Propagation returns the flags for linux.rootfsPropagation (default
// rprivate: nothing the container mounts reaches the host, and nothing the
// host mounts later reaches the container).
func Propagation(p string) (uintptr, error) {
	if p == "" {
		return unix.MS_PRIVATE | unix.MS_REC, nil
	}
	f, ok := propagationFlags()[p]
	if !ok {
		return 0, fmt.Errorf("linux.rootfsPropagation %q: want one of private, rprivate, shared, rshared, slave, rslave, unbindable, runbindable", p)
	}
	return f, nil
}

// PropagationBeforePivot returns the propagation to give / in the new
// mount namespace before anything is mounted, for linux.rootfsPropagation
// p, and whether the mount holding the rootfs must then be made private
// (PrivateParent):
//   - slave and rslave: rslave, recursively (the host's later mounts still
//     reach the container, nothing the container mounts reaches the host);
//   - shared and rshared: the mode itself, as runc gives it: the mounts
//     that are shared with the host stay in their peer groups, so that a
//     bind of a shared host directory (Kubernetes' Bidirectional volumes)
//     goes on receiving the host's mounts and sending the container's.
//     The mount holding the rootfs is made private then, so that the
//     root's bind onto itself and every mount beneath it stay in the
//     container (pivot_root needs that too);
//   - every other mode: rprivate, recursively.
//
// Shared and unbindable are applied to the new root again after
// pivot_root (PropagationAfterPivot): an unbindable root can't be bound
// onto itself.
func PropagationBeforePivot(p string) (flags uintptr, privateParent bool, err error) {
	f, err := Propagation(p)
	switch {
	case err != nil:
		return 0, false, err
	case f&unix.MS_SLAVE != 0:
		return unix.MS_SLAVE | unix.MS_REC, false, nil
	case f&unix.MS_SHARED != 0:
		return f, true, nil
	}
	return unix.MS_PRIVATE | unix.MS_REC, false, nil
}

// PrivateParent makes the mount that holds root (ParentMount) private,
// alone.
func PrivateParent(root string) error {
	parent, err := ParentMount(root)
	if err != nil {
		return err
	}
	return SetPropagation(parent, unix.MS_PRIVATE)
}

// ParentMount is the mount point of the mount that holds root in this
// process's mount table: the last mounted at the longest mount point that
// is root or a parent of it.
func ParentMount(root string) (string, error) {
	root, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("find the mount holding the rootfs: %w", err)
	}
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(root))
	if err != nil {
		return "", fmt.Errorf("find the mount holding %s: %w", root, err)
	}
	parent := ""
	for _, m := range mounts {
		if len(m.Mountpoint) >= len(parent) {
			parent = m.Mountpoint
		}
	}
	if parent == "" {
		return "", fmt.Errorf("find the mount holding %s: none in /proc/self/mountinfo", root)
	}
	return parent, nil
}

// PropagationAfterPivot reports whether linux.rootfsPropagation p is
// applied to the new root after pivot_root: shared and unbindable modes.
func PropagationAfterPivot(p string) bool {
	f, err := Propagation(p)
	return err == nil && f&(unix.MS_SHARED|unix.MS_UNBINDABLE) != 0
}

// SetPropagation sets the propagation flags of the mount at path.
func SetPropagation(path string, flags uintptr) error {
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return &os.PathError{Op: "mount propagation", Path: path, Err: err}
	}
	return nil
}

// BindRoot bind-mounts the rootfs onto itself, making it a mount point
// (pivot_root needs one).
func BindRoot(root string) error {
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return &os.PathError{Op: "bind rootfs", Path: root, Err: err}
	}
	return nil
}

// MountOverlay mounts an overlay on root: the read-only lower directories
// (top first), the writable upper one and its work directory. The
// directories' names must hold no ':' or ',' (overlay's separators).
// volatile adds overlay's "volatile" option (Linux 5.10): the upper
// directory is never synced, which spares the unmount at the container's
// exit a sync of the whole upper filesystem; a kernel without it mounts
// without it.
func MountOverlay(root string, lower []string, upper, work string, volatile bool) error {
	data, err := OverlayData(lower, upper, work)
	if err != nil {
		return err
	}
	err = unix.EINVAL
	if volatile {
		err = unix.Mount("overlay", root, "overlay", 0, data+",volatile")
	}
	if errors.Is(err, unix.EINVAL) {
		err = unix.Mount("overlay", root, "overlay", 0, data)
	}
	if err != nil {
		if errors.Is(err, unix.EINVAL) && len(data) >= os.Getpagesize() {
			return &os.PathError{Op: fmt.Sprintf("mount overlay (%d layers: the options exceed a page)", len(lower)), Path: root, Err: err}
		}
		return &os.PathError{Op: "mount overlay", Path: root, Err: err}
	}
	return nil
}

// OverlayData is the data of an overlay mount of the lower directories
// (top first), upper and work; their names must hold no ':' or ','
// (overlay's separators).
func OverlayData(lower []string, upper, work string) (string, error) {
	for _, d := range append([]string{upper, work}, lower...) {
		if strings.ContainsAny(d, ":,") || d == "" {
			return "", fmt.Errorf("overlay: directory %q: empty, or with ':' or ','", d)
		}
	}
	if len(lower) == 0 {
		return "", errors.New("overlay: no lower directory")
	}
	return "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + upper + ",workdir=" + work, nil
}

// CgroupTree says how to mount a "cgroup" mount: the cgroup2 tree, or a
// tmpfs holding one mount per v1 hierarchy (directory name -> options).
type CgroupTree struct {
	V2 bool
	V1 map[string]string
}

// Mount performs one spec mount beneath root.
func Mount(root string, m specs.Mount, cg CgroupTree) error {
	target, err := securejoin.SecureJoin(root, m.Destination)
	if err != nil {
		return &os.PathError{Op: "resolve mount target", Path: m.Destination, Err: err}
	}
	p := parseOptions(m.Options)
	typ := m.Type
	if p.flags&unix.MS_BIND != 0 {
		typ = "bind"
	}
	if err := makeTarget(target, typ, m.Source); err != nil {
		return err
	}
	switch typ {
	case "bind":
		err = bindMount(m.Source, target, p)
	case "cgroup":
		err = mountCgroup(target, p, cg)
	default:
		err = mountFS(m.Source, target, typ, p)
	}
	if err != nil {
		return err
	}
	for _, pf := range p.propagation {
		if err := unix.Mount("", target, "", pf, ""); err != nil {
			return &os.PathError{Op: "mount propagation", Path: target, Err: err}
		}
	}
	return nil
}

// makeTarget creates the mount point: a directory, or for a bind mount of a
// file an empty file.
func makeTarget(target, typ, source string) error {
	if typ == "bind" {
		if fi, err := os.Stat(source); err == nil && !fi.IsDir() {
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			// A raw descriptor: an os.File would start Go's poller, whose
			// descriptors the tiny init (staying PID 1) would keep.
			fd, err := unix.Open(target, unix.O_CREAT|unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
			if err != nil {
				return &os.PathError{Op: "create mount point", Path: target, Err: err}
			}
			return unix.Close(fd)
		}
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	return nil
}

func mountFS(source, target, typ string, p parsedMount) error {
	if err := unix.Mount(source, target, typ, p.flags, p.data); err != nil {
		return &os.PathError{Op: "mount " + typ, Path: target, Err: err}
	}
	return nil
}

// bindMount binds source on target; flags other than bind need a remount.
func bindMount(source, target string, p parsedMount) error {
	bind := p.flags & (unix.MS_BIND | unix.MS_REC)
	if err := unix.Mount(source, target, "", bind, ""); err != nil {
		return &os.PathError{Op: "bind mount " + source, Path: target, Err: err}
	}
	if rest := p.flags &^ (unix.MS_BIND | unix.MS_REC); rest != 0 {
		if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|rest, ""); err != nil {
			return &os.PathError{Op: "remount bind", Path: target, Err: err}
		}
	}
	return nil
}

// mountCgroup mounts the container's view of the cgroup tree. Inside a new
// cgroup namespace each hierarchy's root is the container's own cgroup.
func mountCgroup(target string, p parsedMount, cg CgroupTree) error {
	if cg.V2 {
		return mountFS("cgroup2", target, "cgroup2", parsedMount{flags: p.flags})
	}
	ro := p.flags & unix.MS_RDONLY
	if err := unix.Mount("tmpfs", target, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV, "mode=755"); err != nil {
		return &os.PathError{Op: "mount tmpfs", Path: target, Err: err}
	}
	for dir, opts := range cg.V1 {
		sub := filepath.Join(target, dir)
		if err := os.Mkdir(sub, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("cgroup", sub, "cgroup", p.flags, opts); err != nil {
			return &os.PathError{Op: "mount cgroup " + opts, Path: sub, Err: err}
		}
	}
	if ro != 0 {
		if err := unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV|ro, "mode=755"); err != nil {
			return &os.PathError{Op: "remount tmpfs read-only", Path: target, Err: err}
		}
	}
	return nil
}

// MountOptions lists the mount options that are flags or propagation (any
// other option goes to the filesystem as data), sorted.
func MountOptions() []string {
	out := make([]string, 0, len(mountFlags())+len(propagationFlags()))
	for o := range mountFlags() {
		out = append(out, o)
	}
	for o := range propagationFlags() {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}
