package initproc

// The plan's last steps: rlimits, the preserved fds, FinalPlanSteps (giving up
// root's powers) and the exec.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/caps"
	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/plan"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// exec adds the exec of process.args: args[0] searched in the process's
// PATH inside the container unless it holds a slash (rootfs.LookPath's
// rule, carried out by the init), with the tiny init when asked.
func (b *builder) exec() error {
	p := b.spec.Process
	b.step = "exec"
	argv, err := nulList("process.args", p.Args)
	if err != nil {
		return handshake.StepError("exec", err)
	}
	envp, err := nulList("process.env", p.Env)
	if err != nil {
		return handshake.StepError("exec", err)
	}
	var flags uint64
	if !strings.Contains(p.Args[0], "/") {
		flags |= plan.ExecSearch
	}
	if b.cfg.TinyInit {
		flags |= plan.ExecTinyInit
	}
	b.op(plan.OpExec, "exec", p.Args[0], []uint64{flags}, p.Args[0], argv, envp, rootfs.Getenv(p.Env, "PATH"))
	return nil
}

// nulList is a list as the plan carries argv and envp: each element
// NUL-terminated.
func nulList(field string, list []string) (string, error) {
	var sb strings.Builder
	for i, s := range list {
		if strings.IndexByte(s, 0) >= 0 {
			return "", fmt.Errorf("%s[%d] holds a NUL byte", field, i)
		}
		sb.WriteString(s)
		sb.WriteByte(0)
	}
	return sb.String(), nil
}

// buildRlimits sets process.rlimits, the last setup as root. A hard limit
// above the runtime's own needs CAP_SYS_RESOURCE: the error says so.
func buildRlimits(b *builder) error {
	rl, err := parseRlimits(b.spec.Process.Rlimits)
	if err != nil {
		return err
	}
	for _, r := range rl {
		what := fmt.Sprintf("process.rlimits %s: setrlimit(soft %d, hard %d)", r.name, r.lim.Cur, r.lim.Max)
		var own unix.Rlimit
		if err := unix.Getrlimit(r.resource, &own); err == nil && r.lim.Max > own.Max {
			what = fmt.Sprintf("process.rlimits %s: hard limit %d is above the runtime's own hard limit %d; raising a hard limit needs CAP_SYS_RESOURCE, %s: setrlimit",
				r.name, r.lim.Max, own.Max, sysResourceState())
		}
		b.op(plan.OpRlimit, what, "", []uint64{uint64(r.resource), r.lim.Cur, r.lim.Max})
	}
	return nil
}

func buildPassFDs(b *builder) error {
	n := b.cfg.PreserveFDs
	if n < 0 {
		return fmt.Errorf("--preserve-fds %d: want 0 or more", n)
	}
	b.op(plan.OpPassFDs, fmt.Sprintf("pass %d preserved fds from 3 on", n), "", []uint64{uint64(n)})
	return nil
}

// buildSeccomp installs the compiled filter: first without no_new_privs
// (needs CAP_SYS_ADMIN, gone after the credentials change), last with it.
func buildSeccomp(b *builder) error {
	f := b.cfg.Seccomp
	if f == nil {
		return errors.New("linux.seccomp is set but the runtime sent no compiled filter")
	}
	if err := f.Check(); err != nil {
		return err
	}
	what := fmt.Sprintf("seccomp(SECCOMP_SET_MODE_FILTER, flags %#x) of %d instructions", f.Flags, f.Instructions())
	if !b.spec.Process.NoNewPrivileges {
		what += " (without process.noNewPrivileges, installing a filter needs CAP_SYS_ADMIN)"
	}
	b.op(plan.OpSeccomp, what, "", []uint64{uint64(f.Flags)}, string(f.Program))
	return nil
}

func buildBounding(b *builder) error {
	want, err := caps.Parse(b.spec.Process.Capabilities)
	if err != nil {
		return err
	}
	b.op(plan.OpBounding, "process.capabilities.bounding: drop every capability but "+want.Bounding.String(), "", []uint64{uint64(want.Bounding)})
	return nil
}

// buildUser switches to process.user (setUser): groups, gid, uid, with the
// permitted capabilities kept across it when process.capabilities narrows
// them after.
func buildUser(b *builder) error {
	u := b.spec.Process.User
	var flags uint64
	if hasCapabilities(b.state) && u.UID != 0 {
		flags |= plan.UserKeepCaps
	}
	if b.cfg.NoSetgroups {
		if len(u.AdditionalGids) > 0 {
			return fmt.Errorf("process.user.additionalGids %v: the container's user namespace denies setgroups (its setgroups file says deny)", u.AdditionalGids)
		}
		flags |= plan.UserNoSetgroups
	}
	groups := make([]byte, 0, 4*len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		groups = binary.LittleEndian.AppendUint32(groups, g)
	}
	what := fmt.Sprintf("process.user uid %d, gid %d, %d additional groups: set", u.UID, u.GID, len(u.AdditionalGids))
	if flags&plan.UserNoSetgroups != 0 {
		what += " (no setgroups: the joined user namespace denies it)"
	}
	b.op(plan.OpSetUser, what, "", []uint64{uint64(u.UID), uint64(u.GID), flags}, string(groups))
	return nil
}

func buildCaps(b *builder) error {
	s, err := caps.Parse(b.spec.Process.Capabilities)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("capset (effective %s; permitted %s; inheritable %s; ambient %s)", s.Effective, s.Permitted, s.Inheritable, s.Ambient)
	b.op(plan.OpCaps, what, "", []uint64{uint64(s.Effective), uint64(s.Permitted), uint64(s.Inheritable), uint64(s.Ambient)})
	return nil
}

// buildUmask sets process.user.umask, or the conventional 0022.
func buildUmask(b *builder) error {
	mask := uint64(0o022)
	if m := b.spec.Process.User.Umask; m != nil {
		mask = uint64(*m) // checked by Check (checkUser)
	}
	b.op(plan.OpUmask, fmt.Sprintf("umask %04o", mask), "", []uint64{mask})
	return nil
}

// The seccomp filter (linux.seccomp, compiled by the parent: package
// seccomp) is the init's to install, right before execve, which hands it
// on. With no_new_privs it is the last of FinalPlanSteps, so that as few
// of the init's own system calls as possible run under it; without
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

func hasCapabilities(s *state) bool { return s.spec.Process.Capabilities != nil }

// sysResourceState says whether the runtime holds CAP_SYS_RESOURCE, for
// the errors of what needs it.
func sysResourceState() string {
	have, err := caps.Current()
	if err == nil && have.Effective.Has(capability.CAP_SYS_RESOURCE) {
		return "which the runtime holds"
	}
	return "which this host withholds from the runtime"
}
