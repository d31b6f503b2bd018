package plan

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/caps"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
)

// Describe is the op as --explain prints it: one line, no newline, with
// flags, capabilities, resources and options by name, e.g.
// `mount proc on /proc (proc, nosuid|nodev|noexec)`. It reads only what
// travels (Code, Ints, Strs), so that what is shown is what runs.
//
// The capability lines, which tests read back against /proc/PID/status,
// have one form each (names as caps.Mask prints them, "(none)" for an
// empty set):
//
//	capset effective CAP_A, CAP_B; permitted ...; inheritable (none); ambient (none)
//	bounding set: keep CAP_A, CAP_B, drop every other
func (o *Op) Describe() string {
	if o.Code == 0 || o.Code >= numCodes {
		return fmt.Sprintf("op(%d)", uint16(o.Code))
	}
	if sh := Shapes[o.Code]; len(o.Ints) != sh.Ints || len(o.Strs) != sh.Strs {
		return fmt.Sprintf("%s (malformed: %d ints, %d strings)", o.Code, len(o.Ints), len(o.Strs))
	}
	i, s := o.Ints, func(k int) string { return string(o.Strs[k]) }
	switch o.Code {
	case OpWaitGo:
		return "wait for the parent's go-ahead (cgroup placed, network begun)"
	case OpHooks:
		return "wait while the parent runs the prestart and createRuntime hooks"
	case OpReady:
		return "report ready"
	case OpWaitStart:
		return "wait for start"
	case OpFifoOpen:
		return fmt.Sprintf("open the exec fifo's directory %s (fifo %s)", s(0), s(1))
	case OpFifoWait:
		return "open the exec fifo for writing (blocks until start opens it)"
	case OpFifoGo:
		return `write "0" to the exec fifo, held open until execve`
	case OpPrctl:
		return describePrctl(i[0], i[1])
	case OpSetns:
		return fmt.Sprintf("setns %s (%s)", s(0), cloneNames(i[0]))
	case OpUnshare:
		return fmt.Sprintf("unshare(%s)", cloneNames(i[0]))
	case OpHostname:
		return "sethostname " + s(0)
	case OpDomainname:
		return "setdomainname " + s(0)
	case OpLoopbackUp:
		return "bring lo up"
	case OpWriteFile:
		return fmt.Sprintf("write %q to %s%s", s(1), s(0), pathNote(i[0]))
	case OpPidsOpen:
		return fmt.Sprintf("open %s (the pids limit is written there before execve)", s(0))
	case OpPidsWrite:
		return fmt.Sprintf("write pids limit %d (unless one was set since)", i[0])
	case OpSetRoot:
		return "root " + s(0)
	case OpMount:
		return describeMount(i[0], i[1], s(0), s(1), s(2), s(3))
	case OpSetattr:
		rec := ""
		if i[2] != 0 {
			rec = ", recursive"
		}
		return fmt.Sprintf("mount_setattr %s (set %s; clear %s%s)%s", s(0), attrNames(i[0]), attrNames(i[1]), rec, pathNote(i[3]))
	case OpMask:
		return "mask " + s(0) + " (a directory: read-only tmpfs; a file: /dev/null bound over it)"
	case OpMknod:
		return fmt.Sprintf("mknod %s %s %d:%d %#o uid %d gid %d", s(0), fileType(i[0]), unix.Major(i[1]), unix.Minor(i[1]), i[0]&0o7777, i[2], i[3])
	case OpCheckDev:
		return fmt.Sprintf("check that %s is %s %d:%d (bound from the host)", s(0), fileType(i[0]), unix.Major(i[1]), unix.Minor(i[1]))
	case OpSymlink:
		return fmt.Sprintf("symlink %s -> %s", s(1), s(0))
	case OpMkdir:
		return fmt.Sprintf("mkdir -p %s %04o", s(0), i[0])
	case OpPivotRoot:
		return "pivot_root into the root (the old root made rslave and detached)"
	case OpChroot:
		return "chroot into the root"
	case OpChdir:
		if i[0]&FlagMkdir != 0 {
			return "chdir " + s(0) + " (made when missing)"
		}
		return "chdir " + s(0)
	case OpHook:
		return describeHook(i[0], s(0), o.Strs[1])
	case OpRlimit:
		return fmt.Sprintf("setrlimit %s soft %s hard %s", rlimitName(i[0]), rlimitValue(i[1]), rlimitValue(i[2]))
	case OpBounding:
		return "bounding set: keep " + capNames(i[0]) + ", drop every other"
	case OpCaps:
		return fmt.Sprintf("capset effective %s; permitted %s; inheritable %s; ambient %s", capNames(i[0]), capNames(i[1]), capNames(i[2]), capNames(i[3]))
	case OpSetUser:
		return describeUser(i[0], i[1], i[2], o.Strs[0])
	case OpUmask:
		return fmt.Sprintf("umask %04o", i[0])
	case OpSeccomp:
		return fmt.Sprintf("seccomp filter of %d instructions (flags %s)", len(o.Strs[0])/8, seccompFlags(i[0]))
	case OpConsole:
		return describeConsole(i[0], i[1], i[2], i[3])
	case OpPassFDs:
		if i[0] == 0 {
			return "every fd from 3 up close-on-exec"
		}
		return fmt.Sprintf("pass fds 3-%d on, every other fd from 3 up close-on-exec", 2+i[0])
	case OpMoveTree:
		return fmt.Sprintf("move the parent's mount tree #%d onto %s", i[0], s(0))
	case OpExec:
		return describeExec(i[0], s(0), o.Strs[1], s(3))
	}
	return o.Code.String()
}

// names names the bits of v from table (in its order), and what is left
// in hex: "nosuid|nodev|0x40000000"; "0" for none.
func names(v uint64, table []flagName) string {
	if v == 0 {
		return "0"
	}
	var out []string
	for _, f := range table {
		if f.bits != 0 && v&f.bits == f.bits {
			out = append(out, f.name)
			v &^= f.bits
		}
	}
	if v != 0 {
		out = append(out, fmt.Sprintf("%#x", v))
	}
	return strings.Join(out, "|")
}

type flagName struct {
	bits uint64
	name string
}

// mountFlagNames are mount(2)'s flags as mount(8) names them.
var mountFlagNames = []flagName{
	{unix.MS_RDONLY, "ro"}, {unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"}, {unix.MS_NOEXEC, "noexec"},
	{unix.MS_SYNCHRONOUS, "sync"}, {unix.MS_REMOUNT, "remount"}, {unix.MS_MANDLOCK, "mand"},
	{unix.MS_DIRSYNC, "dirsync"}, {unix.MS_NOATIME, "noatime"}, {unix.MS_NODIRATIME, "nodiratime"},
	{unix.MS_BIND, "bind"}, {unix.MS_MOVE, "move"}, {unix.MS_REC, "rec"}, {unix.MS_SILENT, "silent"},
	{unix.MS_POSIXACL, "acl"}, {unix.MS_UNBINDABLE, "unbindable"}, {unix.MS_PRIVATE, "private"},
	{unix.MS_SLAVE, "slave"}, {unix.MS_SHARED, "shared"}, {unix.MS_RELATIME, "relatime"},
	{unix.MS_STRICTATIME, "strictatime"}, {unix.MS_LAZYTIME, "lazytime"},
}

// propagationFlags are the flags of a change of propagation alone.
const propagationFlags = unix.MS_PRIVATE | unix.MS_SLAVE | unix.MS_SHARED | unix.MS_UNBINDABLE

// MountFlags names mount(2) flags ("bind|rec").
func MountFlags(flags uint64) string { return names(flags, mountFlagNames) }

var pathFlagNames = []flagName{
	{FlagHost, "host path"}, {FlagMkdir, "mkdir"}, {FlagMkfile, "made a file"},
	{FlagIgnoreMissing, "skipped if missing"}, {FlagSourceInRoot, "source in the root"},
}

// pathNote is a path's flags as a note: " [host path]".
func pathNote(pf uint64) string {
	if pf == 0 {
		return ""
	}
	return " [" + strings.ReplaceAll(names(pf, pathFlagNames), "|", ", ") + "]"
}

func describeMount(flags, pf uint64, source, target, fstype, data string) string {
	var sb strings.Builder
	switch {
	case source == "" && fstype == "" && flags&propagationFlags != 0 && flags&^(propagationFlags|unix.MS_REC) == 0:
		fmt.Fprintf(&sb, "mount propagation %s: %s", target, MountFlags(flags))
	case flags&unix.MS_REMOUNT != 0:
		fmt.Fprintf(&sb, "remount %s (%s", target, MountFlags(flags))
		if data != "" {
			sb.WriteString(", " + data)
		}
		sb.WriteString(")")
	case flags&unix.MS_BIND != 0:
		fmt.Fprintf(&sb, "bind %s on %s (%s)", source, target, MountFlags(flags))
	default:
		fmt.Fprintf(&sb, "mount %s on %s (%s", source, target, fstype)
		if flags != 0 {
			sb.WriteString(", " + MountFlags(flags))
		}
		if data != "" {
			sb.WriteString(", " + data)
		}
		sb.WriteString(")")
	}
	sb.WriteString(pathNote(pf))
	return sb.String()
}

var mountAttrNames = []flagName{
	{unix.MOUNT_ATTR_RDONLY, "rdonly"}, {unix.MOUNT_ATTR_NOSUID, "nosuid"}, {unix.MOUNT_ATTR_NODEV, "nodev"},
	{unix.MOUNT_ATTR_NOEXEC, "noexec"}, {unix.MOUNT_ATTR_NOATIME, "noatime"},
	{unix.MOUNT_ATTR_STRICTATIME, "strictatime"}, {unix.MOUNT_ATTR_NODIRATIME, "nodiratime"},
	{unix.MOUNT_ATTR_IDMAP, "idmap"}, {unix.MOUNT_ATTR_NOSYMFOLLOW, "nosymfollow"},
}

func attrNames(v uint64) string { return names(v, mountAttrNames) }

// cloneNames names namespace clone flags (namespaces.CloneFlagNames).
func cloneNames(v uint64) string { return namespaces.CloneFlagNames(uintptr(v)) }

var prctlNames = map[uint64]string{
	unix.PR_SET_PDEATHSIG: "PR_SET_PDEATHSIG", unix.PR_SET_NO_NEW_PRIVS: "PR_SET_NO_NEW_PRIVS",
	unix.PR_SET_KEEPCAPS: "PR_SET_KEEPCAPS", unix.PR_SET_DUMPABLE: "PR_SET_DUMPABLE",
	unix.PR_SET_CHILD_SUBREAPER: "PR_SET_CHILD_SUBREAPER",
}

func describePrctl(option, arg uint64) string {
	name, ok := prctlNames[option]
	if !ok {
		name = strconv.FormatUint(option, 10)
	}
	a := strconv.FormatUint(arg, 10)
	if option == unix.PR_SET_PDEATHSIG {
		a = unix.SignalName(unix.Signal(arg))
	}
	return fmt.Sprintf("prctl(%s, %s)", name, a)
}

func fileType(mode uint64) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFCHR:
		return "c"
	case unix.S_IFBLK:
		return "b"
	case unix.S_IFIFO:
		return "p"
	}
	return fmt.Sprintf("type %#o", mode&unix.S_IFMT)
}

// Rlimits is the kernel's table of rlimit names (setrlimit(2)), as
// process.rlimits writes them.
var Rlimits = map[string]int{
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
}

func rlimitName(r uint64) string {
	for name, v := range Rlimits {
		if uint64(v) == r {
			return name
		}
	}
	return "resource " + strconv.FormatUint(r, 10)
}

func rlimitValue(v uint64) string {
	if v == math.MaxUint64 { // RLIM_INFINITY
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

func capNames(m uint64) string {
	if m == 0 {
		return "(none)"
	}
	return caps.Mask(m).String()
}

func describeUser(uid, gid, flags uint64, groups []byte) string {
	var gs []string
	for len(groups) >= 4 {
		gs = append(gs, strconv.FormatUint(uint64(binary.LittleEndian.Uint32(groups)), 10))
		groups = groups[4:]
	}
	s := fmt.Sprintf("setgroups [%s], setresgid %d, setresuid %d", strings.Join(gs, " "), gid, uid)
	if flags&UserNoSetgroups != 0 {
		s = fmt.Sprintf("setresgid %d, setresuid %d (no setgroups: the user namespace denies it)", gid, uid)
	}
	if flags&UserKeepCaps != 0 {
		s += " (capabilities kept across it: PR_SET_KEEPCAPS)"
	}
	return s
}

var seccompFlagNames = []flagName{
	{unix.SECCOMP_FILTER_FLAG_TSYNC, "TSYNC"}, {unix.SECCOMP_FILTER_FLAG_LOG, "LOG"},
	{unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW, "SPEC_ALLOW"}, {unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, "NEW_LISTENER"},
	{unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH, "TSYNC_ESRCH"}, {unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, "WAIT_KILLABLE_RECV"},
}

func seccompFlags(v uint64) string {
	if v == 0 {
		return "none"
	}
	return names(v, seccompFlagNames)
}

func describeConsole(uid, rows, cols, flags uint64) string {
	s := fmt.Sprintf("console: a new pty from the root's /dev/ptmx, owned by uid %d", uid)
	if rows != 0 && cols != 0 {
		s += fmt.Sprintf(", %dx%d", rows, cols)
	}
	if flags&ConsoleBind != 0 {
		s += ", bound on /dev/console"
	}
	return s + "; the master to the parent; stdio and controlling terminal"
}

// list splits a NUL-terminated list.
func list(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\x00")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

func describeHook(timeout uint64, path string, argv []byte) string {
	s := fmt.Sprintf("hook %s %q", path, list(argv))
	if timeout != 0 {
		s += fmt.Sprintf(" (timeout %ds)", timeout)
	}
	return s
}

func describeExec(flags uint64, file string, argv []byte, path string) string {
	s := "execve " + file
	if flags&ExecSearch != 0 {
		s += fmt.Sprintf(" (searched in PATH=%s)", path)
	}
	s += fmt.Sprintf(" %q", list(argv))
	if flags&ExecTinyInit != 0 {
		s += ", as the child of the tiny init (PID 1 forwards signals and reaps)"
	}
	return s
}
