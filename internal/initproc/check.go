package initproc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/caps"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// Check returns the first error in what the setup steps (Steps,
// FinalSteps) read from s and would refuse, told before the container
// exists: spec.Check calls it, after its own checks (s has a process, a
// root and a linux section). The checks run in the order of the steps
// that depend on them, and only for the steps that apply.
//
// What only the container's own view can tell stays with the steps: a
// sysctl the container's namespaces lack, a /proc/sys that is not procfs,
// a device node or /dev/null in the rootfs that is not what it must be,
// the working directory, the command as the mounts make it, and what the
// kernel refuses when it is asked (a lower oomScoreAdj or a higher hard
// rlimit without CAP_SYS_RESOURCE, a mount).
func Check(s *specs.Spec) error {
	for _, check := range []func(*specs.Spec) error{
		checkOOMScoreAdj,
		checkUser,
		checkCapabilities,
		checkPropagation,
		checkDevices,
		checkConsole,
		func(s *specs.Spec) error { return checkSysctls(s.Linux) },
		checkPaths,
		func(s *specs.Spec) error {
			_, err := parseRlimits(s.Process.Rlimits)
			return err
		},
	} {
		if err := check(s); err != nil {
			return err
		}
	}
	return nil
}

// ownsMounts: the container has a mount namespace of its own, in which
// the steps that mount run (the others are refused without one:
// spec.SharesMounts).
func ownsMounts(s *specs.Spec) bool {
	return namespaces.In(s.Linux.Namespaces, specs.MountNamespace)
}

// checkPropagation checks linux.rootfsPropagation (rootfs.Propagation).
func checkPropagation(s *specs.Spec) error {
	if !ownsMounts(s) {
		return nil
	}
	_, err := rootfs.Propagation(s.Linux.RootfsPropagation)
	return err
}

func checkDevices(s *specs.Spec) error {
	if !ownsMounts(s) {
		return nil
	}
	return rootfs.CheckDevices(s.Linux.Devices)
}

func checkPaths(s *specs.Spec) error {
	if !ownsMounts(s) {
		return nil
	}
	return rootfs.CheckPaths(s.Linux.ReadonlyPaths, s.Linux.MaskedPaths)
}

// checkConsole checks process.consoleSize of a process with a terminal.
func checkConsole(s *specs.Spec) error {
	if sz := consoleSize(s.Process); s.Process.Terminal && sz != nil {
		return checkConsoleSize(sz)
	}
	return nil
}

// checkOOMScoreAdj checks process.oomScoreAdj: the kernel's range.
func checkOOMScoreAdj(s *specs.Spec) error {
	if v := s.Process.OOMScoreAdj; v != nil && (*v < -1000 || *v > 1000) {
		return fmt.Errorf("process.oomScoreAdj %d: want -1000 to 1000", *v)
	}
	return nil
}

// ngroupsMax is the kernel's limit on supplementary groups (NGROUPS_MAX).
const ngroupsMax = 65536

// checkUser checks what the final steps do with process.user after start:
// its umask and its number of groups. Its errors come from create, not
// after start.
func checkUser(s *specs.Spec) error {
	u := s.Process.User
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
func checkCapabilities(s *specs.Spec) error {
	if s.Process.Capabilities == nil {
		return nil
	}
	want, err := caps.Parse(s.Process.Capabilities)
	if err != nil {
		return err
	}
	return want.CheckCurrent()
}
