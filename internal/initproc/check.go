package initproc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/caps"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// Check returns the first error in what the setup steps (PlanSteps,
// FinalPlanSteps) read from s and would refuse, told before the container
// exists: spec.Check calls it, after its own checks (s has a process, a
// root and a linux section). The first error is returned, in the order of
// the steps that depend on the checks; a check of a step that does not
// apply passes.
//
// What only the container's own view can tell stays with the steps: a
// sysctl the container's namespaces lack, a /proc/sys that is not procfs,
// a device node or /dev/null in the rootfs that is not what it must be,
// the working directory, the command as the mounts make it, and what the
// kernel refuses when it is asked (a lower oomScoreAdj or a higher hard
// rlimit without CAP_SYS_RESOURCE, a mount).
func Check(s *specs.Spec) error {
	p := s.Process
	_, rlimits := parseRlimits(p.Rlimits)
	for _, err := range []error{
		checkOOMScoreAdj(p),
		checkUser(p.User),
		checkCapabilities(p.Capabilities),
		ownsMounts(s, func() error {
			_, err := rootfs.Propagation(s.Linux.RootfsPropagation)
			return err
		}),
		ownsMounts(s, func() error { return rootfs.CheckDevices(s.Linux.Devices) }),
		checkConsole(p),
		checkSysctls(s.Linux),
		ownsMounts(s, func() error { return rootfs.CheckPaths(s.Linux.ReadonlyPaths, s.Linux.MaskedPaths) }),
		rlimits,
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// ownsMounts is check's error when the container has a mount namespace of
// its own, in which the steps that mount run (without one, spec.Check
// refuses the fields they read: spec.SharesMounts).
func ownsMounts(s *specs.Spec, check func() error) error {
	if !namespaces.In(s.Linux.Namespaces, specs.MountNamespace) {
		return nil
	}
	return check()
}

// checkOOMScoreAdj checks process.oomScoreAdj: the kernel's range.
func checkOOMScoreAdj(p *specs.Process) error {
	if v := p.OOMScoreAdj; v != nil && (*v < -1000 || *v > 1000) {
		return fmt.Errorf("process.oomScoreAdj %d: want -1000 to 1000", *v)
	}
	return nil
}

// checkConsole checks process.consoleSize of a process with a terminal.
func checkConsole(p *specs.Process) error {
	if sz := consoleSize(p); p.Terminal && sz != nil {
		return checkConsoleSize(sz)
	}
	return nil
}

// ngroupsMax is the kernel's limit on supplementary groups (NGROUPS_MAX).
const ngroupsMax = 65536

// checkUser checks what the final steps do with process.user after start:
// its umask and its number of groups. Its errors come from create, not
// after start.
func checkUser(u specs.User) error {
	if u.Umask != nil && *u.Umask > 0o777 {
		return fmt.Errorf("process.user.umask %#o: want at most 0777", *u.Umask)
	}
	if n := len(u.AdditionalGids); n > ngroupsMax {
		return fmt.Errorf("process.user.additionalGids: %d groups, the kernel allows at most %d", n, ngroupsMax)
	}
	return nil
}

// checkCapabilities checks process.capabilities: known names, and none
// that this host withholds from the runtime (whose sets the container's
// init, started by it without a user namespace, has too).
func checkCapabilities(c *specs.LinuxCapabilities) error {
	if c == nil {
		return nil
	}
	want, err := caps.Parse(c)
	if err != nil {
		return err
	}
	return want.CheckCurrent()
}
