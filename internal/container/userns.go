package container

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"golang.org/x/sys/unix"
)

// userNS makes the init's clone write the new user namespace's maps
// (linux.uidMappings, gidMappings; checked by spec.Check): Go's exec
// writes /proc/PID/uid_map and gid_map between the clone and the child's
// exec, as root may for any host ids, with setgroups left allowed (runc:
// the maps are written by a privileged parent), and makes the child root
// of the namespace (setresuid 0) so that it execs the init with the
// namespace's full capabilities.
func userNS(attr *syscall.SysProcAttr, l *specs.Linux) {
	attr.UidMappings = sysIDMaps(l.UIDMappings)
	attr.GidMappings = sysIDMaps(l.GIDMappings)
	attr.GidMappingsEnableSetgroups = true
	attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
}

func sysIDMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, r := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(r.ContainerID), HostID: int(r.HostID), Size: int(r.Size)}
	}
	return out
}

// hostRoot is the host's uid and gid of the container's root: its
// mapping in a user namespace of the spec's (new, or joined by path: its
// maps are then the namespace's, which spec.Check fills in when the
// config gives none; read here when it has not run yet), else 0 and 0
// (the runtime's own user namespace).
func hostRoot(l *specs.Linux) (uid, gid int) {
	if !namespaces.In(l.Namespaces, specs.UserNamespace) {
		return 0, 0
	}
	um, gm := l.UIDMappings, l.GIDMappings
	if p := namespaces.PathOf(l.Namespaces, specs.UserNamespace); p != "" && len(um)+len(gm) == 0 {
		if j, err := namespaces.JoinedUser(p); err == nil {
			um, gm = j.UID, j.GID
		}
	}
	u, _ := namespaces.HostID(um, 0)
	g, _ := namespaces.HostID(gm, 0)
	return int(u), int(g)
}

// chownToRoot gives path to the container's root (hostRoot) when the
// container has a user namespace of its own, so that its init may open
// it (the exec fifo).
func chownToRoot(path string, l *specs.Linux) error {
	uid, gid := hostRoot(l)
	if uid == 0 && gid == 0 {
		return nil
	}
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("give the container's root (host uid %d, gid %d) %s: %w", uid, gid, path, err)
	}
	return nil
}

// delegateFile lists the files of a cgroup (v2) that its delegate owns
// (cgroups(7)); without it (Linux < 4.15) the first three.
const delegateFile = "/sys/kernel/cgroup/delegate"

// delegateCgroup gives a v2 container's cgroup to its root, as runc does
// when the container has a user namespace of its own and mounts its
// cgroup read-write: the directory and the files the kernel lists as a
// delegate's, so that its root may make child cgroups and move its
// processes among them (never raise its own limits, which are the
// parent's files).
func delegateCgroup(mgr cgroups.Manager, s *specs.Spec) error {
	if mgr.Mode() != cgroups.V2 || !namespaces.In(s.Linux.Namespaces, specs.UserNamespace) || !cgroupMountRW(s) {
		return nil
	}
	dir := mgr.Path("pids")
	if dir == "" {
		return nil
	}
	uid, gid := hostRoot(s.Linux)
	files := []string{"cgroup.procs", "cgroup.subtree_control", "cgroup.threads"}
	if f, err := os.Open(delegateFile); err == nil {
		files = nil
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			files = append(files, sc.Text())
		}
		f.Close()
	}
	for _, p := range append([]string{""}, files...) {
		path := filepath.Join(dir, p)
		if err := unix.Lchown(path, uid, gid); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return &os.PathError{Op: "delegate the cgroup to the container's root: chown", Path: path, Err: err}
		}
	}
	return nil
}

// cgroupMountRW: the spec mounts the cgroup tree read-write.
func cgroupMountRW(s *specs.Spec) bool {
	for _, m := range s.Mounts {
		if m.Type == "cgroup" || m.Type == "cgroup2" {
			flags, _, _ := rootfs.ParseOptions(m.Options)
			return flags&unix.MS_RDONLY == 0 && !slices.Contains(m.Options, "ro")
		}
	}
	return false
}
