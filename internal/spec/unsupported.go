package spec

import (
	"fmt"
	"math"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
)

// What the runtime does not do (yet), or cannot change in a running
// container: a field that can't be honoured is refused with its name,
// never ignored.

// fields collects the names of the fields that are set where they must
// not be.
type fields []string

// add names field when set.
func (f *fields) add(set bool, field string) {
	if set {
		*f = append(*f, field)
	}
}

// checkUnsupported refuses a spec that asks for what the runtime does not
// do yet, and a hostname or domainname without a UTS namespace of the
// container's own.
func checkUnsupported(s *specs.Spec) error {
	var bad fields
	if p := s.Process; p != nil {
		bad.add(p.ApparmorProfile != "", "process.apparmorProfile")
		bad.add(p.SelinuxLabel != "", "process.selinuxLabel")
		bad.add(p.Scheduler != nil, "process.scheduler")
		bad.add(p.IOPriority != nil, "process.ioPriority")
		bad.add(p.ExecCPUAffinity != nil, "process.execCPUAffinity")
	}
	if l := s.Linux; l != nil {
		bad.add(l.IntelRdt != nil, "linux.intelRdt")
		bad.add(l.Personality != nil, "linux.personality")
		bad.add(l.MountLabel != "", "linux.mountLabel")
		bad.add(len(l.NetDevices) > 0, "linux.netDevices")
		bad.add(l.TimeOffsets != nil, "linux.timeOffsets")
		for _, r := range unsupportedResources(l.Resources) {
			bad = append(bad, "linux.resources."+r)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("not supported yet: %s", strings.Join(bad, ", "))
	}
	// Setting these without a UTS namespace of the container's own would
	// change the host's names.
	if (s.Hostname != "" || s.Domainname != "") && s.Linux != nil && !namespaces.In(s.Linux.Namespaces, specs.UTSNamespace) {
		return fmt.Errorf("hostname/domainname %q/%q: the container has no UTS namespace (add one to linux.namespaces)", s.Hostname, s.Domainname)
	}
	return nil
}

// CheckUpdate checks the limits of an update (runc update) before anything
// is written, naming the fields: it fails when r sets a limit that an
// update cannot change — anything but memory limit and swap, pids limit,
// cpu quota and period, and cpuset CPUs and memory nodes — or a value that
// is bad (cgroups.Validate, checkResources). Zero values are "leave it"
// (engines send them), not a request; the kernel memory limits are
// ignored (cgroups.Ignored).
func CheckUpdate(r *specs.LinuxResources) error {
	bad := append(unsupportedResources(r), createOnly(r)...)
	if len(bad) > 0 {
		return fmt.Errorf("cannot update %s: only memory (limit, swap), pids (limit), cpu (quota, period) and cpuset (cpus, mems) can be updated",
			strings.Join(bad, ", "))
	}
	if err := cgroups.Validate(r); err != nil {
		return err
	}
	return checkResources("", r, true)
}

// unsupportedResources names the fields of r that ask for a limit the
// cgroup drivers do not write. (The kernel memory limits are written by
// none either, but ignored with a warning, as runc does: cgroups.Ignored.)
func unsupportedResources(r *specs.LinuxResources) fields {
	if r == nil {
		return nil
	}
	var bad fields
	if m := r.Memory; m != nil {
		bad.add(m.UseHierarchy != nil && *m.UseHierarchy, "memory.useHierarchy")
		bad.add(m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate, "memory.checkBeforeUpdate")
	}
	if c := r.CPU; c != nil {
		bad.add(c.Burst != nil && *c.Burst != 0, "cpu.burst")
		bad.add(nonZero(c.RealtimeRuntime), "cpu.realtimeRuntime")
		bad.add(c.RealtimePeriod != nil && *c.RealtimePeriod != 0, "cpu.realtimePeriod")
		bad.add(c.Idle != nil && *c.Idle != 0, "cpu.idle")
	}
	bad.add(r.Network != nil && (r.Network.ClassID != nil && *r.Network.ClassID != 0 || len(r.Network.Priorities) > 0), "network")
	bad.add(len(r.Rdma) > 0, "rdma")
	bad.add(len(r.Unified) > 0, "unified")
	return bad
}

// createOnly names the fields of r that are written at create only: the
// cgroup drivers refuse device rules in an update (and a hybrid host's
// hugepage limits); the others they would write as at create (where the
// container has the controller), but update does not offer them (runc
// update offers the memory reservation, the cpu shares and the blkio
// weight).
func createOnly(r *specs.LinuxResources) fields {
	if r == nil {
		return nil
	}
	var bad fields
	// Written at create only (cgroups devices.ErrUpdate).
	bad.add(len(r.Devices) > 0, "devices")
	if m := r.Memory; m != nil {
		bad.add(nonZero(m.Reservation), "memory.reservation")
		bad.add(m.Swappiness != nil && *m.Swappiness != math.MaxUint64, "memory.swappiness")
		bad.add(m.DisableOOMKiller != nil && *m.DisableOOMKiller, "memory.disableOOMKiller")
	}
	bad.add(r.CPU != nil && r.CPU.Shares != nil && *r.CPU.Shares != 0, "cpu.shares")
	if b := r.BlockIO; b != nil {
		bad.add(b.Weight != nil && *b.Weight != 0, "blockIO.weight")
		bad.add(b.LeafWeight != nil && *b.LeafWeight != 0, "blockIO.leafWeight")
		bad.add(len(b.WeightDevice) > 0, "blockIO.weightDevice")
		bad.add(len(b.ThrottleReadBpsDevice)+len(b.ThrottleWriteBpsDevice)+
			len(b.ThrottleReadIOPSDevice)+len(b.ThrottleWriteIOPSDevice) > 0, "blockIO.throttle*")
	}
	bad.add(len(r.HugepageLimits) > 0, "hugepageLimits")
	return bad
}

func nonZero(n *int64) bool { return n != nil && *n != 0 }
