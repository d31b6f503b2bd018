// Package cgroups places a container in its own control group and enforces
// its resource limits. One Manager interface; a driver per layout, chosen
// by one detecting constructor (New; NewWith for given hierarchies):
// v1/ and v2/ (a file per controller, sharing the helpers of cgfs/), and
// hybrid, the v1 driver with the v2 tree's hugetlb. Save and Restore
// keep a Manager across processes.
//
// Detection reads /proc/self/mountinfo (ParseMountinfo): cgroup2 alone is
// V2; v1 controller hierarchies beside a cgroup2 mount are Hybrid, and
// there the v1 driver does the work, as the v2 tree holds no controllers
// (but hugetlb, on some hosts: see hybrid); v1 alone is V1.
//
// Resources: Validate checks the values that need no host, Ignored names
// those the drivers leave unwritten (as runc does), and SplitAtReady keeps
// the pids limit for when the container's init is ready.
//
// Where the container's cgroup goes: a relative cgroupsPath is taken beneath
// the cgroup that this process itself runs in (read from /proc/self/cgroup,
// per v1 hierarchy); an absolute one from the root of each hierarchy. The
// systemd form "SLICE:PREFIX:NAME" is the relative path "SLICE/PREFIX-NAME".
// Paths with ".." are refused. A rootless runtime makes cgroups only on v2,
// where a subtree was delegated to its user (DelegatedRoot), and a
// relative cgroupsPath goes beneath the top of that subtree
// (NewDelegated); without one its containers have none (None).
//
// The container's cgroup must not exist before Create: Destroy kills every
// process in it, so it is never shared with anyone.
//
// For --explain: SetTrace shows every change any Manager makes (each file
// written with its value, each directory made or removed, v2's device
// program), and Describe names the layout, the driver and the container's
// directories.
package cgroups

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// Mode is the cgroup layout in force on the host: V1, Hybrid or V2. It is
// cgfs's, beneath the drivers, which report the one they are for.
type Mode = cgfs.Mode

// The layouts (cgfs.V1, cgfs.Hybrid, cgfs.V2 say what each means).
const (
	V1     = cgfs.V1
	Hybrid = cgfs.Hybrid
	V2     = cgfs.V2
)

// Manager is one container's cgroup, in whichever driver is in force.
// Preconditions: Create before Apply; Destroy may be called at any point,
// also after a failed Create, and undoes only what this Manager made.
type Manager interface {
	// Mode is the layout the driver was chosen for.
	Mode() Mode
	// Create makes the cgroup directories (and any missing parents, which
	// Destroy removes again), enables the controllers needed on v2, and
	// writes the limits of r, which may be nil, as Update writes them. The
	// device rules (package devices says what they mean) go to the devices
	// hierarchy on v1 and into an eBPF program attached to the cgroup on
	// v2. It fails if the container's directory exists already, or if a
	// limit is asked of a controller the host does not offer. On failure
	// it removes what it made.
	Create(r *specs.LinuxResources) error
	// Apply moves the process pid into the cgroup.
	Apply(pid int) error
	// OOMKillCount is how many processes the kernel OOM-killed in the cgroup
	// (memory.events oom_kill on v2, memory.oom_control oom_kill on v1).
	OOMKillCount() (uint64, error)
	// Destroy kills what is left in the cgroup and removes the directories
	// this Manager created, waiting up to about 2 seconds for the killed
	// processes to leave. Calling it again is harmless.
	Destroy() error
	// Path is the directory of the container's cgroup for a controller
	// ("memory", "pids", "cpu", "cpuset", "blkio", "hugetlb", "freezer",
	// "devices"); on v2 every controller has the same path.
	// It is "" for a controller that the v1 driver does not manage or that
	// has no hierarchy, and for blkio and hugetlb on v1 unless Create made
	// the container a cgroup there (for a limit of them).
	Path(controller string) string
	// Pids lists the processes in the container's cgroup.
	Pids() ([]int, error)
	// Freeze stops every process in the cgroup (v1: FROZEN into the
	// freezer hierarchy's freezer.state; v2: 1 into cgroup.freeze) and
	// waits, a few seconds at most, until the kernel reports it frozen. On
	// failure the cgroup is left thawed.
	Freeze() error
	// Thaw lets the processes of a frozen cgroup run again, and waits, a
	// few seconds at most, until the kernel reports it thawed.
	Thaw() error
	// Update writes the limits that r sets in a cgroup that Create made,
	// through the same writer per controller as Create (which limits an
	// update may change is the caller's rule). A nil field, or zero (an
	// empty list) as in runc update, leaves a limit as it is; a negative
	// one removes it. Memory.Swap is memory plus swap on both drivers, and
	// a new memory limit alone keeps that total (a limit above it is
	// refused). The writes are checked against the values in force before
	// the first is made, and ordered so that the kernel accepts each
	// (memory+swap never below memory on v1). Device rules, and on a
	// hybrid host hugepage limits in the v2 tree, cannot be changed: an
	// update that sets any is refused.
	Update(r *specs.LinuxResources) error
}
