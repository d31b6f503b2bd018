package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// The device cgroup (linux.resources.devices): the devices hierarchy on
// v1, an eBPF program attached to the container's cgroup on v2. These
// tests only read devices, never write one: a node that a test makes is a
// block device that is opened for reading, and nothing is written to
// /dev/zero (it is opened for writing at most).

// blockNodeScript makes a block device node for 8:0 (sda on most hosts; it
// need not exist: the device cgroup decides at mknod and at open) in the
// container's /tmp and reads a byte of it, then removes it; it prints
// "sda STATUS".
func blockNodeScript(node string) string {
	return fmt.Sprintf(`mknod %[1]s b 8 0 && head -c 1 %[1]s >/dev/null; echo "sda $?"; rm -f %[1]s`, node)
}

// tmpNode is a path in the container's /tmp (the shared rootfs) for a
// node, removed from the host side too when the test ends.
func tmpNode(t *testing.T) string {
	node := fmt.Sprintf("/tmp/md-sda-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
	t.Cleanup(func() { os.Remove(filepath.Join(env.rootfs, node)) })
	return node
}

// TestDevicesDefault: minimal-docker run's device cgroup lets the standard
// nodes work and refuses any other device, at mknod or at open, with
// EPERM; --privileged lifts it.
func TestDevicesDefault(t *testing.T) {
	testenv.RequireRoot(t)
	t.Run("standard nodes work", func(t *testing.T) {
		run(t, nil, "sh", "-c", `head -c 1 /dev/zero | od -An -tx1; echo x > /dev/null && echo null-ok; head -c 4 /dev/urandom | wc -c`).
			wantOutput(t, "00", "null-ok", "4")
	})
	t.Run("another device is refused", func(t *testing.T) {
		r := run(t, nil, "sh", "-c", blockNodeScript(tmpNode(t)))
		r.wantOutput(t, "sda 1")
		r.wantStderr(t, "Operation not permitted")
	})
	t.Run("privileged", func(t *testing.T) {
		// Every device is allowed: the node is made, and opening it fails,
		// if at all, for another reason (no such disk here).
		r := run(t, []string{"--privileged"}, "sh", "-c", blockNodeScript(tmpNode(t)))
		r.wantExit(t, 0)
		if strings.Contains(r.stderr, "mknod") || strings.Contains(r.stderr, "Operation not permitted") {
			t.Errorf("the device cgroup refused a --privileged container\n%s", r)
		}
	})
}

// TestDevicesDefaultOnHost reads the default rules from the host's devices
// hierarchy while the container runs (v1; on v2 the program is not
// readable as text, and the tests above prove it).
func TestDevicesDefaultOnHost(t *testing.T) {
	testenv.RequireRoot(t)
	if isV2() {
		t.Skip("cgroup v2: the rules are an eBPF program, proved by TestDevicesDefault")
	}
	cidfile := filepath.Join(t.TempDir(), "cid")
	p := startWithStdin(t, runArgs([]string{"-i", "--cidfile", cidfile}, waitScript...)...)
	p.waitLine(t, "ready")
	dir := containerCgroupDir(t, "devices", "", readCID(t, cidfile))
	if !cgroupHasPID(t, dir, p.containerPID(t)) {
		t.Errorf("the container's PID 1 is not in %s", dir)
	}
	// The standard nodes, then the runtime's mknod rules (runc's).
	want := "c 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 136:* rwm\nc 5:2 rwm\nc *:* m\nb *:* m"
	if got := readFile(t, filepath.Join(dir, "devices.list")); got != want {
		t.Errorf("%s/devices.list:\n%s\nwant:\n%s", dir, got, want)
	}
	p.release(t)
	p.wait(t).wantExit(t, 0)
	if testenv.Exists(dir) {
		t.Errorf("the devices cgroup %s is left after the run", dir)
	}
}

// cdev is an allowing or denying rule for character devices major:minor
// (-1: any).
func cdev(allow bool, major, minor int64, access string) specs.LinuxDeviceCgroup {
	r := specs.LinuxDeviceCgroup{Allow: allow, Type: "c", Access: access}
	if major >= 0 {
		r.Major = &major
	}
	if minor >= 0 {
		r.Minor = &minor
	}
	return r
}

// tunDevice is /dev/net/tun (c 10:200), made through linux.devices: not a
// standard node, so only the config's rules decide whether it opens. It
// is opened read-only, which changes nothing (ENODEV when the driver is
// absent means the device cgroup let the open through).
var tunDevice = func() specs.LinuxDevice {
	mode := os.FileMode(0o666)
	return specs.LinuxDevice{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200, FileMode: &mode}
}()

// tunScript prints null-ok when /dev/null works, then tun-denied or
// tun-allowed.
const tunScript = `cat /dev/null && echo null-ok
if (exec 3</dev/net/tun) 2>/tmp/err; then echo tun-allowed
elif grep -q 'not permitted' /tmp/err; then echo tun-denied
else echo tun-allowed; fi`

// TestDevicesRunc: a config.json's rules, applied in order and followed
// by the runtime's own (the standard nodes stay usable, as with runc);
// each case opens /dev/null and /dev/net/tun.
func TestDevicesRunc(t *testing.T) {
	testenv.RequireRoot(t)
	denyAll := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	tests := []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		tun   string
	}{
		{"deny-all only (what Podman sends)", []specs.LinuxDeviceCgroup{denyAll}, "tun-denied"},
		{"allowed", []specs.LinuxDeviceCgroup{denyAll, cdev(true, 10, 200, "rwm")}, "tun-allowed"},
		{"a later deny of reading", []specs.LinuxDeviceCgroup{denyAll, cdev(true, 10, 200, "rwm"), cdev(false, 10, 200, "r")}, "tun-denied"},
		{"a deny list without deny-all", []specs.LinuxDeviceCgroup{cdev(false, 10, 200, "rw")}, "tun-denied"},
		{"a later allow", []specs.LinuxDeviceCgroup{cdev(false, 10, 200, "rw"), cdev(true, 10, 200, "r")}, "tun-allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ociRun(t, func(s *specs.Spec) {
				s.Linux.Resources.Devices = tt.rules
				s.Linux.Devices = append(s.Linux.Devices, tunDevice)
			}, "sh", "-c", tunScript)
			r.wantOutput(t, "null-ok", tt.tun)
		})
	}
}

// TestDevicesRuncHole: a deny inside an earlier wildcard allow. The v2
// program honours it; the v1 device cgroup keeps exceptions, not ordered
// rules, would ignore it, and so the run is refused, naming the rule.
func TestDevicesRuncHole(t *testing.T) {
	testenv.RequireRoot(t)
	rules := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, cdev(true, -1, -1, "rwm"), cdev(false, 10, 200, "rw")}
	r := ociRun(t, func(s *specs.Spec) {
		s.Linux.Resources.Devices = rules
		s.Linux.Devices = append(s.Linux.Devices, tunDevice)
	}, "sh", "-c", tunScript)
	if isV2() {
		r.wantOutput(t, "null-ok", "tun-denied")
		return
	}
	r.wantRefused(t, "linux.resources.devices[2] (deny c 10:200 rw)", "cannot deny part of the earlier exception allow c *:* rwm")
}

// TestDevicesRuncRefused: rules that cannot be honoured fail before the
// container runs, naming the rule; an update of the rules is refused.
func TestDevicesRuncRefused(t *testing.T) {
	testenv.RequireRoot(t)
	t.Run("bad rule", func(t *testing.T) {
		ociRun(t, func(s *specs.Spec) {
			s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Type: "x", Access: "rwm"}}
		}, "true").wantRefused(t, `linux.resources.devices[0]: type "x"`)
	})
	t.Run("update", func(t *testing.T) {
		b := newBundle(t, "sleep", "1000")
		id := uniqueName("devupd")
		runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
		out, code := runcWithStdin(t, b, `{"devices":[{"allow":true,"access":"rwm"}]}`, "update", "-r", "-", id)
		if code == 0 || !strings.Contains(out, "devices") {
			t.Errorf("update of the device rules: exit %d, want a refusal naming devices\n%s", code, out)
		}
		runc(t, b, "delete", "--force", id).wantExit(t, 0)
	})
}
