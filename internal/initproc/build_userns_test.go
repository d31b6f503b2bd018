package initproc_test

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/plan"
)

// TestBuildUserNS: in a user namespace of the container's own no device is
// made (the kernel refuses mknod there): the host's /dev/null is bound
// onto an empty file and checked; sysfs is mounted where the container
// has its own network namespace, the host's /sys bound (recursively)
// where it has not.
func TestBuildUserNS(t *testing.T) {
	if namespaces.InUserNS() {
		t.Skip("the test runs in a user namespace: the plan binds devices whatever the spec says")
	}
	for _, tc := range []struct {
		name             string
		userns, netns    bool
		mknod, sysfsBind bool
	}{
		{"host's user namespace", false, true, true, false},
		{"own user namespace", true, true, false, false},
		{"own user namespace, host's network", true, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig(t, []string{"true"})
			s := cfg.Spec
			if tc.userns {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			}
			if !tc.netns {
				s.Linux.Namespaces = slicesDeleteNS(s.Linux.Namespaces, specs.NetworkNamespace)
			}
			p := build(t, cfg)
			var mknod, devBind, devCheck, sysfs, sysBind bool
			for _, o := range p.Ops {
				switch {
				case o.Code == plan.OpMknod && o.Path == "/dev/null":
					mknod = true
				case o.Code == plan.OpMount && o.Path == "/dev/null":
					devBind = o.Ints[0] == unix.MS_BIND && o.Ints[1] == plan.FlagMkfile && string(o.Strs[0]) == "/dev/null"
				case o.Code == plan.OpCheckDev && o.Path == "/dev/null":
					devCheck = o.Ints[0] == unix.S_IFCHR && o.Ints[1] == unix.Mkdev(1, 3)
				case o.Code == plan.OpMount && o.Path == "/sys" && string(o.Strs[2]) == "sysfs":
					sysfs = true
				case o.Code == plan.OpMount && o.Path == "/sys" && o.Ints[0]&unix.MS_BIND != 0 && o.Ints[0]&unix.MS_REMOUNT == 0:
					sysBind = o.Ints[0]&unix.MS_REC != 0 && string(o.Strs[0]) == "/sys"
				}
			}
			if mknod != tc.mknod || devBind == tc.mknod || devCheck == tc.mknod {
				t.Errorf("/dev/null: mknod %v, bound from the host %v, checked %v; want mknod %v", mknod, devBind, devCheck, tc.mknod)
			}
			if sysBind != tc.sysfsBind || sysfs == tc.sysfsBind {
				t.Errorf("/sys: sysfs %v, the host's bound %v; want bound %v", sysfs, sysBind, tc.sysfsBind)
			}
		})
	}
}

func slicesDeleteNS(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, n := range ns {
		if n.Type != t {
			out = append(out, n)
		}
	}
	return out
}
