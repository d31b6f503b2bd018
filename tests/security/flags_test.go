package security

import (
	"strings"
	"testing"
)

// flagRow is a case run with --privileged, --cap-add or --cap-drop, and
// what Docker documents for it then.
type flagRow struct {
	helper string
	flags  []string
	// defence is one Docker still applies under these flags (for example
	// seccomp under --cap-add), "" when the flags lift every one.
	defence string
	expect
	docker string
}

var privileged = []string{"--privileged"}

func capAdd(c string) []string  { return []string{"--cap-add", c} }
func capDrop(c string) []string { return []string{"--cap-drop", c} }

// flagRows: Docker's documentation of --privileged ("all capabilities, no
// seccomp, no AppArmor, every device") and of each capability, case by
// case. Left out on purpose: writing /sys and the cgroup tree under
// --privileged, which Docker mounts read-write and this runtime keeps
// read-only (see the rows' privileged notes).
func flagRows() []flagRow {
	hostBlock, hostChar := hostForbids(&env.blockdev), hostForbids(&env.chardev)
	return []flagRow{
		// --privileged: nothing answers but the kernel.
		{helper: "mount-tmpfs", flags: privileged, expect: expect{want: "ok"}, docker: "mount allowed"},
		{helper: "umount-masked", flags: privileged, expect: expect{want: "ok /dev/mqueue"}, docker: "nothing masked; umount allowed"},
		{helper: "unshare-user", flags: privileged, expect: expect{want: "ok"}, docker: "no seccomp"},
		{helper: "unshare-net", flags: privileged, expect: expect{want: "ok"}, docker: "CAP_SYS_ADMIN"},
		{helper: "setns", flags: privileged, expect: expect{want: "ok foreign=0"}, docker: "setns allowed; still no host namespace in reach"},
		{helper: "sethostname", flags: privileged, expect: expect{want: "ok hostname=md-security-probe"}, docker: "allowed, in the container's UTS namespace only"},
		{helper: "pivot-root", flags: privileged, expect: expect{want: "errno=EBUSY"}, docker: "no seccomp: the kernel answers (. is the root mount)"},
		{helper: "reboot", flags: privileged, expect: expect{want: "errno=EINVAL"}, docker: "CAP_SYS_BOOT; a child PID namespace takes only restart and power-off"},
		{helper: "kexec-load", flags: privileged, expect: expect{want: "ok", kernel: noKexec}, docker: "CAP_SYS_BOOT, no seccomp (no image loaded, none unloaded)"},
		{helper: "init-module", flags: privileged, expect: expect{want: "errno=ENOEXEC", kernel: noModules}, docker: "CAP_SYS_MODULE: the kernel reads the bytes and finds no module"},
		{helper: "delete-module", flags: privileged, expect: expect{want: "errno=ENOENT", kernel: noModules}, docker: "CAP_SYS_MODULE: no such module"},
		{helper: "clock-settime", flags: privileged, expect: expect{want: "ok"}, docker: "CAP_SYS_TIME: the host's clock (set to the time it read)"},
		{helper: "iopl", flags: privileged, expect: expect{want: "ok", kernel: noIOPorts}, docker: "CAP_SYS_RAWIO"},
		{helper: "swapon", flags: privileged, expect: expect{want: "errno=EINVAL"}, docker: "no seccomp: the kernel finds no swap signature"},
		{helper: "acct", flags: privileged, expect: expect{want: "ok"}, docker: "CAP_SYS_PACCT"},
		{helper: "proc-kcore", flags: privileged, expect: expect{want: "ok masked=no", kernel: noKcore}, docker: "not masked; CAP_SYS_RAWIO"},
		{helper: "proc-keys", flags: privileged, expect: expect{want: "ok masked=no"}, docker: "not masked"},
		{helper: "sysrq-trigger", flags: privileged, expect: expect{want: "ok", kernel: noSysrq}, docker: "not read-only"},
		{helper: "core-pattern", flags: privileged, expect: expect{want: "ok"}, docker: "/proc/sys not read-only (written back unchanged)"},
		{helper: "mknod-block", flags: privileged, expect: expect{want: deviceThrough, kernel: hostBlock}, docker: "every device (ENXIO/ENODEV: the kernel has no driver for it)"},
		{helper: "mknod-char", flags: privileged, expect: expect{want: deviceThrough, kernel: hostChar}, docker: "every device (ENXIO/ENODEV: the kernel has no driver for it)"},
		{helper: "open-by-handle", flags: privileged, expect: expect{want: "ok"}, docker: "CAP_DAC_READ_SEARCH: the shocker works"},
		{helper: "bpf-map", flags: privileged, expect: expect{want: "ok"}, docker: "CAP_SYS_ADMIN, no seccomp"},
		{helper: "clone3", flags: privileged, expect: expect{want: "errno=EINVAL"}, docker: "no seccomp: the kernel answers"},
		{helper: "capset", flags: privileged, expect: expect{want: "ok"}, docker: "every capability"},
		{helper: "syslog", flags: privileged, expect: expect{want: "ok"}, docker: "CAP_SYSLOG, no seccomp"},
		{helper: "ptrace-pid1-nobody", flags: privileged, expect: expect{want: "errno=EPERM"}, docker: "nobody holds no capability, even then"},
		{helper: "chroot-fchdir", flags: privileged, expect: expect{want: "ok escaped=no"}, docker: "still the container's root"},
		{helper: "proc-fds", flags: privileged, expect: expect{want: "ok leaked=none"}, docker: "no leaked descriptor either"},

		// --cap-add: the capability, and Docker's seccomp profile opens the
		// system calls it guards, and only those.
		{helper: "mount-tmpfs", flags: capAdd("SYS_ADMIN"), expect: expect{want: "ok"}, docker: "SYS_ADMIN: mount allowed (AppArmor aside)"},
		{helper: "unshare-user", flags: capAdd("SYS_ADMIN"), expect: expect{want: "ok"}, docker: "SYS_ADMIN: unshare allowed"},
		{helper: "unshare-mnt", flags: capAdd("SYS_ADMIN"), expect: expect{want: "ok"}, docker: "SYS_ADMIN: unshare allowed"},
		{helper: "setns", flags: capAdd("SYS_ADMIN"), expect: expect{want: "ok foreign=0"}, docker: "SYS_ADMIN: setns allowed"},
		{helper: "sethostname", flags: capAdd("SYS_ADMIN"), expect: expect{want: "ok"}, docker: "SYS_ADMIN: sethostname allowed"},
		{helper: "bpf-map", flags: capAdd("SYS_ADMIN"), expect: expect{want: "ok"}, docker: "SYS_ADMIN: bpf allowed"},
		{helper: "clone3", flags: capAdd("SYS_ADMIN"), expect: expect{want: "errno=EINVAL"}, docker: "SYS_ADMIN: clone3 allowed, so the kernel answers"},
		{helper: "pivot-root", flags: capAdd("SYS_ADMIN"), defence: "seccomp", expect: expect{want: "errno=EPERM", through: "errno=EBUSY"}, docker: "SYS_ADMIN: still EPERM (pivot_root is not in the allow-list)"},
		{helper: "swapon", flags: capAdd("SYS_ADMIN"), defence: "seccomp", expect: expect{want: "errno=EPERM", through: "errno=EINVAL"}, docker: "SYS_ADMIN: still EPERM (swapon is not in the allow-list)"},
		{helper: "mknod-block", flags: capAdd("SYS_ADMIN"), defence: "devcgroup", expect: expect{want: "errno=EPERM", kernel: hostBlock, through: deviceThrough}, docker: "SYS_ADMIN: still EPERM (the device cgroup)"},
		{helper: "clock-settime", flags: capAdd("SYS_TIME"), expect: expect{want: "ok"}, docker: "SYS_TIME: the host's clock"},
		{helper: "settimeofday", flags: capAdd("SYS_TIME"), expect: expect{want: "ok"}, docker: "SYS_TIME"},
		{helper: "adjtimex", flags: capAdd("SYS_TIME"), expect: expect{want: "ok"}, docker: "SYS_TIME"},
		{helper: "reboot", flags: capAdd("SYS_BOOT"), expect: expect{want: "errno=EINVAL"}, docker: "SYS_BOOT: reboot allowed; the PID namespace answers"},
		{helper: "kexec-load", flags: capAdd("SYS_BOOT"), defence: "seccomp", expect: expect{want: "errno=EPERM", kernel: noKexec}, docker: "SYS_BOOT: still EPERM (kexec_load is not in the allow-list)"},
		{helper: "init-module", flags: capAdd("SYS_MODULE"), expect: expect{want: "errno=ENOEXEC", kernel: noModules}, docker: "SYS_MODULE"},
		{helper: "delete-module", flags: capAdd("SYS_MODULE"), expect: expect{want: "errno=ENOENT", kernel: noModules}, docker: "SYS_MODULE"},
		{helper: "acct", flags: capAdd("SYS_PACCT"), expect: expect{want: "ok"}, docker: "SYS_PACCT"},
		{helper: "iopl", flags: capAdd("SYS_RAWIO"), expect: expect{want: "ok", kernel: noIOPorts}, docker: "SYS_RAWIO"},
		{helper: "mknod-mem", flags: capAdd("SYS_RAWIO"), defence: "devcgroup", expect: expect{want: "errno=EPERM", through: deviceThrough}, docker: "SYS_RAWIO: still EPERM (the device cgroup)"},
		{helper: "open-by-handle", flags: capAdd("DAC_READ_SEARCH"), expect: expect{want: "ok"}, docker: "DAC_READ_SEARCH: the shocker works"},
		{helper: "syslog", flags: capAdd("SYSLOG"), expect: expect{want: "ok"}, docker: "SYSLOG"},
		{helper: "userfaultfd", flags: capAdd("SYS_PTRACE"), defence: "seccomp", expect: expect{want: "errno=EPERM"}, docker: "SYS_PTRACE: still EPERM (userfaultfd is not in the allow-list)"},
		{helper: "ptrace-pid1", flags: capAdd("SYS_PTRACE"), expect: expect{want: "ok"}, docker: "SYS_PTRACE"},
		{helper: "core-pattern", flags: capAdd("SYS_ADMIN"), expect: expect{want: "errno=EROFS"}, docker: "SYS_ADMIN: /proc/sys stays read-only"},

		// --cap-drop: a default capability gone.
		{helper: "mknod-block", flags: capDrop("MKNOD"), expect: expect{want: "errno=EPERM stage=mknod"}, docker: "no CAP_MKNOD: mknod fails"},
		{helper: "chroot-fchdir", flags: capDrop("SYS_CHROOT"), expect: expect{want: "errno=EPERM"}, docker: "no CAP_SYS_CHROOT: chroot fails"},
	}
}

// TestEscapesWithFlags runs a subset of the cases with --privileged,
// --cap-add and --cap-drop and checks that they succeed or fail as Docker
// documents, and that the host did not change.
func TestEscapesWithFlags(t *testing.T) {
	requireSuite(t)
	for _, r := range flagRows() {
		name := strings.TrimLeft(strings.Join(r.flags, "="), "-") + "/" + r.helper
		t.Run(name, func(t *testing.T) {
			t.Logf("Docker: %s", r.docker)
			before := takeHostState(t, nil)
			o, err := runHelper(r.flags, env.rootfs, r.helper)
			if err != nil {
				t.Fatal(err)
			}
			defence := r.defence
			if defence == "" {
				defence = "none (the flags lift the defences)"
			}
			judge(t, o, defence, r.expect, hostChanges(t, before, nil))
		})
	}
}
