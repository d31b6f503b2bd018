// Package v1 is the cgroup v1 driver. Each controller has a hierarchy of
// its own (/sys/fs/cgroup/memory, /sys/fs/cgroup/pids, ...; co-mounted ones
// such as cpu,cpuacct share one), so a container has one directory per
// hierarchy. Each controller is a file of its own with a wants function (is
// a limit asked for) and a plan function (the writes of the limits,
// checked against the values in force), listed in the controllers table;
// the plan is the one writer of its limits, for Create and Update alike.
// The container gets a directory in every mounted hierarchy of the table,
// but in those of the controllers on demand (blkio, hugetlb) only when it
// asks for a limit of them.
package v1

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/devices"
)

// controllers is the table of managed controllers, in the order their
// directories are made and their limits written (package cgfs:
// Controller, Set). The freezer takes no limits: it gets its directory so
// that the container can be paused.
var controllers = []cgfs.Controller{
	{Name: "memory", Wants: wantsMemory, Plan: planMemory},
	{Name: "pids", Wants: cgfs.WantsPids, Plan: cgfs.PlanPids},
	{Name: "cpu", Wants: cgfs.WantsCPU, Plan: planCPU},
	{Name: "cpuset", Wants: cgfs.WantsCpuset, Plan: planCpuset},
	{Name: "blkio", Wants: cgfs.WantsBlockIO, Plan: planBlkio, OnDemand: true},
	{Name: "hugetlb", Wants: cgfs.WantsHugetlb, Plan: planHugetlb, OnDemand: true},
	{Name: "freezer"},
	{Name: "devices", Wants: wantsDevices, Plan: planDeviceRules},
}

// Controllers returns the names of the controllers the driver manages.
func Controllers() []string {
	names := make([]string, len(controllers))
	for i, c := range controllers {
		names[i] = c.Name
	}
	return names
}

// Manager is one container's cgroup on v1: a directory per hierarchy.
type Manager struct {
	dirs map[string]string // controller -> the container's directory
	// onDemand holds the directories of the controllers on demand until
	// Create moves those r asks for into dirs.
	onDemand map[string]string
	made     []string // directories Create made, in the order made
	ops      cgfs.Ops
}

// New returns the Manager of a container whose cgroup directory is dirs[c]
// for each managed controller c whose hierarchy is mounted; a controller
// missing from dirs has no hierarchy. Other keys are ignored.
func New(dirs map[string]string) *Manager {
	m := &Manager{dirs: make(map[string]string), onDemand: make(map[string]string), ops: cgfs.Kernel()}
	for _, c := range controllers {
		dir, ok := dirs[c.Name]
		switch {
		case !ok:
		case c.OnDemand:
			m.onDemand[c.Name] = dir
		default:
			m.dirs[c.Name] = dir
		}
	}
	return m
}

// WithOps makes m use ops in place of the kernel's (a fake cgroup tree:
// cgfstest), and returns it.
func (m *Manager) WithOps(ops cgfs.Ops) *Manager {
	m.ops = ops
	return m
}

// Mode is V1: the layout this driver is for (on a hybrid host package
// cgroups wraps it, to add the v2 tree's hugetlb).
func (m *Manager) Mode() cgfs.Mode { return cgfs.V1 }

// Path returns the container's directory in controller's hierarchy, "" when
// the controller is not managed or not mounted, and for a controller on
// demand (blkio, hugetlb) unless Create made its directory.
func (m *Manager) Path(controller string) string {
	return m.dirs[controller]
}

// Create makes the container's directory in each hierarchy (and missing
// parents) and writes the limits of r, which may be nil (set; around it
// the cpuset cgroups get their parents' CPUs and nodes: fillCpuset). The
// container's directories must not exist yet: a cgroup shared with someone
// else would have its processes killed by Destroy. On failure it removes
// what it made.
func (m *Manager) Create(r *specs.LinuxResources) error {
	if len(m.made) > 0 {
		return errors.New("cgroup v1: Create called twice")
	}
	if err := m.checkHierarchies(r); err != nil {
		return err
	}
	for _, c := range controllers {
		if dir, ok := m.onDemand[c.Name]; ok && c.Wanted(r) {
			m.dirs[c.Name] = dir
		}
	}
	if err := m.create(r); err != nil {
		return errors.Join(err, m.Destroy())
	}
	return nil
}

// checkHierarchies fails when r asks for a limit of a controller that has
// no hierarchy.
func (m *Manager) checkHierarchies(r *specs.LinuxResources) error {
	for _, c := range controllers {
		if _, ok := m.dirs[c.Name]; !ok && c.Wanted(r) && m.onDemand[c.Name] == "" {
			return fmt.Errorf("cgroup v1: a %s limit is set but no %s hierarchy is mounted", c.Name, c.Name)
		}
	}
	return nil
}

func (m *Manager) create(r *specs.LinuxResources) error {
	for _, dir := range m.leaves() {
		if err := m.mkdir(dir); err != nil {
			return err
		}
	}
	cpuset, ok := m.dirs["cpuset"]
	if !ok {
		return m.set(r)
	}
	if err := fillCpuset(filepath.Dir(cpuset)); err != nil {
		return err
	}
	if err := m.set(r); err != nil {
		return err
	}
	return fillCpuset(cpuset)
}

// set writes the limits of r with each controller's plan, in its
// directory: the one writer of Create and Update.
func (m *Manager) set(r *specs.LinuxResources) error {
	return cgfs.Set(controllers, func(c string) string { return m.dirs[c] }, r)
}

// Update writes the limits that r sets in the container's cgroup, made by
// Create, as Create writes them (set): a nil or zero field leaves a limit
// as it is, a negative one removes it, and every write is planned, and
// checked against the values in force, before the first is made. It fails
// when r asks for a limit of a controller without a hierarchy, and for
// device rules (devices.ErrUpdate).
func (m *Manager) Update(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if len(r.Devices) > 0 {
		return fmt.Errorf("cgroup v1: %w", devices.ErrUpdate)
	}
	if err := m.checkHierarchies(r); err != nil {
		return err
	}
	return m.set(r)
}

// mkdir makes dir and its missing parents, recording each it made.
func (m *Manager) mkdir(dir string) error {
	missing, err := cgfs.Missing(dir)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return &os.PathError{Op: "mkdir", Path: dir, Err: unix.EEXIST}
	}
	for _, d := range missing {
		made, err := m.ops.MakeDir(d, d == dir)
		if made {
			m.made = append(m.made, d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// leaves returns the container's directories without repeats (co-mounted
// controllers share one), in table order.
func (m *Manager) leaves() []string {
	var dirs []string
	seen := make(map[string]bool)
	for _, c := range controllers {
		dir, ok := m.dirs[c.Name]
		if ok && !seen[dir] {
			seen[dir] = true
			dirs = append(dirs, dir)
		}
	}
	return dirs
}

func (m *Manager) isLeaf(dir string) bool {
	for _, d := range m.dirs {
		if d == dir {
			return true
		}
	}
	return false
}

// Apply moves the process pid into the container's cgroup in every
// hierarchy.
func (m *Manager) Apply(pid int) error {
	for _, dir := range m.leaves() {
		if err := cgfs.WriteFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// OOMKillCount reads oom_kill from memory.oom_control (kernel 4.13 and
// later).
func (m *Manager) OOMKillCount() (uint64, error) {
	dir, ok := m.dirs["memory"]
	if !ok {
		return 0, errors.New("cgroup v1: no memory hierarchy is mounted")
	}
	return cgfs.ReadKeyValue(dir, "memory.oom_control", "oom_kill")
}

// Destroy kills the processes left in the container's directories, removes
// them, and then removes the parents Create made (unless other cgroups were
// placed in them meanwhile). It removes only what Create made, and calling
// it again is harmless. A frozen (paused) container is killed and then
// thawed first, as frozen processes do not die until thawed.
func (m *Manager) Destroy() error {
	m.killFrozen()
	left, err := m.ops.Undo(m.made, m.isLeaf, func(dir string) error {
		return m.ops.Remove(dir, true)
	})
	m.made = left
	return err
}

// Paths returns the container's directory per controller, as Path gives
// them: the managed controllers that have a hierarchy (those on demand
// once Create made them).
func (m *Manager) Paths() map[string]string { return maps.Clone(m.dirs) }

// Made returns the directories Create made, in the order made.
func (m *Manager) Made() []string { return append([]string(nil), m.made...) }

// Restore returns the Manager of a cgroup that another process created:
// dirs as for New, made as that Manager's Made.
func Restore(dirs map[string]string, made []string) *Manager {
	m := New(dirs)
	for c, dir := range m.onDemand {
		m.dirs[c] = dir // Save listed only those made
	}
	m.made = append([]string(nil), made...)
	return m
}

// Pids lists the processes in the container's cgroup.
func (m *Manager) Pids() ([]int, error) {
	for _, dir := range m.leaves() {
		return cgfs.ReadPids(dir)
	}
	return nil, errors.New("cgroup v1: no hierarchy is mounted")
}
