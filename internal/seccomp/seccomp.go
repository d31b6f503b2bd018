// Package seccomp turns the spec's linux.seccomp into a filter the kernel
// runs, in two halves that live in different processes:
//
//	parent (launcher): this package           child (init, or an exec'd process):
//	-------------------------------           the plan's interpreter (C)
//	Cache.Filter(linux.seccomp)               ---------------------------------
//	  check names (actions, ops, arches,      the plan's seccomp op, right before
//	  flags): an unknown one is an error        execve (after no_new_privs;
//	  key = sha256(profile in canonical form,   without it, while it still holds
//	        compiler, GOARCH)                   CAP_SYS_ADMIN):
//	  hit: read the program                       seccomp(SECCOMP_SET_MODE_FILTER,
//	  miss: compile with libseccomp, export            flags, &sock_fprog)
//	        the classic BPF, write atomically
//	Filter{Program, Flags} -- in the plan -->
//
// Compiling (libseccomp through github.com/seccomp/libseccomp-golang, cgo)
// costs tens of milliseconds for Docker's profile (its three architectures
// make 1056 instructions); the cache makes the second run
// with the same profile a file read. The child never calls libseccomp: it
// installs the raw sock_filter array with one system call.
//
// The runtimes are pure Go (cgo costs every command several milliseconds
// of start-up): they compile in minimal-docker-helper beside them (its
// seccomp-compile command, helper.go), and only on a cache miss. A binary
// built with cgo — the helper itself, the tests — compiles in-process.
//
// Rules follow runc's: a syscall name this libseccomp or architecture does
// not know is skipped (it may not exist here; Result.Unknown lists them,
// kept in the cache file beside the program, and Summary says them for
// --explain); an unknown action, operator,
// architecture or flag is an error naming it; SCMP_ACT_NOTIFY (a listener)
// is refused. With no compiler, Cache.Filter refuses every profile, saying
// why (ErrNoCompiler, or the helper that is missing).
//
// DefaultProfile and LoadDockerProfile give Docker's default profile and
// Docker's profile format (github.com/moby/profiles/seccomp), resolved for
// a capability set.
package seccomp

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/seccomp/bpf"
)

// ErrNoCompiler is the error for a profile when nothing can compile it.
var ErrNoCompiler = errors.New("linux.seccomp: not supported: no compiler (no libseccomp in this binary, no minimal-docker-helper beside it)")

// Filter is a compiled linux.seccomp (package bpf, the child's half: no
// cgo there).
type Filter = bpf.Filter

// The program's unit and the kernel's limit on its length.
const (
	sockFilterSize = bpf.SockFilterSize
	bpfMaxInsns    = bpf.MaxInsns
)

// action is an OCI action name resolved to what the compiler needs; the
// cgo side maps it to libseccomp's.
type action int

const (
	actKillThread action = iota
	actKillProcess
	actTrap
	actErrno
	actTrace
	actAllow
	actLog
)

// actions is every action the spec names, and what it is here.
// SCMP_ACT_NOTIFY is absent: it is refused with its own message.
var actions = map[specs.LinuxSeccompAction]action{
	specs.ActKill:        actKillThread, // libseccomp's SCMP_ACT_KILL is KILL_THREAD
	specs.ActKillThread:  actKillThread,
	specs.ActKillProcess: actKillProcess,
	specs.ActTrap:        actTrap,
	specs.ActErrno:       actErrno,
	specs.ActTrace:       actTrace,
	specs.ActAllow:       actAllow,
	specs.ActLog:         actLog,
}

// operators is every comparison the spec names.
var operators = map[specs.LinuxSeccompOperator]bool{
	specs.OpNotEqual: true, specs.OpLessThan: true, specs.OpLessEqual: true,
	specs.OpEqualTo: true, specs.OpGreaterEqual: true, specs.OpGreaterThan: true,
	specs.OpMaskedEqual: true,
}

// arches maps the spec's architectures to libseccomp's names for them.
var arches = map[specs.Arch]string{
	specs.ArchX86: "x86", specs.ArchX86_64: "amd64", specs.ArchX32: "x32",
	specs.ArchARM: "arm", specs.ArchAARCH64: "arm64",
	specs.ArchMIPS: "mips", specs.ArchMIPS64: "mips64", specs.ArchMIPS64N32: "mips64n32",
	specs.ArchMIPSEL: "mipsel", specs.ArchMIPSEL64: "mipsel64", specs.ArchMIPSEL64N32: "mipsel64n32",
	specs.ArchPPC: "ppc", specs.ArchPPC64: "ppc64", specs.ArchPPC64LE: "ppc64le",
	specs.ArchS390: "s390", specs.ArchS390X: "s390x",
	specs.ArchPARISC: "parisc", specs.ArchPARISC64: "parisc64",
	specs.ArchRISCV64: "riscv64", specs.ArchLOONGARCH64: "loong64",
	specs.ArchM68K: "m68k", specs.ArchSH: "sh", specs.ArchSHEB: "sheb",
}

// flags maps the spec's flags to seccomp(2)'s. WAIT_KILLABLE_RECV only
// changes how a listener waits; with SCMP_ACT_NOTIFY refused there is none,
// and the kernel refuses the flag without one, so it maps to nothing.
var flags = map[specs.LinuxSeccompFlag]uint{
	"SECCOMP_FILTER_FLAG_TSYNC":            unix.SECCOMP_FILTER_FLAG_TSYNC,
	specs.LinuxSeccompFlagLog:              unix.SECCOMP_FILTER_FLAG_LOG,
	specs.LinuxSeccompFlagSpecAllow:        unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	specs.LinuxSeccompFlagWaitKillableRecv: 0,
}

// maxArgs is the number of syscall arguments a rule can compare.
const maxArgs = 6

// check validates every name in p without libseccomp, so that a bad
// profile fails the same way whether or not its filter is cached, and
// returns the seccomp(2) flags. Errors name the field.
func check(p *specs.LinuxSeccomp) (uint, error) {
	if p.DefaultAction == specs.ActNotify {
		return 0, errNotify("linux.seccomp.defaultAction")
	}
	if p.ListenerPath != "" {
		return 0, errNotify("linux.seccomp.listenerPath")
	}
	if _, ok := actions[p.DefaultAction]; !ok {
		return 0, fmt.Errorf("linux.seccomp.defaultAction: unknown action %q", p.DefaultAction)
	}
	if err := checkErrno("linux.seccomp.defaultErrnoRet", p.DefaultErrnoRet); err != nil {
		return 0, err
	}
	for _, a := range p.Architectures {
		if _, ok := arches[a]; !ok {
			return 0, fmt.Errorf("linux.seccomp.architectures: unknown architecture %q", a)
		}
	}
	var fl uint
	for _, f := range p.Flags {
		v, ok := flags[f]
		if !ok {
			return 0, fmt.Errorf("linux.seccomp.flags: unknown flag %q (known: SECCOMP_FILTER_FLAG_TSYNC, _LOG, _SPEC_ALLOW, _WAIT_KILLABLE_RECV)", f)
		}
		fl |= v
	}
	for i, sc := range p.Syscalls {
		if err := checkSyscall(sc); err != nil {
			return 0, fmt.Errorf("linux.seccomp.syscalls[%d]%w", i, err)
		}
	}
	return fl, nil
}

// checkSyscall checks one rule; its errors start with the field below the
// rule (".action: ...").
func checkSyscall(sc specs.LinuxSyscall) error {
	if sc.Action == specs.ActNotify {
		return errNotify(".action")
	}
	if _, ok := actions[sc.Action]; !ok {
		return fmt.Errorf(".action: unknown action %q", sc.Action)
	}
	if err := checkErrno(".errnoRet", sc.ErrnoRet); err != nil {
		return err
	}
	for j, a := range sc.Args {
		if !operators[a.Op] {
			return fmt.Errorf(".args[%d].op: unknown operator %q", j, a.Op)
		}
		if a.Index >= maxArgs {
			return fmt.Errorf(".args[%d].index: %d, want 0 to %d", j, a.Index, maxArgs-1)
		}
	}
	return nil
}

// maxErrno is the largest errno a filter can return (the kernel's MAX_ERRNO).
const maxErrno = 4095

func checkErrno(field string, ret *uint) error {
	if ret != nil && *ret > maxErrno {
		return fmt.Errorf("%s: %d, want at most %d", field, *ret, maxErrno)
	}
	return nil
}

func errNotify(field string) error {
	return fmt.Errorf("%s: SCMP_ACT_NOTIFY (a seccomp listener, linux.seccomp.listenerPath) is not supported", field)
}

// errnoOf is the errno a rule's ERRNO or TRACE action returns: ret, or
// EPERM when it is not set (runc's default).
func errnoOf(ret *uint) uint {
	if ret == nil {
		return uint(unix.EPERM)
	}
	return *ret
}
