package plan

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
)

func op(c Code, ints []uint64, strs ...string) *Op {
	o := &Op{Code: c, Ints: ints}
	for _, s := range strs {
		o.Strs = append(o.Strs, []byte(s))
	}
	return o
}

func TestDescribe(t *testing.T) {
	groups := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 10), 20)
	for _, tc := range []struct {
		op   *Op
		want string
	}{
		{op(OpMount, []uint64{unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, FlagMkdir}, "proc", "/proc", "proc", ""),
			"mount proc on /proc (proc, nosuid|nodev|noexec) [mkdir]"},
		{op(OpMount, []uint64{unix.MS_NOSUID | unix.MS_STRICTATIME, FlagMkdir}, "tmpfs", "/dev", "tmpfs", "mode=755"),
			"mount tmpfs on /dev (tmpfs, nosuid|strictatime, mode=755) [mkdir]"},
		{op(OpMount, []uint64{unix.MS_BIND | unix.MS_REC, FlagHost}, "/r", "/r", "", ""),
			"bind /r on /r (bind|rec) [host path]"},
		{op(OpMount, []uint64{unix.MS_PRIVATE | unix.MS_REC, FlagHost}, "", "/", "", ""),
			"mount propagation /: rec|private [host path]"},
		{op(OpMount, []uint64{unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY, 0}, "", "/data", "", ""),
			"remount /data (ro|remount|bind)"},
		{op(OpMount, []uint64{1 << 40, 0}, "x", "/x", "xfs", ""), "mount x on /x (xfs, 0x10000000000)"},
		{op(OpSetattr, []uint64{unix.MOUNT_ATTR_RDONLY, 0, 1, FlagIgnoreMissing}, "/proc/sys"),
			"mount_setattr /proc/sys (set rdonly; clear 0, recursive) [skipped if missing]"},
		{op(OpUnshare, []uint64{unix.CLONE_NEWCGROUP}), "unshare(CLONE_NEWCGROUP)"},
		{op(OpSetns, []uint64{unix.CLONE_NEWNET}, "/run/netns/n"), "setns /run/netns/n (CLONE_NEWNET)"},
		{op(OpPrctl, []uint64{unix.PR_SET_PDEATHSIG, uint64(unix.SIGKILL)}), "prctl(PR_SET_PDEATHSIG, SIGKILL)"},
		{op(OpPrctl, []uint64{unix.PR_SET_NO_NEW_PRIVS, 1}), "prctl(PR_SET_NO_NEW_PRIVS, 1)"},
		{op(OpRlimit, []uint64{unix.RLIMIT_NOFILE, 1024, math.MaxUint64}), "setrlimit RLIMIT_NOFILE soft 1024 hard unlimited"},
		{op(OpBounding, []uint64{1<<uint(capability.CAP_CHOWN) | 1<<uint(capability.CAP_KILL)}), "bounding set: keep CAP_CHOWN, CAP_KILL, drop every other"},
		{op(OpCaps, []uint64{1 << uint(capability.CAP_KILL), 1 << uint(capability.CAP_KILL), 0, 0}),
			"capset effective CAP_KILL; permitted CAP_KILL; inheritable (none); ambient (none)"},
		{op(OpSetUser, []uint64{1000, 100, 1}, string(groups)),
			"setgroups [10 20], setresgid 100, setresuid 1000 (capabilities kept across it: PR_SET_KEEPCAPS)"},
		{op(OpSetUser, []uint64{0, 0, UserNoSetgroups}, ""), "setresgid 0, setresuid 0 (no setgroups: the user namespace denies it)"},
		{op(OpSeccomp, []uint64{unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG}, string(make([]byte, 24))),
			"seccomp filter of 3 instructions (flags TSYNC|LOG)"},
		{op(OpMknod, []uint64{unix.S_IFCHR | 0o666, unix.Mkdev(1, 3), 0, 0}, "/dev/null"), "mknod /dev/null c 1:3 0666 uid 0 gid 0"},
		{op(OpCheckDev, []uint64{unix.S_IFBLK, unix.Mkdev(8, 1)}, "/dev/sda1"), "check that /dev/sda1 is b 8:1 (bound from the host)"},
		{op(OpSymlink, nil, "pts/ptmx", "/dev/ptmx"), "symlink /dev/ptmx -> pts/ptmx"},
		{op(OpWriteFile, []uint64{FlagHost}, "/proc/self/oom_score_adj", "500"), `write "500" to /proc/self/oom_score_adj [host path]`},
		{op(OpChdir, []uint64{FlagMkdir}, "/w"), "chdir /w (made when missing)"},
		{op(OpChdir, []uint64{0}, "/w"), "chdir /w"},
		{op(OpUmask, []uint64{0o22}), "umask 0022"},
		{op(OpConsole, []uint64{1000, 31, 97, ConsoleBind}),
			"console: a new pty from the root's /dev/ptmx, owned by uid 1000, 31x97, bound on /dev/console; the master to the parent; stdio and controlling terminal"},
		{op(OpPassFDs, []uint64{2}), "pass fds 3-4 on, every other fd from 3 up close-on-exec"},
		{op(OpHook, []uint64{5}, "/bin/sh", "sh\x00-c\x00true\x00", "", "{}"), `hook /bin/sh ["sh" "-c" "true"] (timeout 5s)`},
		{op(OpExec, []uint64{ExecSearch | ExecTinyInit}, "sh", "sh\x00-c\x00x\x00", "A=1\x00", "/bin"),
			`execve sh (searched in PATH=/bin) ["sh" "-c" "x"], as the child of the tiny init (PID 1 forwards signals and reaps)`},
		{op(OpExec, []uint64{0}, "/bin/true", "true\x00", "", ""), `execve /bin/true ["true"]`},
		{op(OpWaitGo, nil), "wait for the parent's go-ahead (cgroup placed, network begun)"},
		{op(OpMount, []uint64{0}), "mount (malformed: 1 ints, 0 strings)"},
		{&Op{Code: 999}, "op(999)"},
	} {
		if got := tc.op.Describe(); got != tc.want {
			t.Errorf("%s: Describe()\n got %q\nwant %q", tc.op.Code, got, tc.want)
		}
	}
}

// TestDescribeEveryCode: each code has a line of its own, not the
// fallback, with no newline.
func TestDescribeEveryCode(t *testing.T) {
	for c := Code(1); c < numCodes; c++ {
		sh := Shapes[c]
		o := &Op{Code: c, Ints: make([]uint64, sh.Ints), Strs: make([][]byte, sh.Strs)}
		d := o.Describe()
		if d == "" || strings.Contains(d, "\n") || strings.Contains(d, "malformed") || d == c.String() && c != OpReady {
			t.Errorf("%s: Describe() = %q", c, d)
		}
	}
}
