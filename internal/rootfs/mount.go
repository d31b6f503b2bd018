// Package rootfs knows the container's filesystem as the spec describes
// it: mount options and propagation, overlay data, the /dev nodes and
// links, linux.devices, masked and read-only paths, the command's lookup
// in the rootfs. The plan's compiler (package initproc) turns that into
// the init's operations, which resolve every path inside the rootfs; the
// runtime mounts an image's overlay itself for cp (MountOverlay).
package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
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

// The options of an idmapped bind (runc's): "idmap" maps the mount
// itself, "ridmap" the mounts beneath it too.
const (
	optIDMap  = "idmap"
	optRIDMap = "ridmap"
)

// IDMap says whether a spec mount asks to be idmapped (mounts[].uidMappings
// or gidMappings, or the option idmap or ridmap: with the container's own
// mappings, as runc 1.2), and whether recursively (ridmap).
func IDMap(m specs.Mount) (on, recursive bool) {
	for _, o := range m.Options {
		if o == optRIDMap {
			return true, true
		}
		if o == optIDMap {
			on = true
		}
	}
	return on || len(m.UIDMappings)+len(m.GIDMappings) > 0, false
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
		if o == optIDMap || o == optRIDMap { // IDMap's
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
	data := "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + upper + ",workdir=" + work
	if namespaces.InUserNS() {
		data += ",userxattr" // see OverlayOpaqueXattr
	}
	return data, nil
}

// OverlayOpaqueXattr is the extended attribute that makes a directory of
// an overlay layer opaque: trusted.overlay.opaque, or for a rootless
// runtime user.overlay.opaque, as its overlay, mounted in its user
// namespace (Linux 5.11), has the option userxattr (OverlayData): the
// trusted.* attributes need CAP_SYS_ADMIN of the host's.
func OverlayOpaqueXattr() string {
	if namespaces.InUserNS() {
		return "user.overlay.opaque"
	}
	return "trusted.overlay.opaque"
}

// MountOptions lists the mount options that are flags, propagation or
// idmap and ridmap (IDMap; any other option goes to the filesystem as
// data), sorted.
func MountOptions() []string {
	out := make([]string, 0, len(mountFlags())+len(propagationFlags()))
	for o := range mountFlags() {
		out = append(out, o)
	}
	for o := range propagationFlags() {
		out = append(out, o)
	}
	out = append(out, optIDMap, optRIDMap)
	sort.Strings(out)
	return out
}
