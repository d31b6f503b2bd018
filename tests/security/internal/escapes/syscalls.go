package escapes

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// System calls that only the host's administrator should make: each is
// called with arguments that change nothing even if it is allowed.

func init() {
	for _, ns := range []struct {
		name string
		flag uintptr
	}{
		{"mnt", unix.CLONE_NEWNS},
		{"uts", unix.CLONE_NEWUTS},
		{"ipc", unix.CLONE_NEWIPC},
		{"net", unix.CLONE_NEWNET},
		{"pid", unix.CLONE_NEWPID},
		{"cgroup", unix.CLONE_NEWCGROUP},
		{"time", unix.CLONE_NEWTIME},
		{"user", unix.CLONE_NEWUSER},
	} {
		register("unshare-"+ns.name, "unshare a new "+ns.name+" namespace (in a child that exits at once)", true, func() result {
			return unshareChild(ns.flag)
		})
	}
	register("setns", "setns into a namespace of another process (a host one if any is visible)", true, setnsCase)
	register("reboot", "reboot(LINUX_REBOOT_CMD_CAD_OFF)", true, func() result {
		if err := unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF); err != nil {
			return failed(err, "")
		}
		return ok("ctrl-alt-del handling set to the signal (only in a child PID namespace is that no change)")
	})
	register("kexec-load", "kexec_load with no segments", true, kexecCase)
	register("init-module", "init_module of 64 zero bytes (no module)", true, func() result {
		image := make([]byte, 64)
		params := []byte{0}
		_, _, e := unix.Syscall(unix.SYS_INIT_MODULE, uintptr(unsafe.Pointer(&image[0])), uintptr(len(image)), uintptr(unsafe.Pointer(&params[0])))
		return errnoResult(e, "a module was loaded?")
	})
	register("finit-module", "finit_module of /etc/passwd (no module)", true, func() result {
		fd, err := unix.Open("/etc/passwd", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return failed(err, "open /etc/passwd")
		}
		defer unix.Close(fd)
		params := []byte{0}
		_, _, e := unix.Syscall(unix.SYS_FINIT_MODULE, uintptr(fd), uintptr(unsafe.Pointer(&params[0])), 0)
		return errnoResult(e, "a module was loaded?")
	})
	register("delete-module", "delete_module of a module that does not exist", true, func() result {
		const name = "md_security_no_such_module"
		if b, err := os.ReadFile("/proc/modules"); err == nil && bytes.Contains(b, []byte(name+" ")) {
			return refuse("a module named %s is loaded", name)
		}
		p, _ := unix.BytePtrFromString(name)
		_, _, e := unix.Syscall(unix.SYS_DELETE_MODULE, uintptr(unsafe.Pointer(p)), uintptr(unix.O_NONBLOCK), 0)
		return errnoResult(e, "")
	})
	register("bpf-map", "bpf(BPF_MAP_CREATE) of a one-entry array (closed at once)", true, bpfMapCase)
	register("bpf-prog-ids", "bpf(BPF_PROG_GET_NEXT_ID): list the host's BPF programs", true, bpfProgIDsCase)
	register("perf-event-open", "perf_event_open of a software clock on itself", true, func() result {
		attr := unix.PerfEventAttr{
			Type:   unix.PERF_TYPE_SOFTWARE,
			Config: unix.PERF_COUNT_SW_CPU_CLOCK,
			Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
			Bits:   unix.PerfBitDisabled | unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv,
		}
		fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			return failed(err, "")
		}
		unix.Close(fd)
		return ok("counter opened (closed at once)")
	})
	register("keyctl", "keyctl(KEYCTL_GET_KEYRING_ID) of the session keyring (keys are not namespaced)", true, func() result {
		id, err := unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_SESSION_KEYRING, 0, 0, 0)
		if err != nil {
			return failed(err, "")
		}
		return ok("session-keyring=%d", id)
	})
	register("add-key", "add_key of a user key to the process keyring (gone when it exits)", true, func() result {
		id, err := unix.AddKey("user", "md-security-probe", []byte("x"), unix.KEY_SPEC_PROCESS_KEYRING)
		if err != nil {
			return failed(err, "")
		}
		_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		return ok("key=%d (invalidated at once)", id)
	})
	register("clock-settime", "clock_settime(CLOCK_REALTIME) to the time it reads", true, func() result {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_REALTIME, &ts); err != nil {
			return failed(err, "clock_gettime")
		}
		if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
			return failed(err, "")
		}
		return ok("clock set to the time it read")
	})
	register("settimeofday", "settimeofday to the time it reads", true, func() result {
		var tv unix.Timeval
		if err := unix.Gettimeofday(&tv); err != nil {
			return failed(err, "gettimeofday")
		}
		if err := unix.Settimeofday(&tv); err != nil {
			return failed(err, "")
		}
		return ok("clock set to the time it read")
	})
	register("adjtimex", "adjtimex(ADJ_STATUS) with the status it reads", true, func() result {
		var tx unix.Timex
		if _, err := unix.Adjtimex(&tx); err != nil {
			return failed(err, "adjtimex read")
		}
		set := unix.Timex{Modes: unix.ADJ_STATUS, Status: tx.Status}
		if _, err := unix.Adjtimex(&set); err != nil {
			return failed(err, "")
		}
		return ok("status %#x written back", tx.Status)
	})
	register("sethostname", "sethostname (the container's UTS namespace only)", true, func() result {
		if err := unix.Sethostname([]byte("md-security-probe")); err != nil {
			return failed(err, "")
		}
		return ok("hostname=%s", nodename())
	})
	register("setdomainname", "setdomainname (the container's UTS namespace only)", true, func() result {
		if err := unix.Setdomainname([]byte("md-security-probe")); err != nil {
			return failed(err, "")
		}
		return ok("domainname set in this UTS namespace")
	})
	register("iopl", "iopl(3) (set back to 0)", true, func() result {
		if err := unix.Iopl(3); err != nil {
			return failed(err, "")
		}
		_ = unix.Iopl(0)
		return ok("I/O privilege level 3 (set back to 0; no port touched)")
	})
	register("ioperm", "ioperm of port 0x80 (given back)", true, func() result {
		if err := unix.Ioperm(0x80, 1, 1); err != nil {
			return failed(err, "")
		}
		_ = unix.Ioperm(0x80, 1, 0)
		return ok("port 0x80 permitted (given back; not touched)")
	})
	register("swapon", "swapon of an empty file (no swap signature)", true, swaponCase)
	register("swapoff", "swapoff of a path that is no swap area", true, func() result {
		p, _ := unix.BytePtrFromString("/tmp/md-security-no-swap")
		_, _, e := unix.Syscall(unix.SYS_SWAPOFF, uintptr(unsafe.Pointer(p)), 0, 0)
		return errnoResult(e, "")
	})
	register("acct", "acct to a file (switched off again at once)", true, acctCase)
	register("userfaultfd", "userfaultfd(O_CLOEXEC)", true, func() result {
		return uffd(unix.O_CLOEXEC)
	})
	register("userfaultfd-user-mode", "userfaultfd(UFFD_USER_MODE_ONLY)", true, func() result {
		const uffdUserModeOnly = 1
		return uffd(unix.O_CLOEXEC | uffdUserModeOnly)
	})
	register("syslog", "syslog(SYSLOG_ACTION_SIZE_BUFFER): the host's kernel log", true, func() result {
		const sizeBuffer = 10
		n, err := unix.Klogctl(sizeBuffer, nil)
		if err != nil {
			return failed(err, "")
		}
		return ok("kernel log buffer of %d bytes readable", n)
	})
	register("clone3", "clone3 with a zero-size argument (no process made)", true, func() result {
		_, _, e := unix.Syscall(unix.SYS_CLONE3, 0, 0, 0)
		return errnoResult(e, "clone3 made a process?")
	})
	register("personality", "personality(ADDR_NO_RANDOMIZE) (set back)", true, func() result {
		const query, addrNoRandomize = 0xffffffff, 0x0040000
		old, _, _ := unix.Syscall(unix.SYS_PERSONALITY, query, 0, 0)
		_, _, e := unix.Syscall(unix.SYS_PERSONALITY, old|addrNoRandomize, 0, 0)
		if e != 0 {
			return failed(e, "")
		}
		unix.Syscall(unix.SYS_PERSONALITY, old, 0, 0)
		return ok("address space randomization could be turned off (set back)")
	})
	register("io-uring", "io_uring_setup of a one-entry ring (closed at once)", true, func() result {
		var params [120]byte // struct io_uring_params, zeroed
		fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&params[0])), 0)
		if e != 0 {
			return failed(e, "")
		}
		unix.Close(int(fd))
		return ok("ring made (closed at once)")
	})
	register("capset", "capset: raise CAP_SYS_ADMIN into the effective and permitted sets", true, func() result {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return failed(err, "capget")
		}
		data[0].Effective |= 1 << unix.CAP_SYS_ADMIN
		data[0].Permitted |= 1 << unix.CAP_SYS_ADMIN
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return failed(err, "")
		}
		return ok("CAP_SYS_ADMIN raised")
	})
}

// errnoResult turns a raw system call's errno into a result.
func errnoResult(e syscall.Errno, okDetail string) result {
	if e != 0 {
		return failed(e, "")
	}
	return ok("%s", okDetail)
}

// unshareChild starts this program again (as the no-op "__exit") with flag
// unshared in the child between fork and exec: Go's threads make unshare
// in this process fail with EINVAL for some namespaces, a child has one
// thread. The child exits at once.
func unshareChild(flag uintptr) result {
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"escape", "__exit"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: flag}
	if err := cmd.Start(); err != nil {
		return failed(err, "")
	}
	if err := cmd.Wait(); err != nil {
		return failed(err, "the child in the new namespace: %v", err)
	}
	return ok("a child ran in a new namespace")
}

// setnsCase looks for a namespace that is not this process's own in every
// visible process (there should be none: only the container's processes
// are visible) and tries to join it, or, failing that, its own network
// namespace through /proc/1/ns/net.
func setnsCase() result {
	foreign, target := foreignNamespaces()
	path, flag := "/proc/1/ns/net", unix.CLONE_NEWNET
	if target != "" {
		path, flag = target, 0
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return failed(err, "open %s (foreign=%d)", path, foreign)
	}
	defer unix.Close(fd)
	// The thread that joins stays locked and dies with the process.
	runtime.LockOSThread()
	if err := unix.Setns(fd, flag); err != nil {
		return failed(err, "foreign=%d", foreign)
	}
	return ok("joined %s foreign=%d", path, foreign)
}

// foreignNamespaces counts the namespaces of visible processes that differ
// from this process's own (the user namespace, shared with the host by
// design, aside) and names one of them.
func foreignNamespaces() (int, string) {
	own := map[string]string{}
	kinds := []string{"pid", "mnt", "net", "uts", "ipc", "cgroup"}
	for _, k := range kinds {
		own[k], _ = os.Readlink("/proc/self/ns/" + k)
	}
	n, first := 0, ""
	for _, pid := range pids() {
		for _, k := range kinds {
			p := fmt.Sprintf("/proc/%d/ns/%s", pid, k)
			if l, err := os.Readlink(p); err == nil && l != own[k] {
				n++
				if first == "" {
					first = p
				}
			}
		}
	}
	return n, first
}

// kexecCase unloads the kexec image, which is no change only while none is
// loaded: it refuses when one is, or when it cannot tell (a kernel without
// kexec has no /sys/kernel/kexec_loaded, and answers ENOSYS).
func kexecCase() result {
	b, err := os.ReadFile("/sys/kernel/kexec_loaded")
	switch {
	case err == nil && strings.TrimSpace(string(b)) != "0":
		return refuse("a kexec image is loaded (/sys/kernel/kexec_loaded=%s): kexec_load with no segments would unload it", strings.TrimSpace(string(b)))
	case err != nil && !os.IsNotExist(err):
		return refuse("cannot tell whether a kexec image is loaded: %v", err)
	case err != nil:
		if _, serr := os.Stat("/sys/kernel"); serr != nil {
			return refuse("cannot tell whether a kexec image is loaded: no /sys/kernel (%v)", serr)
		}
	}
	_, _, e := unix.Syscall6(unix.SYS_KEXEC_LOAD, 0, 0, 0, 0, 0, 0)
	return errnoResult(e, "kexec_load allowed (no image was loaded, none unloaded)")
}

// bpf(2) commands and map type used here.
const (
	bpfMapCreate     = 0
	bpfProgGetNextID = 11
	bpfMapTypeArray  = 2
)

func bpfMapCase() result {
	var attr [72]byte // union bpf_attr, map_create fields first
	put32 := func(off int, v uint32) { *(*uint32)(unsafe.Pointer(&attr[off])) = v }
	put32(0, bpfMapTypeArray) // map_type
	put32(4, 4)               // key_size
	put32(8, 4)               // value_size
	put32(12, 1)              // max_entries
	fd, _, e := unix.Syscall(unix.SYS_BPF, bpfMapCreate, uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)))
	if e != 0 {
		return failed(e, "")
	}
	unix.Close(int(fd))
	return ok("map made (closed at once)")
}

func bpfProgIDsCase() result {
	var attr [16]byte // start_id, next_id, open_flags
	_, _, e := unix.Syscall(unix.SYS_BPF, bpfProgGetNextID, uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)))
	if e != 0 {
		return failed(e, "")
	}
	return ok("host BPF program id %d visible", *(*uint32)(unsafe.Pointer(&attr[4])))
}

func swaponCase() result {
	const path = "/tmp/md-security-swap"
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		return failed(err, "create %s", path)
	}
	defer os.Remove(path)
	p, _ := unix.BytePtrFromString(path)
	_, _, e := unix.Syscall(unix.SYS_SWAPON, uintptr(unsafe.Pointer(p)), 0, 0)
	if e != 0 {
		return failed(e, "")
	}
	unix.Syscall(unix.SYS_SWAPOFF, uintptr(unsafe.Pointer(p)), 0, 0)
	return ok("swap switched on (and off again at once)")
}

func acctCase() result {
	const path = "/tmp/md-security-acct"
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		return failed(err, "create %s", path)
	}
	defer os.Remove(path)
	p, _ := unix.BytePtrFromString(path)
	_, _, e := unix.Syscall(unix.SYS_ACCT, uintptr(unsafe.Pointer(p)), 0, 0)
	if e != 0 {
		return failed(e, "")
	}
	unix.Syscall(unix.SYS_ACCT, 0, 0, 0)
	return ok("accounting switched on (and off again at once)")
}

func uffd(flags uintptr) result {
	fd, _, e := unix.Syscall(unix.SYS_USERFAULTFD, flags, 0, 0)
	if e != 0 {
		return failed(e, "")
	}
	unix.Close(int(fd))
	return ok("userfaultfd made (closed at once)")
}

// nodename is the host name this process's UTS namespace reports.
func nodename() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Nodename[:])
}
