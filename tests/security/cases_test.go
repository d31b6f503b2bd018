package security

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/tests/security/internal/escapes"
)

// Defences, as a row names them ("+" joins two that both answer):
//
//	caps        the capability is not among Docker's 14
//	seccomp     Docker's default seccomp profile
//	devcgroup   the device cgroup (v1 devices.allow/deny, v2 a BPF program)
//	masked      a masked path: /dev/null over a file, an empty tmpfs over a directory
//	ro          a read-only mount: /proc/sys, /proc/sysrq-trigger, /sys, the cgroup tree
//	ns          the container's namespaces (PID, mount with pivot_root)
//	cloexec     no descriptor of the runtime's caller reaches the container
//	securejoin  mount targets resolved inside the rootfs
//	sealing     the runtime's binary is sealed (CVE-2019-5736)
//	kernel      the kernel itself (no runtime defence is involved)
//	allowed     Docker allows it too: the row records that it stays harmless
//
// Rows whose defence has not landed (env.pending) skip, saying "waiting
// for DEFENCE", only when the attempt got through (expect.through) and the
// host did not change; every other row passes or fails.

// row is one escape attempt with its expected outcome under the defaults,
// and what Docker documents.
type row struct {
	name    string   // subtest name, and the helper's case unless helper is set
	helper  string   // the helper's case, when it differs from name
	flags   []string // minimal-docker run flags of this row (beyond the defaults)
	defence string
	expect
	// What Docker documents: under its defaults, under --privileged, and
	// under the --cap-add that matters (see TestEscapesWithFlags).
	docker, privileged, capAdd string
	// touches are host files or directories this case aims at, checked
	// unchanged afterwards (besides hostState's usual ones).
	touches []string
	// setup, if set, prepares the host before its state is recorded (the
	// directories the symlinks point at).
	setup func(t *testing.T)
	// run, if set, makes the attempt (a special rootfs or bundle).
	run func(t *testing.T) outcome
}

func (r row) helperCase() string {
	if r.helper != "" {
		return r.helper
	}
	return r.name
}

// Outcomes on hosts whose kernel answers first.
var (
	noModules  = kernelIf(func(h hostFacts) bool { return !h.modules }, "errno=ENOSYS", "no module support (CONFIG_MODULES=n)")
	noKexec    = kernelIf(func(h hostFacts) bool { return !h.kexec }, "errno=ENOSYS", "no kexec (CONFIG_KEXEC=n)")
	noIOPorts  = kernelIf(func(h hostFacts) bool { return !h.ioports }, "errno=ENOSYS", "no iopl/ioperm (CONFIG_X86_IOPL_IOPERM=n)")
	noKcore    = kernelIf(func(h hostFacts) bool { return !h.kcore }, "errno=ENOENT", "no /proc/kcore (CONFIG_PROC_KCORE=n)")
	noSysrq    = kernelIf(func(h hostFacts) bool { return !h.sysrq }, "errno=ENOENT", "no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ=n)")
	noTimeNS   = kernelIf(func(h hostFacts) bool { return !h.timeNS }, "errno=EINVAL", "no time namespaces (CONFIG_TIME_NS=n)")
	bpfSysctl  = kernelIf(func(h hostFacts) bool { return h.bpfUnprivDisabled > 0 }, "errno=EPERM", "kernel.unprivileged_bpf_disabled")
	uffdSysctl = kernelIf(func(h hostFacts) bool { return h.uffdUnpriv == 0 }, "errno=EPERM", "vm.unprivileged_userfaultfd=0")
	dmesgRestr = kernelIf(func(h hostFacts) bool { return h.dmesgRestrict > 0 }, "errno=EPERM", "kernel.dmesg_restrict")
	perfSysctl = kernelIf(func(h hostFacts) bool { return h.perfParanoid > 2 }, "errno=EACCES", "kernel.perf_event_paranoid > 2")
	uringCtl   = kernelIf(func(h hostFacts) bool { return h.ioUringDisabled > 0 }, "errno=EPERM", "kernel.io_uring_disabled")
	oldUffd    = kernelIf(func(h hostFacts) bool { return !h.atLeast(5, 11) }, "errno=EINVAL", "no UFFD_USER_MODE_ONLY before Linux 5.11")
)

// deviceThrough: a device node opened without a device cgroup: it opens,
// or the kernel has no driver for it.
const deviceThrough = "ok|errno=ENXIO|errno=ENODEV"

// hostForbids: this host does not let even its own root open the device
// (a restriction outside the runtime), so an EPERM at open proves nothing
// about the device cgroup.
func hostForbids(d *hostDevice) func(hostFacts) (string, string) {
	return func(hostFacts) (string, string) {
		if errors.Is(d.openErr, os.ErrPermission) {
			return "errno=EPERM stage=open", fmt.Sprintf("the host's own root may not open %s: %v", d.path, d.openErr)
		}
		return "", ""
	}
}

// ptraceDenied: /proc/PID/exe of a process that holds capabilities the
// container lacks is out of its reach (the kernel's ptrace access check),
// sealed binary or not.
func ptraceDenied(hostFacts) (string, string) {
	return "errno=EACCES", "the ptrace access check: each exec'd runtime process held more capabilities than the container whenever the helper looked"
}

// yamaScope: Yama (ptrace_scope >= 1) forbids tracing a process that is not
// a descendant.
func yamaScope(h hostFacts) (string, string) {
	if h.yama >= 1 {
		return "errno=EPERM", "kernel.yama.ptrace_scope >= 1"
	}
	return "", ""
}

func eperm(defence, docker, privileged, capAdd string) row {
	return row{defence: defence, expect: expect{want: "errno=EPERM"}, docker: docker, privileged: privileged, capAdd: capAdd}
}

// rows is the adversarial table: every case of issue 5, under the defaults.
func rows() []row {
	var rs []row
	add := func(name string, r row) {
		r.name = name
		rs = append(rs, r)
	}
	// Namespaces.
	for _, ns := range []string{"mnt", "uts", "ipc", "net", "pid", "cgroup"} {
		add("unshare-"+ns, eperm("caps", "EPERM (seccomp: unshare needs CAP_SYS_ADMIN; and the capability)", "ok", "SYS_ADMIN: ok"))
	}
	r := eperm("caps", "EPERM (seccomp and the capability)", "ok", "SYS_ADMIN: ok")
	r.kernel = noTimeNS
	add("unshare-time", r)
	add("unshare-user", row{defence: "seccomp", expect: expect{want: "errno=EPERM"},
		docker: "EPERM (seccomp: unshare needs CAP_SYS_ADMIN; the kernel needs no capability for a user namespace)", privileged: "ok", capAdd: "SYS_ADMIN: ok"})
	add("setns", row{defence: "caps+ns", expect: expect{want: "errno=EPERM foreign=0"},
		docker: "EPERM (seccomp: setns needs CAP_SYS_ADMIN); no host namespace is reachable", privileged: "ok (its own namespace)", capAdd: "SYS_ADMIN: ok"})

	// Mounts and the root.
	add("mount-tmpfs", eperm("caps", "EPERM (seccomp and CAP_SYS_ADMIN; AppArmor too where it runs)", "ok", "SYS_ADMIN: ok (without AppArmor)"))
	add("mount-cgroup", eperm("caps", "EPERM (CVE-2022-0492 needs CAP_SYS_ADMIN)", "ok (v1)", "SYS_ADMIN: ok"))
	add("remount-sys-rw", eperm("caps", "EPERM", "ok (/sys is read-write under --privileged)", "SYS_ADMIN: ok"))
	add("remount-proc-sys-rw", eperm("caps", "EPERM", "ok", "SYS_ADMIN: ok"))
	add("umount-masked", eperm("caps", "EPERM (seccomp: umount2 needs CAP_SYS_ADMIN)", "ok (nothing masked: /dev/mqueue)", "SYS_ADMIN: ok"))
	add("fsopen", eperm("caps", "EPERM (seccomp: fsopen needs CAP_SYS_ADMIN)", "ok", "SYS_ADMIN: ok"))
	add("pivot-root", eperm("caps", "EPERM (pivot_root is not in the seccomp allow-list at all)", "EBUSY (the kernel: . is the root mount)", "SYS_ADMIN: EPERM (seccomp)"))
	add("chroot-fchdir", row{defence: "ns", expect: expect{want: "ok escaped=no"},
		docker: "chroot allowed (CAP_SYS_CHROOT is a default); the fchdir walk ends at the container's root", privileged: "same", capAdd: "--cap-drop SYS_CHROOT: EPERM"})
	add("open-by-handle", eperm("caps", "EPERM (CAP_DAC_READ_SEARCH: the shocker escape of Docker 0.11)", "ok (escapes to the filesystem's root)", "DAC_READ_SEARCH: ok"))

	// Kernel-wide system calls.
	add("reboot", eperm("caps", "EPERM (seccomp and CAP_SYS_BOOT)", "EINVAL (a child PID namespace takes only restart and power-off)", "SYS_BOOT: EINVAL"))
	r = eperm("caps", "EPERM (kexec_load is not in the seccomp allow-list)", "ok (no image loaded: nothing unloaded)", "SYS_BOOT: EPERM (seccomp)")
	r.kernel = noKexec
	add("kexec-load", r)
	for _, m := range []string{"init-module", "finit-module"} {
		r = eperm("caps", "EPERM (seccomp and CAP_SYS_MODULE)", "ENOEXEC (not a module)", "SYS_MODULE: ENOEXEC")
		r.kernel = noModules
		add(m, r)
	}
	r = eperm("caps", "EPERM (seccomp and CAP_SYS_MODULE)", "ENOENT (no such module)", "SYS_MODULE: ENOENT")
	r.kernel = noModules
	add("delete-module", r)
	r = eperm("seccomp", "EPERM (seccomp: bpf needs CAP_SYS_ADMIN or CAP_BPF)", "ok", "SYS_ADMIN: ok")
	r.kernel = bpfSysctl
	add("bpf-map", r)
	add("bpf-prog-ids", eperm("caps", "EPERM (seccomp and CAP_SYS_ADMIN)", "ok or ENOENT (no program)", "SYS_ADMIN: ok or ENOENT"))
	r = eperm("seccomp", "EPERM (seccomp: perf_event_open needs CAP_SYS_ADMIN or CAP_PERFMON)", "ok", "PERFMON: ok")
	r.kernel = perfSysctl
	add("perf-event-open", r)
	add("keyctl", eperm("seccomp", "EPERM (seccomp: keys are not namespaced)", "ok", ""))
	add("add-key", eperm("seccomp", "EPERM (seccomp: keys are not namespaced)", "ok", ""))
	for _, c := range []string{"clock-settime", "settimeofday", "adjtimex"} {
		add(c, eperm("caps", "EPERM (CAP_SYS_TIME; the clock is not namespaced)", "ok (the host's clock)", "SYS_TIME: ok"))
	}
	add("sethostname", eperm("caps", "EPERM (seccomp and CAP_SYS_ADMIN)", "ok (the container's UTS namespace only)", "SYS_ADMIN: ok"))
	add("setdomainname", eperm("caps", "EPERM (seccomp and CAP_SYS_ADMIN)", "ok (the container's UTS namespace only)", "SYS_ADMIN: ok"))
	for _, c := range []string{"iopl", "ioperm"} {
		r = eperm("caps", "EPERM (seccomp and CAP_SYS_RAWIO)", "ok", "SYS_RAWIO: ok")
		r.kernel = noIOPorts
		add(c, r)
	}
	add("swapon", eperm("caps", "EPERM (swapon is not in the seccomp allow-list)", "EINVAL (no swap signature)", "SYS_ADMIN: EPERM (seccomp)"))
	add("swapoff", eperm("caps", "EPERM (swapoff is not in the seccomp allow-list)", "ENOENT", "SYS_ADMIN: EPERM (seccomp)"))
	add("acct", eperm("caps", "EPERM (seccomp and CAP_SYS_PACCT)", "ok", "SYS_PACCT: ok"))
	r = eperm("seccomp", "EPERM (userfaultfd is not in the seccomp allow-list)", "ok", "SYS_PTRACE: EPERM (seccomp)")
	r.kernel = uffdSysctl
	add("userfaultfd", r)
	r = eperm("seccomp", "EPERM (userfaultfd is not in the seccomp allow-list)", "ok", "")
	r.kernel = oldUffd
	add("userfaultfd-user-mode", r)
	r = eperm("seccomp", "EPERM (seccomp: syslog needs CAP_SYSLOG)", "ok", "SYSLOG: ok")
	r.kernel = dmesgRestr
	add("syslog", r)
	add("clone3", row{defence: "seccomp", expect: expect{want: "errno=ENOSYS", through: "errno=EINVAL"},
		docker: "ENOSYS (seccomp, so that libc falls back to clone, whose flags it filters)", privileged: "EINVAL (the kernel: a zero-size argument)", capAdd: "SYS_ADMIN: EINVAL (clone3 allowed)"})
	add("personality", eperm("seccomp", "EPERM (seccomp allows only a few personalities)", "ok", ""))
	r = eperm("seccomp", "EPERM (io_uring is not in the seccomp allow-list)", "ok", "")
	r.kernel = uringCtl
	add("io-uring", r)
	add("capset", eperm("caps", "EPERM (not in the bounding set)", "ok", "SYS_ADMIN: ok"))

	// Processes.
	add("ptrace-host", row{defence: "ns", expect: expect{want: "errno=ESRCH"},
		docker: "ESRCH (no host process is visible)", privileged: "ESRCH", capAdd: "SYS_PTRACE: ESRCH"})
	add("ptrace-pid1", row{defence: "allowed", expect: expect{want: "ok", kernel: yamaScope},
		docker: "ok: Docker's profile allows ptrace on kernels >= 4.8, and root may trace its own processes in the container (Yama may forbid it)", privileged: "ok", capAdd: "SYS_PTRACE: ok"})
	add("ptrace-pid1-nobody", row{defence: "caps", expect: expect{want: "errno=EPERM"},
		docker: "EPERM (another user, without CAP_SYS_PTRACE)", privileged: "EPERM (nobody holds no capability)", capAdd: "SYS_PTRACE: EPERM"})
	add("proc-1-environ", row{defence: "ns", expect: expect{want: "ok pid1=self foreign-pids=0"},
		docker: "PID 1 is the container's own; no host process is visible", privileged: "same", capAdd: ""})
	add("proc-fds", row{defence: "cloexec", expect: expect{want: "ok leaked=none"},
		docker: "no descriptor beyond stdio (CVE-2024-21626)", privileged: "same", capAdd: ""})
	add("proc-fds-init", row{helper: "proc-fds", flags: []string{"--init"}, defence: "cloexec", expect: expect{want: "ok leaked=none"},
		docker: "docker-init holds no host descriptor", privileged: "same", capAdd: ""})
	add("proc-self-exe-write", row{defence: "kernel", expect: expect{want: "errno=ETXTBSY"},
		docker: "ETXTBSY (a running binary cannot be opened for writing)", privileged: "ETXTBSY", capAdd: ""})
	add("exe-overwrite", row{defence: "sealing", expect: expect{
		want:    "errno=EROFS|errno=EPERM|errno=EACCES|ok target=copy",
		kernel:  ptraceDenied,
		through: "ok target=host-binary",
	}, docker: "runc runs from a sealed copy and is not dumpable until it execs: the host's binary is out of reach (CVE-2019-5736)", privileged: "same", capAdd: "",
		run: exeOverwrite})

	// Files of the kernel.
	r = row{defence: "masked", expect: expect{want: "ok bytes=0 masked=yes", kernel: noKcore},
		docker: "masked: reads empty", privileged: "ok masked=no (CAP_SYS_RAWIO reads kernel memory)", capAdd: ""}
	add("proc-kcore", r)
	add("proc-keys", row{defence: "masked", expect: expect{want: "ok bytes=0 masked=yes"},
		docker: "masked: reads empty", privileged: "ok masked=no", capAdd: ""})
	add("proc-timer-list", row{defence: "masked", expect: expect{want: "ok bytes=0 masked=yes"},
		docker: "masked: reads empty", privileged: "ok masked=no", capAdd: ""})
	add("sys-firmware", row{defence: "masked", expect: expect{want: "ok entries=0 masked=yes"},
		docker: "masked: an empty directory", privileged: "the host's /sys/firmware", capAdd: ""})
	add("sysrq-trigger", row{defence: "ro", expect: expect{want: "errno=EROFS", kernel: noSysrq},
		docker: "EROFS (read-only)", privileged: "ok (writable)", capAdd: "", touches: []string{"/proc/sys/kernel/sysrq"}})
	add("core-pattern", row{defence: "ro", expect: expect{want: "errno=EROFS"},
		docker: "EROFS (/proc/sys read-only)", privileged: "ok (the host's core_pattern: a known escape)", capAdd: "SYS_ADMIN: EROFS"})
	add("proc-sys-hostname", row{defence: "ro", expect: expect{want: "errno=EROFS"},
		docker: "EROFS (/proc/sys read-only)", privileged: "ok (the container's UTS namespace)", capAdd: ""})
	add("sys-write", row{defence: "ro", expect: expect{want: "errno=EROFS"},
		docker: "EROFS (/sys read-only)", privileged: "ok (Docker mounts /sys read-write under --privileged; this runtime keeps it read-only)", capAdd: "SYS_ADMIN: EROFS"})
	add("cgroup-write", row{defence: "ro", expect: expect{want: "errno=EROFS"},
		docker: "EROFS (the cgroup tree read-only)", privileged: "ok (Docker mounts cgroups read-write under --privileged; this runtime keeps them read-only)", capAdd: ""})
	add("cgroup-mkdir", row{defence: "ro", expect: expect{want: "errno=EROFS"},
		docker: "EROFS (the cgroup tree read-only)", privileged: "ok (read-write cgroups in Docker)", capAdd: ""})
	add("mknod-block", row{defence: "devcgroup", expect: expect{want: "errno=EPERM", kernel: hostForbids(&env.blockdev), through: deviceThrough},
		docker: "mknod allowed (the cgroup's b *:* m), open EPERM (the device cgroup)", privileged: "ok (every device)", capAdd: "--cap-drop MKNOD: EPERM at mknod"})
	add("mknod-char", row{defence: "devcgroup", expect: expect{want: "errno=EPERM", kernel: hostForbids(&env.chardev), through: deviceThrough},
		docker: "mknod allowed (c *:* m), open EPERM (not a standard device)", privileged: "ok (every device)", capAdd: ""})
	add("mknod-mem", row{defence: "devcgroup+caps", expect: expect{want: "errno=EPERM", through: deviceThrough},
		docker: "EPERM (the device cgroup; opening /dev/mem also needs CAP_SYS_RAWIO)", privileged: "ok (ENXIO without /dev/mem)", capAdd: "SYS_RAWIO: EPERM (the device cgroup)"})

	// Rootfs and mounts with symlinks (CVE-2021-30465, CVE-2023-28642,
	// CVE-2025-31133 family).
	for _, s := range symlinkRows() {
		add(s.name, s)
	}
	return rs
}

// TestEscapes runs every row under the defaults and checks that the host
// did not change.
func TestEscapes(t *testing.T) {
	requireSuite(t)
	seen := map[string]bool{}
	for _, r := range rows() {
		if seen[r.name] {
			t.Fatalf("row %s twice", r.name)
		}
		seen[r.name] = true
		t.Run(r.name, func(t *testing.T) {
			t.Logf("Docker: %s; --privileged: %s; %s", r.docker, r.privileged, r.capAdd)
			if r.setup != nil {
				r.setup(t)
			}
			before := takeHostState(t, r.touches)
			var o outcome
			if r.run != nil {
				o = r.run(t)
			} else {
				var err error
				if o, err = runHelper(r.flags, env.rootfs, r.helperCase()); err != nil {
					t.Fatal(err)
				}
			}
			diffs := hostChanges(t, before, r.touches)
			if r.helperCase() == "keyctl" && o.token == "ok" {
				o.detail += fmt.Sprintf(" (the test's own session keyring is %d)", env.facts.keyring)
			}
			judge(t, o, r.defence, r.expect, diffs)
		})
	}
	if n := len(seen); n < 40 {
		t.Errorf("%d rows; issue 5 asks for at least 40", n)
	}
}

// TestEveryCaseHasARow: each case of the helper is used by a row (or is a
// probe the suite runs by itself).
func TestEveryCaseHasARow(t *testing.T) {
	used := map[string]bool{"namespaces": true, "devices-list": true}
	for _, r := range rows() {
		used[r.helperCase()] = true
	}
	var missing []string
	for _, c := range escapes.Names() {
		if !used[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		t.Errorf("helper cases without a row: %s", strings.Join(missing, ", "))
	}
}
