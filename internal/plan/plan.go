// Package plan is the container's setup as data: a flat list of typed,
// primitive operations, every decision already made by the parent (in Go),
// that the init (C, in minimal-docker-helper's constructor: plan.c) carries
// out in order, reporting each one's result and time. The parent never
// imports the child's code: this package (the wire format) is all they
// share, with package handshake's framing.
//
// # Wire format
//
// A plan travels as the body of the handshake's Config frame (4-byte
// big-endian length, kind byte 1, body). The body is little-endian:
//
//	plan  := magic[8] "MDPLAN\x00\x01" | u32 flags | u32 nops | op{nops}
//	op    := u16 code | u8 nint | u8 nstr | u8 nstep | step[nstep]
//	         | u64 int{nint} | (u32 len | bytes[len]){nstr}
//
// Each code has a fixed nint and nstr (the table Shapes, mirrored in
// plan.h); the init refuses the whole plan, before it does anything, when
// the magic, a count, a length or a shape is wrong, when bytes are left
// over, or when a string that is a path holds a NUL. Limits: MaxPlan bytes
// in all, MaxOps operations, MaxStep bytes of step name, MaxStr bytes per
// string. Lists (argv, envp, groups) are one string: NUL-separated
// (argv, envp: each element NUL-terminated) or packed u32s (groups).
//
// Paths: a target or path "in the root" is resolved by the init with
// openat2(root fd, path, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) against the
// root set by OpSetRoot (the rootfs before pivot_root, "/" after it);
// a path flagged FlagHost is the init's own view, used as given (the
// rootfs itself, the host's exec fifo, /proc/self/...).
//
// # Reports
//
// The init sends, on the same connection (handshake framing):
//   - Ready (kind 3) at OpReady: timings of every op done so far:
//     u32 n | (u32 op index | u32 microseconds){n};
//   - Report (kind 9) after each op when the plan has FlagExplain:
//     u32 op index | u32 microseconds | i32 errno (0: done, -1: skipped
//     as the plan allowed: FlagIgnoreMissing);
//   - Error (kind 5) when an op fails, then exits 125 (126/127 for
//     CauseNotExecutable/CauseNotFound of OpExec):
//     u32 op index | i32 errno | u8 cause | detail bytes (the rest; may be
//     empty). The parent turns it into "init STEP: WHAT PATH: strerror"
//     from the op it sent (ErrorOf).
//   - Hooks (kind 7) at OpHooks, Console (kind 6, the pty master as
//     SCM_RIGHTS, body JSON {"name":"/dev/pts/N"}, the slave's name in the
//     container) at OpConsole, as today's handshake.
//
// After OpFifoWait the connection is closed: a failure goes to the exec
// fifo instead, as `start` reads it: "1" and the message before OpFifoGo's
// "0", the message alone after it ("init STEP: PATH: strerror: detail";
// a hook's as today's: "init STEP: KIND hook #N (PATH): detail").
package plan

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Magic opens every plan: "MDPLAN", NUL, version 1.
const Magic = "MDPLAN\x00\x01"

// Limits, checked by Marshal and again by the init.
const (
	MaxPlan = 4 << 20
	MaxOps  = 4096
	MaxStep = 63
	MaxStr  = 1 << 20
)

// Plan flags.
const (
	// FlagExplain: the init sends a Report after each op.
	FlagExplain uint32 = 1 << 0
)

// Code is an operation.
type Code uint16

// The operations. Ints and Strs give each one's arguments, in order.
const (
	_ Code = iota
	// Protocol points.
	OpWaitGo    // (): wait for the parent's Go frame (cgroup placed, network begun)
	OpHooks     // (): send Hooks, wait for Resume (prestart/createRuntime hooks run by the parent)
	OpReady     // (): send Ready with the timings so far
	OpWaitStart // (): wait for the parent's Start frame (run)
	OpFifoOpen  // (): strs [dir (host path), name]: keep an O_PATH fd of the exec fifo's directory
	OpFifoWait  // (): close the connection, open the fifo for writing (blocks until `start` reads); from here a failure is written to the fifo ("1"+message), not the connection
	OpFifoGo    // (): write "0" to the fifo, keep it open (close-on-exec) until execve

	// Process state and namespaces.
	OpPrctl      // ints [option, arg2]
	OpSetns      // ints [nstype]; strs [path (host)]
	OpUnshare    // ints [flags]
	OpHostname   // strs [name]
	OpDomainname // strs [name]
	OpLoopbackUp // (): ioctl SIOCSIFFLAGS lo up
	OpWriteFile  // ints [pathflags]; strs [path, value]: open O_WRONLY|O_NOFOLLOW (no create), write
	OpPidsOpen   // strs [path (host)]: open O_RDWR, keep
	OpPidsWrite  // ints [limit]: pread the kept file; if it holds "max", write limit; close

	// The filesystem. Paths are in the root unless pathflags has FlagHost.
	OpSetRoot   // strs [path (host)]: the root for in-root paths
	OpMount     // ints [mountflags, pathflags]; strs [source, target, fstype, data]
	OpSetattr   // ints [attr_set, attr_clr, recursive (0/1), pathflags]; strs [target]: mount_setattr
	OpMask      // strs [path]: missing: skip; a directory: read-only tmpfs (nosuid,nodev,noexec, mode=0755); otherwise bind the container's /dev/null (checked: char 1:3)
	OpMknod     // ints [mode (type|perm), dev, uid, gid]; strs [path]: parent dirs made 0755; EEXIST with the same type and dev is fine; then chmod perm, lchown
	OpCheckDev  // ints [type (S_IFCHR...), dev]; strs [path]: the node there must be this device (a /dev bound from the host)
	OpSymlink   // strs [target, path]
	OpMkdir     // ints [mode]; strs [path]: mkdir -p, in the root
	OpPivotRoot // (): pivot_root into the root, old root made rslave and detached; the root becomes "/"
	OpChroot    // (): chroot into the root; the root becomes "/"
	OpChdir     // ints [pathflags]; strs [path]: chdir, in the (new) root; with FlagMkdir, mkdir -p (0755) first (exec into a running container does not create it)
	OpHook      // ints [timeout seconds (0: none)]; strs [path, argv, envp, stdin]: run a hook: fork, execve, write stdin, wait; non-zero exit or signal fails with ECANCELED, the timeout (the hook's process group killed) with ETIMEDOUT, detail as package hooks says it ("exit status 7: OUTPUT", "signal: killed", "timed out after 5s: killed"); an empty argv is [path], an empty envp the init's environment

	// The process's credentials and the exec.
	OpRlimit   // ints [resource, soft, hard]
	OpBounding // ints [keep (mask of capability bits)]: drop every other capability from the bounding set
	OpCaps     // ints [effective, permitted, inheritable, ambient]: capset (v3), then the ambient set
	OpSetUser  // ints [uid, gid, userflags]; strs [groups (packed u32)]: setgroups (unless UserNoSetgroups), setresgid, setresuid (PR_SET_KEEPCAPS around it with UserKeepCaps)
	OpUmask    // ints [mask]
	OpSeccomp  // ints [flags]; strs [program (struct sock_filter[], 8 bytes each)]
	OpConsole  // ints [uid, rows, cols, consoleflags]: open the root's /dev/ptmx, unlock, size it (TIOCSWINSZ) when rows and cols are both non-zero, open its peer, fchown it to uid (unless it is uid's already), with ConsoleBind bind it on the root's /dev/console (made an empty file, 0666, when missing), send Console with the master, setsid (unless a session leader), make it the controlling tty and fds 0-2
	OpPassFDs  // ints [n]: fds 3..3+n-1 lose close-on-exec; every other fd from 3 up gets it
	OpExec     // ints [execflags]; strs [file, argv, envp, PATH]: with ExecSearch, file is looked up in PATH (as execvp, in the new root); then execve (with ExecTinyInit: fork, exec in the child, stay as PID 1 forwarding signals and reaping, exit with the child's status)

	// The filesystem, continued.
	OpMoveTree // ints [index, pathflags]; strs [target]: move_mount the index'th mount tree that the Go frame carried (SCM_RIGHTS: a detached mount the parent made, such as an idmapped bind, which the init in a user namespace can't make) onto target (made first as pathflags ask); the root's own path makes it the root

	numCodes
)

// pathflags.
const (
	FlagHost          uint64 = 1 << 0 // the path is the init's own view, not in the root
	FlagMkdir         uint64 = 1 << 1 // make the target a directory (mkdir -p 0755) first
	FlagMkfile        uint64 = 1 << 2 // make the target an empty file (parents 0755) first
	FlagIgnoreMissing uint64 = 1 << 3 // a missing path is no error: the op is skipped
	FlagSourceInRoot  uint64 = 1 << 4 // OpMount: the source is a path in the root too
)

// execflags.
const (
	ExecSearch   uint64 = 1 << 0
	ExecTinyInit uint64 = 1 << 1
)

// userflags (OpSetUser).
const (
	UserKeepCaps uint64 = 1 << 0 // PR_SET_KEEPCAPS around the switch: the permitted set survives a uid other than 0
	// UserNoSetgroups: no setgroups, which the user namespace refuses (a
	// namespace joined by path whose setgroups file says deny; the spec
	// then asks for no additional groups).
	UserNoSetgroups uint64 = 1 << 1
)

// consoleflags.
const (
	// ConsoleBind: bind the pty's slave on /dev/console (the container's
	// init in a mount namespace of its own; not exec).
	ConsoleBind uint64 = 1 << 0
)

// Causes of an Error report.
const (
	CauseNone          = 0
	CauseNotFound      = 1
	CauseNotExecutable = 2
)

// Shape is a code's number of ints and strings.
type Shape struct{ Ints, Strs int }

// Shapes is the table of each code's arguments (plan.h has the same).
var Shapes = [numCodes]Shape{
	OpWaitGo: {0, 0}, OpHooks: {0, 0}, OpReady: {0, 0}, OpWaitStart: {0, 0},
	OpFifoOpen: {0, 2}, OpFifoWait: {0, 0}, OpFifoGo: {0, 0},
	OpPrctl: {2, 0}, OpSetns: {1, 1}, OpUnshare: {1, 0},
	OpHostname: {0, 1}, OpDomainname: {0, 1}, OpLoopbackUp: {0, 0},
	OpWriteFile: {1, 2}, OpPidsOpen: {0, 1}, OpPidsWrite: {1, 0},
	OpSetRoot: {0, 1}, OpMount: {2, 4}, OpSetattr: {4, 1}, OpMask: {0, 1},
	OpMknod: {4, 1}, OpCheckDev: {2, 1}, OpSymlink: {0, 2}, OpMkdir: {1, 1},
	OpPivotRoot: {0, 0}, OpChroot: {0, 0}, OpChdir: {1, 1}, OpHook: {1, 4},
	OpRlimit: {3, 0}, OpBounding: {1, 0}, OpCaps: {4, 0}, OpSetUser: {3, 1},
	OpUmask: {1, 0}, OpSeccomp: {1, 1}, OpConsole: {4, 0}, OpPassFDs: {1, 0},
	OpExec: {1, 4}, OpMoveTree: {2, 1},
}

// Op is one operation: its code and arguments (on the wire), and what the
// parent keeps to describe it (not sent).
type Op struct {
	Code Code
	// Step names the setup step the op belongs to ("mounts"): errors read
	// "init STEP: ...".
	Step string
	Ints []uint64
	Strs [][]byte
	// What and Path describe the op in errors and --explain: "mount
	// proc", "/proc" (the container's path as the spec gives it).
	What, Path string
}

// Plan is the list of operations and its flags.
type Plan struct {
	Flags uint32
	Ops   []Op
}

// Add appends an op with its arguments (strings or []byte for Strs).
func (p *Plan) Add(step string, c Code, ints []uint64, strs ...[]byte) *Op {
	p.Ops = append(p.Ops, Op{Code: c, Step: step, Ints: ints, Strs: strs})
	return &p.Ops[len(p.Ops)-1]
}

// Marshal encodes the plan, checking every limit and shape.
func (p *Plan) Marshal() ([]byte, error) {
	if len(p.Ops) > MaxOps {
		return nil, fmt.Errorf("plan: %d operations, more than %d", len(p.Ops), MaxOps)
	}
	b := make([]byte, 0, 4096)
	b = append(b, Magic...)
	b = binary.LittleEndian.AppendUint32(b, p.Flags)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p.Ops)))
	for i, op := range p.Ops {
		if op.Code == 0 || op.Code >= numCodes {
			return nil, fmt.Errorf("plan: op %d: unknown code %d", i, op.Code)
		}
		if sh := Shapes[op.Code]; len(op.Ints) != sh.Ints || len(op.Strs) != sh.Strs {
			return nil, fmt.Errorf("plan: op %d (%s): %d ints and %d strings, want %d and %d", i, op.Code, len(op.Ints), len(op.Strs), sh.Ints, sh.Strs)
		}
		if len(op.Step) > MaxStep {
			return nil, fmt.Errorf("plan: op %d (%s): step name %q longer than %d", i, op.Code, op.Step, MaxStep)
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(op.Code))
		b = append(b, byte(len(op.Ints)), byte(len(op.Strs)), byte(len(op.Step)))
		b = append(b, op.Step...)
		for _, v := range op.Ints {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
		for _, s := range op.Strs {
			if len(s) > MaxStr {
				return nil, fmt.Errorf("plan: op %d (%s %s): a string of %d bytes, more than %d", i, op.Code, op.Path, len(s), MaxStr)
			}
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
		if len(b) > MaxPlan {
			return nil, fmt.Errorf("plan: more than %d bytes at op %d", MaxPlan, i)
		}
	}
	return b, nil
}

// ErrMalformed is the error of Unmarshal for a plan that breaks the format.
var ErrMalformed = errors.New("malformed plan")

// Unmarshal decodes a plan (for tests, and to show what an init was sent);
// it refuses what the init refuses.
func Unmarshal(b []byte) (*Plan, error) {
	bad := func(f string, a ...any) (*Plan, error) {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(f, a...))
	}
	if len(b) > MaxPlan {
		return bad("%d bytes, more than %d", len(b), MaxPlan)
	}
	if len(b) < len(Magic)+8 || string(b[:len(Magic)]) != Magic {
		return bad("no magic")
	}
	p := &Plan{Flags: binary.LittleEndian.Uint32(b[8:])}
	n := binary.LittleEndian.Uint32(b[12:])
	if n > MaxOps {
		return bad("%d operations, more than %d", n, MaxOps)
	}
	b = b[16:]
	for i := uint32(0); i < n; i++ {
		if len(b) < 5 {
			return bad("op %d: truncated", i)
		}
		op := Op{Code: Code(binary.LittleEndian.Uint16(b))}
		ni, ns, nstep := int(b[2]), int(b[3]), int(b[4])
		b = b[5:]
		if op.Code == 0 || op.Code >= numCodes {
			return bad("op %d: unknown code %d", i, op.Code)
		}
		if sh := Shapes[op.Code]; ni != sh.Ints || ns != sh.Strs {
			return bad("op %d (%s): shape %d/%d, want %d/%d", i, op.Code, ni, ns, sh.Ints, sh.Strs)
		}
		if nstep > MaxStep || len(b) < nstep+8*ni {
			return bad("op %d: truncated", i)
		}
		op.Step, b = string(b[:nstep]), b[nstep:]
		for j := 0; j < ni; j++ {
			op.Ints, b = append(op.Ints, binary.LittleEndian.Uint64(b)), b[8:]
		}
		for j := 0; j < ns; j++ {
			if len(b) < 4 {
				return bad("op %d: truncated", i)
			}
			l := binary.LittleEndian.Uint32(b)
			if l > MaxStr || uint32(len(b)-4) < l {
				return bad("op %d: string %d of %d bytes: too long or truncated", i, j, l)
			}
			op.Strs, b = append(op.Strs, b[4:4+l]), b[4+l:]
		}
		p.Ops = append(p.Ops, op)
	}
	if len(b) != 0 {
		return bad("%d bytes after the last op", len(b))
	}
	return p, nil
}

var codeNames = [numCodes]string{
	OpWaitGo: "wait-go", OpHooks: "hooks", OpReady: "ready", OpWaitStart: "wait-start",
	OpFifoOpen: "fifo-open", OpFifoWait: "fifo-wait", OpFifoGo: "fifo-go",
	OpPrctl: "prctl", OpSetns: "setns", OpUnshare: "unshare",
	OpHostname: "sethostname", OpDomainname: "setdomainname", OpLoopbackUp: "loopback-up",
	OpWriteFile: "write", OpPidsOpen: "pids-open", OpPidsWrite: "pids-write",
	OpSetRoot: "root", OpMount: "mount", OpSetattr: "mount_setattr", OpMask: "mask",
	OpMknod: "mknod", OpCheckDev: "check-device", OpSymlink: "symlink", OpMkdir: "mkdir",
	OpPivotRoot: "pivot_root", OpChroot: "chroot", OpChdir: "chdir", OpHook: "hook",
	OpRlimit: "setrlimit", OpBounding: "bounding-set", OpCaps: "capset", OpSetUser: "setuser",
	OpUmask: "umask", OpSeccomp: "seccomp", OpConsole: "console", OpPassFDs: "pass-fds",
	OpExec: "execve", OpMoveTree: "move_mount",
}

func (c Code) String() string {
	if c > 0 && c < numCodes {
		return codeNames[c]
	}
	return fmt.Sprintf("op(%d)", uint16(c))
}
