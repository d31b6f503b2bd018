package seccomp

import (
	"slices"
	"unsafe"

	"github.com/opencontainers/runtime-spec/specs-go/features"
	"golang.org/x/sys/unix"
)

// Features is the seccomp part of the OCI features document (minimal-runc
// features): the names linux.seccomp may use, and the flags this kernel
// takes. With no compiler only Enabled, false, is said.
func Features() *features.Seccomp {
	on := Available()
	f := &features.Seccomp{Enabled: &on}
	if !on {
		return f
	}
	for a := range actions {
		f.Actions = append(f.Actions, string(a))
	}
	for o := range operators {
		f.Operators = append(f.Operators, string(o))
	}
	for a := range arches {
		f.Archs = append(f.Archs, string(a))
	}
	f.SupportedFlags = []string{}
	for name, v := range flags {
		f.KnownFlags = append(f.KnownFlags, string(name))
		if v != 0 && kernelTakesFlag(v) {
			f.SupportedFlags = append(f.SupportedFlags, string(name))
		}
	}
	for _, l := range [][]string{f.Actions, f.Operators, f.Archs, f.KnownFlags, f.SupportedFlags} {
		slices.Sort(l)
	}
	return f
}

// Available reports whether this binary can compile profiles: it has
// libseccomp (cgo) or minimal-docker-helper beside it.
func Available() bool { return newCompiler().err == nil }

// kernelTakesFlag asks the kernel whether it knows a filter flag: with no
// program, EFAULT says the flag passed the check (nothing is installed),
// EINVAL that it did not (runc's probe).
func kernelTakesFlag(flag uint) bool {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flag), uintptr(unsafe.Pointer(nil)))
	return errno == unix.EFAULT
}
