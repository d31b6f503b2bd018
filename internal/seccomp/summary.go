package seccomp

import (
	"fmt"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Summary says in one line, for --explain, what filter r (Cache.Filter's
// result for p) is: where it came from (compiled now, by what, and the
// cache file it was kept in; or read from that file), the default
// action, the architectures, the rules, the program's length, the flags,
// and the syscall names libseccomp did not know (no rule matches them).
//
//	seccomp filter from the cache file /run/minimal-docker-seccomp/KEY.bpf; default action SCMP_ACT_ERRNO (EPERM); architectures SCMP_ARCH_X86_64,SCMP_ARCH_X86,SCMP_ARCH_X32; 57 rules naming 372 syscalls; 1056 instructions; no flags; 3 syscalls libseccomp did not know: a b c
func Summary(p *specs.LinuxSeccomp, r Result) string {
	if p == nil || r.Filter == nil {
		return "no seccomp filter"
	}
	var b strings.Builder
	switch {
	case r.Cached:
		fmt.Fprintf(&b, "seccomp filter from the cache file %s", r.Path)
	case r.Path != "":
		fmt.Fprintf(&b, "seccomp filter compiled now by %s, kept in %s", r.Compiler, r.Path)
	case r.CacheErr != nil:
		fmt.Fprintf(&b, "seccomp filter compiled now by %s, not kept (%v)", r.Compiler, r.CacheErr)
	default:
		fmt.Fprintf(&b, "seccomp filter compiled now by %s", r.Compiler)
	}
	fmt.Fprintf(&b, "; default action %s", actionText(p.DefaultAction, p.DefaultErrnoRet))
	if len(p.Architectures) == 0 {
		b.WriteString("; the native architecture only")
	} else {
		arches := make([]string, len(p.Architectures))
		for i, a := range p.Architectures {
			arches[i] = string(a)
		}
		fmt.Fprintf(&b, "; architectures %s", strings.Join(arches, ","))
	}
	names := 0
	for _, sc := range p.Syscalls {
		names += len(sc.Names)
	}
	fmt.Fprintf(&b, "; %d rules naming %d syscalls; %d instructions", len(p.Syscalls), names, len(r.Filter.Program)/sockFilterSize)
	if len(p.Flags) == 0 {
		b.WriteString("; no flags")
	} else {
		fl := make([]string, len(p.Flags))
		for i, f := range p.Flags {
			fl[i] = string(f)
		}
		fmt.Fprintf(&b, "; flags %s", strings.Join(fl, "|"))
	}
	if len(r.Unknown) == 0 {
		b.WriteString("; every syscall name known to libseccomp")
	} else {
		fmt.Fprintf(&b, "; %d syscalls libseccomp did not know: %s", len(r.Unknown), strings.Join(r.Unknown, " "))
	}
	return b.String()
}

// actionText is an action with the errno it returns, if it returns one:
// "SCMP_ACT_ERRNO (EPERM)".
func actionText(a specs.LinuxSeccompAction, errnoRet *uint) string {
	if a != specs.ActErrno && a != specs.ActTrace {
		return string(a)
	}
	n := errnoOf(errnoRet)
	name := unix.ErrnoName(syscall.Errno(n))
	if name == "" {
		name = fmt.Sprint(n)
	}
	return fmt.Sprintf("%s (%s)", a, name)
}
