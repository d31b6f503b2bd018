// Package v2 is the cgroup v2 driver: one unified hierarchy, so a container
// has a single directory. Each controller is a file of its own with a wants
// function (is a limit asked for) and a plan function (the writes of the
// limits, checked against the values in force), listed in the controllers
// table; the plan is the one writer of its limits, for Create and Update
// alike.
//
// On v2 a controller works in a cgroup only when its parent lists it in
// cgroup.subtree_control. Create enables the managed controllers that the
// parent offers (its cgroup.controllers) in the parent and in every
// directory it makes on the way down; those on demand (io, hugetlb) only
// when a limit of them is asked for. It never goes above the deepest
// directory that already exists, and Destroy does not undo what it enabled
// there: other cgroups beside ours may rely on it.
package v2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/devices"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
)

// controllers is the table of managed controllers, in the order their
// limits are written (package cgfs: Controller, Set).
var controllers = []cgfs.Controller{
	{Name: "memory", Wants: wantsMemory, Plan: planMemory},
	{Name: "pids", Wants: cgfs.WantsPids, Plan: cgfs.PlanPids},
	{Name: "cpu", Wants: cgfs.WantsCPU, Plan: planCPU},
	{Name: "cpuset", Wants: cgfs.WantsCpuset, Plan: planCpuset},
	{Name: "io", Wants: cgfs.WantsBlockIO, Plan: planIO, OnDemand: true},
	{Name: "hugetlb", Wants: cgfs.WantsHugetlb, Plan: planHugetlb, OnDemand: true},
}

// Manager is one container's cgroup on v2.
type Manager struct {
	dir  string
	made []string // directories Create made, in the order made
	ops  cgfs.Ops
	// attach loads a device program and attaches it to a cgroup directory
	// (attachDeviceFilter; tests record it instead).
	attach func(dir string, prog []insn) error
	// inUserNS says whether this process is in a user namespace other
	// than the host's (namespaces.InUserNS; tests say instead).
	inUserNS func() bool
}

// New returns the Manager of the container whose cgroup directory is dir.
func New(dir string) *Manager {
	return &Manager{dir: dir, ops: cgfs.Kernel(), attach: attachDeviceFilter, inUserNS: namespaces.InUserNS}
}

// WithOps makes m use ops in place of the kernel's (a fake cgroup tree:
// cgfstest), and returns it.
func (m *Manager) WithOps(ops cgfs.Ops) *Manager {
	m.ops = ops
	return m
}

// Mode is V2, the layout this driver is for.
func (m *Manager) Mode() cgfs.Mode { return cgfs.V2 }

// Path returns the container's directory; every controller shares it.
func (m *Manager) Path(string) string {
	return m.dir
}

// Create enables the controllers, makes the container's directory (and
// missing parents) and writes the limits of r, which may be nil. The
// container's directory must not exist yet: a cgroup shared with someone
// else would have its processes killed by Destroy. On failure it removes
// the directories it made.
func (m *Manager) Create(r *specs.LinuxResources) error {
	if len(m.made) > 0 {
		return errors.New("cgroup v2: Create called twice")
	}
	if err := m.create(r); err != nil {
		return errors.Join(err, m.Destroy())
	}
	return nil
}

func (m *Manager) create(r *specs.LinuxResources) error {
	missing, err := cgfs.Missing(m.dir)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return &os.PathError{Op: "mkdir", Path: m.dir, Err: unix.EEXIST}
	}
	parent := filepath.Dir(missing[0])
	enable, err := choose(parent, r)
	if err != nil {
		return err
	}
	if err := enableControllers(parent, enable); err != nil {
		return err
	}
	for _, d := range missing {
		if err := m.mkdir(d, enable); err != nil {
			return err
		}
	}
	if err := m.set(r); err != nil {
		return err
	}
	return m.setDevices(r)
}

// set writes the limits of r with each controller's plan: the one writer
// of Create and Update.
func (m *Manager) set(r *specs.LinuxResources) error {
	return cgfs.Set(controllers, func(string) string { return m.dir }, r)
}

// Update writes the limits that r sets in the container's cgroup, made by
// Create, as Create writes them (set): a nil or zero field leaves a limit
// as it is, a negative one removes it, and every write is planned, and
// checked against the values in force, before the first is made. It fails
// when r asks for a limit of a controller the cgroup does not have, and
// for device rules (devices.ErrUpdate).
func (m *Manager) Update(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if len(r.Devices) > 0 {
		return fmt.Errorf("cgroup v2: %w", devices.ErrUpdate)
	}
	if err := checkEnabled(m.dir, r); err != nil {
		return err
	}
	return m.set(r)
}

// checkEnabled fails when r asks for a limit of a controller that the
// container's cgroup does not have (its cgroup.controllers).
func checkEnabled(dir string, r *specs.LinuxResources) error {
	text, err := cgfs.ReadFile(dir, "cgroup.controllers")
	if err != nil {
		return err
	}
	for _, c := range controllers {
		if c.Wanted(r) && !slices.Contains(strings.Fields(text), c.Name) {
			return fmt.Errorf("cgroup v2: a %s limit is set but the %s controller is not enabled in %s (cgroup.controllers: %q)",
				c.Name, c.Name, dir, text)
		}
	}
	return nil
}

// mkdir makes one directory of the chain down to the container's, and
// enables the controllers in it unless it is the container's own.
func (m *Manager) mkdir(dir string, enable []string) error {
	leaf := dir == m.dir
	made, err := m.ops.MakeDir(dir, leaf)
	if made {
		m.made = append(m.made, dir)
	}
	if err != nil || leaf {
		return err
	}
	return enableControllers(dir, enable)
}

// choose returns the managed controllers that parent offers its children
// (those on demand only when r asks for them), failing when r asks for a
// limit of one that it does not offer.
func choose(parent string, r *specs.LinuxResources) ([]string, error) {
	text, err := cgfs.ReadFile(parent, "cgroup.controllers")
	if err != nil {
		return nil, err
	}
	offered := strings.Fields(text)
	var enable []string
	for _, c := range controllers {
		switch {
		case c.OnDemand && !c.Wanted(r):
		case slices.Contains(offered, c.Name):
			enable = append(enable, c.Name)
		case c.Wanted(r):
			return nil, fmt.Errorf("cgroup v2: a %s limit is set but the %s controller is not available in %s (cgroup.controllers: %q)",
				c.Name, c.Name, parent, text)
		}
	}
	return enable, nil
}

// enableControllers adds names to dir/cgroup.subtree_control, writing only
// those not enabled yet.
func enableControllers(dir string, names []string) error {
	text, err := cgfs.ReadFile(dir, "cgroup.subtree_control")
	if err != nil {
		return err
	}
	enabled := strings.Fields(strings.ReplaceAll(text, "+", ""))
	var add []string
	for _, name := range names {
		if !slices.Contains(enabled, name) {
			add = append(add, "+"+name)
		}
	}
	if len(add) == 0 {
		return nil
	}
	return explainBusy(dir, cgfs.WriteFile(dir, "cgroup.subtree_control", strings.Join(add, " ")))
}

// explainBusy tells why writing dir's cgroup.subtree_control failed with
// EBUSY, and what to do.
func explainBusy(dir string, err error) error {
	if !errors.Is(err, unix.EBUSY) {
		return err
	}
	return fmt.Errorf("%w: %s has processes of its own, and cgroup v2 lets a cgroup with processes "+
		"give no controllers to its children (the no internal processes rule); "+
		"place the container beneath a cgroup without processes (--cgroup-parent)", err, dir)
}

// Apply moves the process pid into the container's cgroup.
func (m *Manager) Apply(pid int) error {
	return cgfs.WriteFile(m.dir, "cgroup.procs", strconv.Itoa(pid))
}

// OOMKillCount reads oom_kill from memory.events.
func (m *Manager) OOMKillCount() (uint64, error) {
	return cgfs.ReadKeyValue(m.dir, "memory.events", "oom_kill")
}

// Destroy kills the processes left in the container's cgroup (one write to
// cgroup.kill where the kernel has it, 5.14 and later; else SIGKILL to each
// process in cgroup.procs), removes it, and then removes the parents Create
// made (unless other cgroups were placed in them meanwhile). It removes
// only what Create made, and calling it again is harmless.
func (m *Manager) Destroy() error {
	left, err := m.ops.Undo(m.made, m.isLeaf, m.remove)
	m.made = left
	return err
}

func (m *Manager) isLeaf(dir string) bool {
	return dir == m.dir
}

func (m *Manager) remove(dir string) error {
	killed := cgfs.Exists(dir, "cgroup.kill") && cgfs.WriteFile(dir, "cgroup.kill", "1") == nil
	return m.ops.Remove(dir, !killed)
}

// Made returns the directories Create made, in the order made.
func (m *Manager) Made() []string { return append([]string(nil), m.made...) }

// Restore returns the Manager of a cgroup that another process created:
// dir as for New, made as that Manager's Made.
func Restore(dir string, made []string) *Manager {
	m := New(dir)
	m.made = append([]string(nil), made...)
	return m
}

// Pids lists the processes in the container's cgroup.
func (m *Manager) Pids() ([]int, error) { return cgfs.ReadPids(m.dir) }
