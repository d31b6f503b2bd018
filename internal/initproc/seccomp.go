package initproc

import (
	"errors"

	"golang.org/x/sys/unix"
)

// The seccomp filter (linux.seccomp, compiled by the parent: package
// seccomp) is installed on this locked thread, which then execs and so
// hands it on. With no_new_privs it is the last of FinalSteps, so that as
// few of the runtime's own system calls as possible run under it; without
// no_new_privs installing it needs CAP_SYS_ADMIN, which setuid and the
// capability steps take away, so it is the first. That is runc's order
// (standard_init_linux.go).

// wantsSeccomp: the spec has linux.seccomp, or the parent sent a filter
// (an exec'd process's spec holds only its process).
func wantsSeccomp(s *state) bool {
	return (s.cfg != nil && s.cfg.Seccomp != nil) || (s.spec.Linux != nil && s.spec.Linux.Seccomp != nil)
}

// seccompFirst: installed before the credentials change (no no_new_privs).
func seccompFirst(s *state) bool { return wantsSeccomp(s) && !s.spec.Process.NoNewPrivileges }

// seccompLast: installed after no_new_privs, right before execve.
func seccompLast(s *state) bool { return wantsSeccomp(s) && s.spec.Process.NoNewPrivileges }

// installSeccomp loads the compiled filter. The tiny init lives on as a Go
// program whose other threads would escape a filter on this one alone:
// there every thread gets it (TSYNC).
func installSeccomp(s *state) error {
	if s.cfg == nil || s.cfg.Seccomp == nil {
		return errors.New("linux.seccomp is set but the runtime sent no compiled filter")
	}
	var extra uint
	if s.tinyInit() {
		extra = unix.SECCOMP_FILTER_FLAG_TSYNC
	}
	return s.cfg.Seccomp.Install(extra)
}
