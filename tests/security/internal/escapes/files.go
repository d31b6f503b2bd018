package escapes

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Files of the kernel that a container must not read or write: /proc,
// /sys, the cgroup tree and device nodes.

func init() {
	register("proc-kcore", "read /proc/kcore (masked: /dev/null)", true, func() result { return readMasked("/proc/kcore") })
	register("proc-keys", "read /proc/keys (masked: /dev/null)", true, func() result { return readMasked("/proc/keys") })
	register("proc-timer-list", "read /proc/timer_list (masked: /dev/null)", true, func() result { return readMasked("/proc/timer_list") })
	register("sys-firmware", "list /sys/firmware (masked: an empty tmpfs)", true, sysFirmwareCase)
	register("sysrq-trigger", "open /proc/sysrq-trigger for writing (nothing is written)", true, func() result {
		fd, err := unix.Open("/proc/sysrq-trigger", unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return failed(err, "")
		}
		unix.Close(fd)
		return ok("opened for writing (nothing written)")
	})
	register("core-pattern", "write /proc/sys/kernel/core_pattern back (the host's)", true, func() result {
		return writeBack("/proc/sys/kernel/core_pattern")
	})
	register("proc-sys-hostname", "write /proc/sys/kernel/hostname back", true, func() result {
		return writeBack("/proc/sys/kernel/hostname")
	})
	register("sys-write", "write a file of /sys back (uevent_helper, ksm/run or lo's mtu)", true, func() result {
		for _, p := range []string{"/sys/kernel/uevent_helper", "/sys/kernel/mm/ksm/run", "/sys/class/net/lo/mtu"} {
			if _, err := os.Stat(p); err == nil {
				r := writeBack(p)
				r.detail = strings.TrimSpace(p + " " + r.detail)
				return r
			}
		}
		return failed(unix.ENOENT, "none of the candidate files exists")
	})
	register("cgroup-write", "write the container's pids.max back", true, func() result {
		return writeBack(cgroupFile("pids", "pids.max"))
	})
	register("cgroup-mkdir", "make a cgroup beneath the container's", true, func() result {
		dir := filepath.Join(filepath.Dir(cgroupFile("pids", "pids.max")), "md-escape")
		if err := unix.Mkdir(dir, 0o755); err != nil {
			return failed(err, "%s", dir)
		}
		unix.Rmdir(dir)
		return ok("made %s (removed)", dir)
	})
	register("mknod-block", "mknod a host block device (ESCAPE_BLOCKDEV) and open it read-only", true, func() result {
		dev := os.Getenv("ESCAPE_BLOCKDEV")
		maj, min, okdev := parseDev(dev)
		if !okdev {
			maj, min, dev = 7, 0, "7:0"
		}
		return mknodOpen("/dev/md-security-blk", unix.S_IFBLK, maj, min, dev)
	})
	register("mknod-char", "mknod a host character device outside the standard ones (ESCAPE_CHARDEV) and open it read-only", true, func() result {
		dev := os.Getenv("ESCAPE_CHARDEV")
		maj, min, okdev := parseDev(dev)
		if !okdev {
			maj, min, dev = 10, 200, "10:200"
		}
		return mknodOpen("/dev/md-security-chr", unix.S_IFCHR, maj, min, dev)
	})
	register("mknod-mem", "mknod /dev/mem (1:1) and open it read-only", true, func() result {
		return mknodOpen("/dev/md-security-mem", unix.S_IFCHR, 1, 1, "1:1")
	})
	register("devices-list", "print the device cgroup's devices.list (v1)", false, func() result {
		b, err := os.ReadFile(cgroupFile("devices", "devices.list"))
		if err != nil {
			return failed(err, "")
		}
		return ok("%s", strings.Join(strings.Fields(string(b)), " "))
	})
}

// readMasked opens path and reads up to a page; masked=yes when it is the
// null device.
func readMasked(path string) result {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return failed(err, "")
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return failed(err, "fstat")
	}
	masked := st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3)
	buf := make([]byte, 4096)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return failed(err, "read masked=%s", yesNo(masked))
	}
	return ok("bytes=%d masked=%s", n, yesNo(masked))
}

func sysFirmwareCase() result {
	entries, err := os.ReadDir("/sys/firmware")
	if err != nil {
		return failed(err, "")
	}
	var fs unix.Statfs_t
	if err := unix.Statfs("/sys/firmware", &fs); err != nil {
		return failed(err, "statfs")
	}
	masked := fs.Type == unix.TMPFS_MAGIC && len(entries) == 0
	return ok("entries=%d masked=%s", len(entries), yesNo(masked))
}

// writeBack opens path for writing and writes back the bytes it holds:
// nothing changes even when the write is allowed.
func writeBack(path string) result {
	old, err := os.ReadFile(path)
	if err != nil {
		return failed(err, "read")
	}
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return failed(err, "")
	}
	defer unix.Close(fd)
	if len(old) == 0 {
		return ok("opened for writing (it was empty: nothing written)")
	}
	if _, err := unix.Write(fd, old); err != nil {
		return failed(err, "write")
	}
	return ok("wrote back %q", strings.TrimSpace(string(old)))
}

// cgroupFile is name in the container's cgroup of controller: v1 mounts a
// directory per hierarchy, v2 one tree.
func cgroupFile(controller, name string) string {
	v1 := filepath.Join("/sys/fs/cgroup", controller, name)
	if _, err := os.Stat(filepath.Dir(v1)); err == nil {
		return v1
	}
	return filepath.Join("/sys/fs/cgroup", name)
}

// mknodOpen makes a device node, opens it read-only (nothing is read) and
// removes it. The errno is open's; mknod's when that failed.
func mknodOpen(path string, kind uint32, maj, min uint32, dev string) result {
	_ = unix.Unlink(path)
	if err := unix.Mknod(path, kind|0o600, int(unix.Mkdev(maj, min))); err != nil {
		return failed(err, "stage=mknod dev=%s", dev)
	}
	defer unix.Unlink(path)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return failed(err, "stage=open dev=%s (mknod ok)", dev)
	}
	unix.Close(fd)
	return ok("dev=%s made and opened read-only (nothing read)", dev)
}

func parseDev(s string) (uint32, uint32, bool) {
	a, b, found := strings.Cut(s, ":")
	maj, err1 := strconv.ParseUint(a, 10, 32)
	min, err2 := strconv.ParseUint(b, 10, 32)
	return uint32(maj), uint32(min), found && err1 == nil && err2 == nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// pids lists the visible processes.
func pids() []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// fdTarget is what /proc/PID/fd/N points to.
func fdTarget(pid, fd int) string {
	t, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
	if err != nil {
		return "?" + err.Error()
	}
	return t
}
