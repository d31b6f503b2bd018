package container

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/explain"
	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/initproc"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/nsenter"
	"github.com/minimal-docker/minimal-docker/internal/plan"
	"github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/sealed"
	"github.com/minimal-docker/minimal-docker/internal/seccomp"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// ExecSpec is the process to exec: Process as given (a --process file),
// or, when Process is nil, the container's own process (config.json) with
// Args in place of its args. Env (KEY=VALUE, replacing the same keys), Cwd
// and User, when set, apply on top in both cases.
type ExecSpec struct {
	Process *specs.Process
	Args    []string
	Env     []string
	Cwd     string
	User    *ExecUser
	// AdditionalGids are added to the process's supplementary groups
	// (runc's exec --additional-gids).
	AdditionalGids []uint32
	// Terminal gives the process a pty (--tty): process.terminal, set for
	// the container's own process, added to a --process file's.
	Terminal bool
}

// ExecOptions are exec's settings besides the process.
type ExecOptions struct {
	// Detach: the process outlives this one; Exec returns once it has
	// exec'd and nobody waits for it here.
	Detach bool
	// Stdio of the process; with a terminal and no ConsoleSocket, Stdin
	// and Stdout are relayed to and from its pty.
	Stdin, Stdout, Stderr *os.File
	// ConsoleSocket, with a terminal, is the unix socket that gets the pty
	// master (--console-socket).
	ConsoleSocket string
	// SeccompCacheDir keeps compiled seccomp filters
	// (seccomp.DefaultCacheDir when empty).
	SeccompCacheDir string
	// Explain, when set, gets a line for each thing the exec does
	// (--explain); nil prints nothing.
	Explain *explain.Log
}

// ExecProcess is a process that Exec started in a container.
type ExecProcess struct {
	// Pid is the process in this process's pid namespace (--pid-file).
	Pid  int
	sigc chan os.Signal
	tty  *console // the relayed terminal, or nil
	x    *explain.Log
}

// Exec starts a process in a created or running container: in its
// namespaces (joined by the nsenter constructor) and its cgroup, as es
// says. It returns once the process has exec'd its program; then, unless
// o.Detach, the caller Waits for it. A command that is not found or not
// executable is an error wrapping rootfs.ErrNotFound or
// rootfs.ErrNotExecutable (package exitcode); nothing is left running
// after an error.
//
// The container's state stays locked until the process has exec'd, so
// that no delete runs in between.
func Exec(store *Store, id string, es ExecSpec, o ExecOptions) (_ *ExecProcess, err error) {
	defer traceCgroups(o.Explain)()
	h, st, err := load(store, id)
	if err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	defer h.Close()
	if err := allow(OpExec, id, st.Status); err != nil {
		return nil, err
	}
	cfg, err := configSpec(st)
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", id, err)
	}
	p, err := execProcess(cfg, es)
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", id, err)
	}
	// The container's seccomp filter applies to its exec'd processes too.
	filter, err := seccompFilter(cfg, o.SeccompCacheDir, debugLog{}, o.Explain)
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", id, err)
	}
	tty, err := newConsole(p, o.ConsoleSocket, o.Detach, o.Stdin, o.Stdout, o.Stderr)
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", id, err)
	}
	defer func() {
		if err != nil {
			tty.Close()
		}
	}()
	mgr, err := cgroups.Restore(savedOf(st))
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", id, err)
	}
	nss, err := nsenter.Open(st.Pid)
	if err == nil && !alive(st) {
		err = fmt.Errorf("%w: its init exited", ErrNotRunning)
	}
	defer nsenter.Close(nss)
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", id, err)
	}

	e := &ExecProcess{tty: tty, x: o.Explain}
	if !o.Detach {
		// Signals that come before the process exists wait in sigc.
		e.sigc = make(chan os.Signal, 32)
		signal.Notify(e.sigc, proc.ForwardedSignals...)
		defer func() {
			if err != nil {
				signal.Stop(e.sigc)
			}
		}()
	}
	e.Pid, err = startExec(nss, st.Pid, mgr, p, o, tty, filter)
	if err != nil && !alive(st) {
		err = fmt.Errorf("%w: its init exited (%v)", ErrNotRunning, err)
	}
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", id, describeErr(err))
	}
	return e, nil
}

// startExec starts the process, puts it in the container's cgroup, lets
// it exec and waits until it has; with a terminal it takes the pty master
// on the way. On failure the process is killed and reaped. The helper's
// constructor joins the namespaces and forks; its child runs the plan
// that initproc.BuildExec compiles, sent on the handshake.
func startExec(nss []nsenter.Namespace, initPid int, mgr cgroups.Manager, p *specs.Process, o ExecOptions, tty *console, filter *seccomp.Filter) (int, error) {
	x := o.Explain
	t := time.Now()
	cfg := &handshake.Config{
		Spec:     &specs.Spec{Process: p, Root: sharedMountsRoot(nss, initPid)},
		Settings: handshake.Settings{Seccomp: filter},
	}
	if slices.ContainsFunc(nss, func(n nsenter.Namespace) bool { return n.Name == "user" }) {
		deny, err := namespaces.SetgroupsDenied(initPid)
		if err != nil {
			return 0, fmt.Errorf("namespace user: the init's setgroups: %w", err)
		}
		cfg.NoSetgroups = deny
	}
	pl, err := initproc.BuildExec(cfg)
	if err != nil {
		return 0, err
	}
	if x.On() {
		pl.Flags |= plan.FlagExplain
	}
	cmd := &nsenter.Cmd{
		Args:       []string{sealed.InitArg0},
		Env:        []string{handshake.EnvPlanFD + "=3"},
		Stdin:      o.Stdin,
		Stdout:     o.Stdout,
		Stderr:     o.Stderr,
		Namespaces: nss,
	}
	conn, childEnd, err := handshake.Pair()
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	explainReports(conn, x)
	cmd.Files = []*os.File{childEnd}
	pid, err := nsenter.Start(cmd)
	childEnd.Close()
	if err != nil {
		return 0, err
	}
	if x.On() {
		var names []string
		for _, ns := range nss {
			names = append(names, ns.Name)
		}
		x.Parent(lap(&t), "the helper joined the namespaces of pid %d (%s) and forked pid %d in them", initPid, strings.Join(names, ", "), pid)
	}
	if err = conn.SendPlan(pl); err == nil {
		x.Parent(lap(&t), "sent the plan: %d ops, %d bytes", len(pl.Ops), conn.PlanSize())
	}
	if err == nil {
		if err = mgr.Apply(pid); err == nil {
			x.Parent(lap(&t), "moved pid %d into cgroup %s (before the go-ahead: before exec)", pid, cgroupPath(mgr))
		}
	}
	if err == nil {
		err = conn.SendGo()
	}
	if err == nil {
		err = tty.receive(conn)
	}
	if err == nil {
		err = conn.WaitExec()
	}
	if err != nil {
		nsenter.Kill(pid)
		return 0, err
	}
	x.Parent(lap(&t), "the process exec'd its command (its end of the handshake closed at execve)")
	return pid, nil
}

// sharedMountsRoot is the root the joined process must chroot into when
// the container shares this process's mount namespace (it has none of its
// own, so there is no mount namespace to join, and joining the others
// leaves the process on the caller's root): the init's root, through
// /proc/PID/root (this process's /proc, which the container shares). Nil
// when the mount namespace is joined: setns gives its root.
func sharedMountsRoot(nss []nsenter.Namespace, initPid int) *specs.Root {
	for _, ns := range nss {
		if ns.Name == "mnt" {
			return nil
		}
	}
	return &specs.Root{Path: "/proc/" + strconv.Itoa(initPid) + "/root"}
}

// Wait forwards signals (proc.ForwardedSignals) to the process until it
// exits, reaps it, and returns its exit status, 128+N when signal N killed
// it. Not for a detached process.
func (e *ExecProcess) Wait() (int, error) {
	if e.sigc == nil {
		return 0, errors.New("exec: wait for a detached process")
	}
	defer signal.Stop(e.sigc)
	stop := forward(e.sigc, e.Pid)
	ws, err := nsenter.Wait(e.Pid)
	stop()
	e.tty.finish()
	if err != nil {
		return 0, fmt.Errorf("exec: wait for pid %d: %w", e.Pid, err)
	}
	explainExit(e.x, ws, nil)
	return exitcode.OfWait(ws), nil
}

// execProcess builds the process to run from es and, for the defaults,
// the container's config cfg, which it leaves as it is.
func execProcess(cfg *specs.Spec, es ExecSpec) (*specs.Process, error) {
	p := es.Process
	if p == nil {
		if len(es.Args) == 0 {
			return nil, errors.New("no command given")
		}
		base := specs.Process{Cwd: "/"}
		if cfg.Process != nil {
			base = *cfg.Process // a copy: the config stays as it is
		}
		p = &base
		p.Args = slices.Clone(es.Args)
		p.Terminal = es.Terminal
	} else {
		cp := *p
		p = &cp
		if len(p.Args) == 0 {
			return nil, errors.New("process: args is empty")
		}
		p.Terminal = p.Terminal || es.Terminal
	}
	s := &specs.Spec{Process: p}
	p.Env = slices.Clone(p.Env)
	if err := spec.WithEnv(es.Env...)(s); err != nil {
		return nil, err
	}
	if es.Cwd != "" {
		if err := spec.WithWorkdir(es.Cwd)(s); err != nil {
			return nil, err
		}
	}
	if u := es.User; u != nil {
		p.User.UID = u.UID
		if u.GID != nil {
			p.User.GID = *u.GID
		}
	}
	if len(es.AdditionalGids) > 0 {
		p.User.AdditionalGids = append(slices.Clone(p.User.AdditionalGids), es.AdditionalGids...)
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	if err := spec.CheckProcess(p); err != nil {
		return nil, err
	}
	return p, nil
}

// configSpec reads the container's config (readConfig).
func configSpec(st *State) (*specs.Spec, error) {
	s := &specs.Spec{}
	if err := readConfig(st, s); err != nil {
		return nil, err
	}
	return s, nil
}

// ExecUser is exec's --user: a uid, and a gid that, when nil, stays the
// container process's (runc's rule).
type ExecUser struct {
	UID uint32
	GID *uint32
}

// ParseUser reads --user UID[:GID], as numbers (names would need the
// container's /etc/passwd).
func ParseUser(v string) (*ExecUser, error) {
	if err := spec.CheckUserFlag("--user", v); err != nil {
		return nil, err
	}
	us, gs, hasGID := strings.Cut(v, ":")
	uid, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("invalid --user %q: want UID[:GID] as numbers", v)
	}
	u := &ExecUser{UID: uint32(uid)}
	if hasGID {
		gid, err := strconv.ParseUint(gs, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("invalid --user %q: want UID[:GID] as numbers", v)
		}
		g := uint32(gid)
		u.GID = &g
	}
	return u, nil
}
