package rootfs

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DevPTYs are the character devices of the container's own devpts
// instance, beside DevNodes: /dev/pts/N (the pty slaves, major 136, any
// minor) and /dev/pts/ptmx, the multiplexer that /dev/ptmx links to (5:2).
var DevPTYs = []struct {
	Name         string
	Major, Minor int64 // Minor -1: any
}{
	{"pts/*", 136, -1},
	{"ptmx", 5, 2},
}

// DeviceRules are the device cgroup rules of a container that may use the
// standard nodes and nothing else, as Docker and runc give it: deny every
// access to every device, then allow read, write and mknod of each of
// DevNodes and DevPTYs.
func DeviceRules() []specs.LinuxDeviceCgroup {
	rules := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	allow := func(major, minor int64) {
		r := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Access: "rwm"}
		if minor >= 0 {
			r.Minor = &minor
		}
		rules = append(rules, r)
	}
	for _, d := range DevNodes {
		allow(int64(d.Major), int64(d.Minor))
	}
	for _, d := range DevPTYs {
		allow(d.Major, d.Minor)
	}
	return rules
}

// RuntimeDeviceRules are the rules a runtime appends after a config's own
// (as runc and crun do, and as engines rely on: Podman sends only a
// deny-all): mknod of any character or block device, and read, write and
// mknod of the standard nodes and the ptys, so that the container's /dev
// works whatever the config denies.
func RuntimeDeviceRules() []specs.LinuxDeviceCgroup {
	mknod := []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "c", Access: "m"},
		{Allow: true, Type: "b", Access: "m"},
	}
	return append(mknod, DeviceRules()[1:]...)
}
