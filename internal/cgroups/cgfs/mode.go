package cgfs

// Mode is the cgroup layout in force on the host. Package cgroups names it
// (cgroups.Mode, with the same constants); it is defined here, beneath the
// drivers, because each driver reports the layout it is for.
type Mode int

const (
	// V1 means only cgroup v1 hierarchies are mounted.
	V1 Mode = iota + 1
	// Hybrid means v1 controllers under /sys/fs/cgroup/NAME with a v2 tree
	// beside them (/sys/fs/cgroup/unified) that holds no controller we use
	// (but hugetlb, on some hosts).
	Hybrid
	// V2 means /sys/fs/cgroup is one unified cgroup v2 tree.
	V2
)

func (m Mode) String() string {
	switch m {
	case V1:
		return "v1"
	case Hybrid:
		return "hybrid"
	case V2:
		return "v2"
	}
	return "unknown"
}
