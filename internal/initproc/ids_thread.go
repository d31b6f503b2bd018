//go:build amd64 || arm64 || riscv64 || loong64 || ppc64 || ppc64le || s390x || mips64 || mips64le

package initproc

import "golang.org/x/sys/unix"

// threadIDs changes the calling thread only: raw system calls, which Go
// does not repeat on its other threads. (On these 64-bit ABIs setresuid
// and setresgid take 32-bit ids; unix.Setgroups is a raw call everywhere.)
var threadIDs = idSetter{
	setgroups: unix.Setgroups,
	setgid:    func(gid int) error { return rawSetres(unix.SYS_SETRESGID, gid) },
	setuid:    func(uid int) error { return rawSetres(unix.SYS_SETRESUID, uid) },
}

func rawSetres(trap uintptr, id int) error {
	if _, _, e := unix.RawSyscall(trap, uintptr(id), uintptr(id), uintptr(id)); e != 0 {
		return e
	}
	return nil
}
