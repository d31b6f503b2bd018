package initproc

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/caps"
	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/seccomp/bpf"
)

// FinalSteps run after start, right before execve (or the tiny init), on
// the locked thread: everything that gives up root's powers, in the order
// that keeps what the spec asks for. By now every step that needs root is
// done. A failure is reported as "init NAME: ...", as the runtime's.
var FinalSteps = []step{
	{name: "seccomp", run: installSeccomp, when: seccompFirst},
	{name: "bounding-set", run: dropBounding, when: hasCapabilities},
	{name: "user", run: setUser},
	// A change of the effective uid clears the parent-death signal: ask
	// for it again (as runc does).
	{name: "pdeathsig", run: killWithParent, when: func(s *state) bool { return s.cfg != nil && s.cfg.KillWithParent }},
	{name: "capabilities", run: applyCapabilities, when: hasCapabilities},
	{name: "umask", run: setUmask},
	{name: "no_new_privs", run: setNoNewPrivs, when: func(s *state) bool { return s.spec.Process.NoNewPrivileges }},
	// seccomp comes last after no_new_privs, first without it (seccomp.go).
	{name: "seccomp", run: installSeccomp, when: seccompLast},
}

// finalize runs FinalSteps. They are not timed: the parent has stopped
// listening, and the container's stderr is not a log.
func finalize(s *state) error {
	for _, st := range FinalSteps {
		if !st.applies(s) {
			continue
		}
		if err := st.run(s); err != nil {
			return handshake.StepError(st.name, err)
		}
	}
	return nil
}

// Finalize applies process.rlimits and runs FinalSteps for a process that
// joins a running container (exec): the same limits, user, capabilities,
// umask, no_new_privs and seccomp filter (the container's, compiled by the
// parent; nil for none) as the container's own process would get from the
// same fields.
func Finalize(p *specs.Process, filter *bpf.Filter) error {
	s := &state{spec: &specs.Spec{Process: p}, cfg: &handshake.Config{Settings: handshake.Settings{Seccomp: filter}}, fifo: -1, pidsMax: -1}
	if err := setRlimits(s); err != nil {
		return handshake.StepError("rlimits", err)
	}
	return finalize(s)
}

func hasCapabilities(s *state) bool { return s.spec.Process.Capabilities != nil }

func dropBounding(s *state) error {
	want, err := caps.Parse(s.spec.Process.Capabilities)
	if err != nil {
		return err
	}
	return caps.DropBounding(want.Bounding)
}

// setUser switches to process.user: supplementary groups, gid, then uid
// (after setuid nothing else could be changed). With process.capabilities
// the permitted set is kept across setuid (PR_SET_KEEPCAPS) for
// applyCapabilities to narrow; without it a non-zero uid loses every
// capability, as the kernel does for any setuid.
//
// Before execve it is enough to change this thread: execve leaves only the
// calling thread, with its credentials. That costs microseconds, where
// Go's all-threads setuid (which stops every thread, for each call) costs
// about 0.7ms here. The tiny init lives on as a Go program, so there every
// thread changes.
func setUser(s *state) error {
	u := s.spec.Process.User
	keep := hasCapabilities(s) && u.UID != 0
	if keep {
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return os.NewSyscallError("prctl(PR_SET_KEEPCAPS)", err)
		}
	}
	ids := threadIDs
	if s.tinyInit() {
		ids = processIDs
	}
	groups := make([]int, len(u.AdditionalGids))
	for i, g := range u.AdditionalGids {
		groups[i] = int(g)
	}
	if err := ids.setgroups(groups); err != nil {
		return fmt.Errorf("process.user.additionalGids (%d groups): setgroups: %w", len(groups), err)
	}
	if err := ids.setgid(int(u.GID)); err != nil {
		return fmt.Errorf("process.user.gid %d: setgid: %w", u.GID, err)
	}
	if err := ids.setuid(int(u.UID)); err != nil {
		return fmt.Errorf("process.user.uid %d: setuid: %w", u.UID, err)
	}
	if keep {
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
			return os.NewSyscallError("prctl(PR_SET_KEEPCAPS, 0)", err)
		}
	}
	return nil
}

// idSetter changes a process's or a thread's groups, gid and uid (real,
// effective and saved).
type idSetter struct {
	setgroups func([]int) error
	setgid    func(int) error
	setuid    func(int) error
}

// processIDs changes every thread (Go's syscall package).
var processIDs = idSetter{
	setgroups: syscall.Setgroups,
	setgid:    func(gid int) error { return syscall.Setresgid(gid, gid, gid) },
	setuid:    func(uid int) error { return syscall.Setresuid(uid, uid, uid) },
}

// applyCapabilities sets the effective, permitted, inheritable and ambient
// sets of process.capabilities (the bounding set was narrowed before
// setuid). For uid 0 execve then grants the bounding set (capabilities(7));
// for another uid the program keeps the ambient set. Capabilities belong to
// a thread: this one, which execs, or which as the tiny init starts the
// command (Go's other threads of the tiny init keep what they had).
func applyCapabilities(s *state) error {
	want, err := caps.Parse(s.spec.Process.Capabilities)
	if err != nil {
		return err
	}
	return want.Apply()
}

// setUmask sets process.user.umask, or the conventional 0022 (the init ran
// with 0 so that the nodes it made have exactly their modes).
func setUmask(s *state) error {
	mask := 0o022
	if m := s.spec.Process.User.Umask; m != nil {
		mask = int(*m) // checked by Check (checkUser)
	}
	unix.Umask(mask)
	return nil
}

// setNoNewPrivs sets no_new_privs (process.noNewPrivileges): execve of a
// setuid or file-capability program grants nothing. Only the seccomp
// filter comes after it.
func setNoNewPrivs(*state) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("process.noNewPrivileges: %w", os.NewSyscallError("prctl(PR_SET_NO_NEW_PRIVS)", err))
	}
	return nil
}

// oomScoreAdjFile is where a process's OOM score adjustment is set.
const oomScoreAdjFile = "/proc/self/oom_score_adj"

// setOOMScoreAdj writes process.oomScoreAdj for the init, which execve
// keeps. It runs early, as root, with the runtime's /proc.
func setOOMScoreAdj(s *state) error {
	v := *s.spec.Process.OOMScoreAdj // checked by Check
	f, err := os.OpenFile(oomScoreAdjFile, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("process.oomScoreAdj: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(strconv.Itoa(v)); err != nil {
		if errors.Is(err, unix.EACCES) {
			cur := "?"
			if b, rerr := os.ReadFile(oomScoreAdjFile); rerr == nil {
				cur = string(trimNL(b))
			}
			return fmt.Errorf("process.oomScoreAdj %d: the kernel refuses to lower the OOM score adjustment to %d (the runtime's own is %s) without CAP_SYS_RESOURCE, %s; engines must not lower it (containerd: restrict_oom_score_adj)",
				v, v, cur, sysResourceState())
		}
		return fmt.Errorf("process.oomScoreAdj %d: write %s: %w", v, oomScoreAdjFile, err)
	}
	return nil
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// sysResourceState says whether the runtime holds CAP_SYS_RESOURCE, for
// the errors of what needs it.
func sysResourceState() string {
	have, err := caps.Current()
	if err == nil && have.Effective.Has(capability.CAP_SYS_RESOURCE) {
		return "which the runtime holds"
	}
	return "which this host withholds from the runtime"
}
