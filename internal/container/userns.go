package container

import (
	"fmt"
	"os"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
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
// mapping in a new user namespace of the spec, else 0 and 0 (the
// runtime's own user namespace).
func hostRoot(l *specs.Linux) (uid, gid int) {
	if !namespaces.Has(l.Namespaces, specs.UserNamespace) {
		return 0, 0
	}
	u, _ := namespaces.HostID(l.UIDMappings, 0)
	g, _ := namespaces.HostID(l.GIDMappings, 0)
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
