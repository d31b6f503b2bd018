package namespaces

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// MaxMapLines is the kernel's limit of lines in a uid_map or gid_map
// (340 since Linux 4.15).
const MaxMapLines = 340

// CheckIDMappings checks the id mappings of field (linux.uidMappings,
// mounts[2].gidMappings): at least one line, at most MaxMapLines, each of
// a non-zero size whose ranges end within 32 bits, and no two lines whose
// ranges overlap inside or outside (the kernel refuses both with EINVAL).
func CheckIDMappings(field string, m []specs.LinuxIDMapping) error {
	if len(m) == 0 {
		return fmt.Errorf("%s: empty: want at least one range", field)
	}
	if len(m) > MaxMapLines {
		return fmt.Errorf("%s: %d ranges, more than the kernel's %d", field, len(m), MaxMapLines)
	}
	const limit = uint64(1) << 32
	for i, r := range m {
		switch {
		case r.Size == 0:
			return fmt.Errorf("%s[%d]: size 0: want at least 1", field, i)
		case uint64(r.ContainerID)+uint64(r.Size) > limit:
			return fmt.Errorf("%s[%d]: containerID %d + size %d passes the largest id (%d)", field, i, r.ContainerID, r.Size, limit-1)
		case uint64(r.HostID)+uint64(r.Size) > limit:
			return fmt.Errorf("%s[%d]: hostID %d + size %d passes the largest id (%d)", field, i, r.HostID, r.Size, limit-1)
		}
		for j, o := range m[:i] {
			if overlaps(r.ContainerID, r.Size, o.ContainerID, o.Size) {
				return fmt.Errorf("%s[%d]: containerIDs %d-%d overlap those of %s[%d]", field, i, r.ContainerID, uint64(r.ContainerID)+uint64(r.Size)-1, field, j)
			}
			if overlaps(r.HostID, r.Size, o.HostID, o.Size) {
				return fmt.Errorf("%s[%d]: hostIDs %d-%d overlap those of %s[%d]", field, i, r.HostID, uint64(r.HostID)+uint64(r.Size)-1, field, j)
			}
		}
	}
	return nil
}

func overlaps(a, an, b, bn uint32) bool {
	return uint64(a) < uint64(b)+uint64(bn) && uint64(b) < uint64(a)+uint64(an)
}

// HostID maps id, as the container sees it, to the host's id through m;
// ok is false when m does not map it.
func HostID(m []specs.LinuxIDMapping, id uint32) (host uint32, ok bool) {
	for _, r := range m {
		if id >= r.ContainerID && uint64(id) < uint64(r.ContainerID)+uint64(r.Size) {
			return r.HostID + (id - r.ContainerID), true
		}
	}
	return 0, false
}

// ContainerID maps a host's id into the container through m; ok is false
// when the host's id is not mapped.
func ContainerID(m []specs.LinuxIDMapping, host uint32) (id uint32, ok bool) {
	for _, r := range m {
		if host >= r.HostID && uint64(host) < uint64(r.HostID)+uint64(r.Size) {
			return r.ContainerID + (host - r.HostID), true
		}
	}
	return 0, false
}

// InContainerUserNS reports whether a container of these namespaces runs
// in a user namespace other than the host's: a new one of its own, one
// joined by path, or the runtime's own when the runtime runs in one
// (InUserNS: rootless). There the kernel refuses mknod of devices,
// sysfs without a network namespace owned by the user namespace, and
// the host's cgroup files to a root that is not the host's.
func InContainerUserNS(ns []specs.LinuxNamespace) bool {
	return In(ns, specs.UserNamespace) || InUserNS()
}
