package bpf

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Install loads the filter on the calling thread with f.Flags|extra (extra:
// unix.SECCOMP_FILTER_FLAG_TSYNC to cover every thread of a process that
// lives on, as the tiny init does). The caller is the locked thread that
// then calls execve, which keeps the filter; it needs no_new_privs, or
// CAP_SYS_ADMIN when no_new_privs is off. No libseccomp here: one
// seccomp(2) call with the raw program.
func (f *Filter) Install(extra uint) error {
	if err := f.Check(); err != nil {
		return err
	}
	n := f.Instructions()
	insns := make([]unix.SockFilter, n)
	for i := range insns {
		b := f.Program[i*SockFilterSize:]
		insns[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:]),
		}
	}
	prog := unix.SockFprog{Len: uint16(n), Filter: &insns[0]}
	fl := f.Flags | extra
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(fl), uintptr(unsafe.Pointer(&prog)))
	if errno == unix.ENOSYS && fl == 0 {
		// Before Linux 3.17 there is only prctl.
		_, _, errno = unix.Syscall(unix.SYS_PRCTL, unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)))
	}
	runtime.KeepAlive(insns)
	switch {
	case errno == unix.EACCES:
		return os.NewSyscallError("seccomp(SECCOMP_SET_MODE_FILTER)", fmt.Errorf("%w: without process.noNewPrivileges, installing a filter needs CAP_SYS_ADMIN", errno))
	case errno == unix.EINVAL && fl != 0:
		return os.NewSyscallError("seccomp(SECCOMP_SET_MODE_FILTER)", fmt.Errorf("%w: this kernel may not know flags %#x (linux.seccomp.flags)", errno, fl))
	case errno != 0:
		return os.NewSyscallError("seccomp(SECCOMP_SET_MODE_FILTER)", errno)
	case r != 0 && fl&unix.SECCOMP_FILTER_FLAG_TSYNC != 0:
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): thread %d could not be synchronized", r)
	}
	return nil
}
