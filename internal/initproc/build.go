// Package initproc is the compiler of the container's init: the step
// table (PlanSteps, FinalPlanSteps) that turns a spec and the parent's
// settings into a plan (package plan), which the init — the C interpreter
// in minimal-docker-helper's constructor — carries out. Build compiles a
// container's setup (run, create), BuildExec a process exec'd into a
// running container; Check refuses, before the container exists, what
// the steps would refuse.
package initproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/hooks"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/plan"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// The compiler: the step table builds the plan (package plan) that the
// container's init, in C, carries out. Every decision is made here, in
// the parent; each step appends the primitive operations it stands for,
// with Step, What and Path filled so that a failure reads
// "init STEP: WHAT PATH: strerror".
//
// What only the container's own view can tell stays with the init: a
// missing command (the PATH search is the init's, in the new root), a
// sysctl the container's namespaces lack, a node in the way.

// state is what the steps read: the config, its spec and the root.
type state struct {
	cfg  *handshake.Config
	spec *specs.Spec
	root string
	// userns: the container runs in a user namespace other than the
	// host's (namespaces.InContainerUserNS), where the kernel refuses
	// mknod, sysfs without a network namespace of the container's own,
	// and cgroup v1 mounts: the steps bind the host's instead.
	userns bool
}

// builder is what the build functions share: the state the steps read
// and the plan they append to.
type builder struct {
	*state
	p    *plan.Plan
	step string // the step being built: each op's Step
}

// op appends an operation of the current step.
func (b *builder) op(c plan.Code, what, path string, ints []uint64, strs ...string) *plan.Op {
	bs := make([][]byte, len(strs))
	for i, s := range strs {
		bs[i] = []byte(s)
	}
	o := b.p.Add(b.step, c, ints, bs...)
	o.What, o.Path = what, path
	return o
}

// buildStep is one named step of the plan: the ops it adds, when it
// applies and which namespace it needs of the container's own (as step).
type buildStep struct {
	name  string
	build func(*builder) error
	when  func(*state) bool
	owns  specs.LinuxNamespaceType
}

// applies reports whether the step is built for this container. A step
// that owns a namespace (the mount table, the hostname) is built only
// when the container has that namespace of its own, new or joined by
// path, so that it never reaches the caller's: a container without a
// mount namespace shares the caller's mount table and gets chroot and
// no mounts.
func (st buildStep) applies(s *state) bool {
	if st.owns != "" && !namespaces.In(s.spec.Linux.Namespaces, st.owns) {
		return false
	}
	return st.when == nil || st.when(s)
}

// sharesMounts: the container has no mount namespace of its own
// (namespaces.SharesMounts); it must not change the caller's mount table.
func sharesMounts(s *state) bool { return namespaces.SharesMounts(s.spec.Linux.Namespaces) }

func hasNS(t specs.LinuxNamespaceType) func(*state) bool {
	return func(s *state) bool { return namespaces.Has(s.spec.Linux.Namespaces, t) }
}

// devIsTmpfs: the standard nodes are made when /dev is the container's own
// tmpfs (not a bind of the host's /dev).
func devIsTmpfs(s *state) bool {
	for _, m := range s.spec.Mounts {
		if m.Destination == "/dev" {
			return m.Type == "tmpfs"
		}
	}
	return false
}

// hasRuntimeHooks: the parent runs prestart and createRuntime hooks at
// the plan's OpHooks, in the runtime's namespaces, before pivot_root.
func hasRuntimeHooks(s *state) bool {
	return hooks.Has(s.spec.Hooks, hooks.Prestart, hooks.CreateRuntime)
}

// hasCreateContainerHooks: the init runs createContainer hooks itself, in
// the container's namespaces while the host's root is still its root
// (their paths resolve in the runtime's filesystem, as the spec asks).
func hasCreateContainerHooks(s *state) bool {
	return hooks.Has(s.spec.Hooks, hooks.CreateContainer)
}

// PlanSteps build the container's setup, in order: the go-ahead first (the parent has placed the child in its cgroup), then
// the steps up to ready, the wait for start, the preserved fds.
// FinalPlanSteps follow, then the pids limit and the exec (Build).
var PlanSteps = []buildStep{
	{name: "handshake", build: func(b *builder) error { b.op(plan.OpWaitGo, "wait for the parent's go-ahead", "", nil); return nil }},
	{name: "init", build: buildInit},
	{name: "pdeathsig", build: buildPdeathsig, when: func(s *state) bool { return s.cfg.KillWithParent }},
	// Opened before a mount namespace is joined: the fifo is the host's.
	{name: "exec-fifo", build: buildFifoOpen, when: func(s *state) bool { return s.cfg.ExecFifo != "" }},
	// Opened in the runtime's cgroup namespace (before cgroupns).
	{name: "pids-max", build: buildPidsOpen, when: func(s *state) bool { return s.cfg.PidsMax != "" }},
	{name: "join-namespaces", build: buildJoin, when: func(s *state) bool { return namespaces.Joins(s.spec.Linux.Namespaces) }},
	{name: "cgroupns", build: buildCgroupns, when: hasNS(specs.CgroupNamespace)},
	{name: "hostname", build: buildHostname, owns: specs.UTSNamespace, when: func(s *state) bool { return s.spec.Hostname != "" }},
	{name: "domainname", build: buildDomainname, owns: specs.UTSNamespace, when: func(s *state) bool { return s.spec.Domainname != "" }},
	{name: "loopback", build: buildLoopback, when: hasNS(specs.NetworkNamespace)},
	{name: "oom_score_adj", build: buildOOMScoreAdj, when: func(s *state) bool { return s.spec.Process.OOMScoreAdj != nil }},
	{name: "propagation", build: buildPropagation, owns: specs.MountNamespace},
	{name: "bind-rootfs", build: buildBindRootfs, owns: specs.MountNamespace, when: func(s *state) bool { return s.cfg.RootOverlay == nil && !s.cfg.RootTree }},
	{name: "overlay-rootfs", build: buildOverlayRootfs, owns: specs.MountNamespace, when: func(s *state) bool { return s.cfg.RootOverlay != nil && !s.cfg.RootTree }},
	{name: "idmapped-rootfs", build: buildRootTree, owns: specs.MountNamespace, when: func(s *state) bool { return s.cfg.RootTree }},
	// The root for in-root paths, opened once the rootfs is mounted (a
	// handle opened before would be of the directory beneath the mount).
	{name: "root", build: func(b *builder) error { b.op(plan.OpSetRoot, "open the rootfs", b.root, nil, b.root); return nil }},
	{name: "mounts", build: buildMounts, owns: specs.MountNamespace},
	{name: "devices", build: buildDevices, owns: specs.MountNamespace, when: devIsTmpfs},
	{name: "linux-devices", build: buildSpecDevices, owns: specs.MountNamespace, when: func(s *state) bool { return len(s.spec.Linux.Devices) > 0 }},
	{name: "runtime-hooks", build: func(b *builder) error {
		b.op(plan.OpHooks, "wait for the prestart and createRuntime hooks", "", nil)
		return nil
	}, when: hasRuntimeHooks},
	{name: "createContainer-hooks", build: func(b *builder) error {
		return b.hooks(hooks.CreateContainer, specs.StateCreating)
	}, when: hasCreateContainerHooks},
	{name: "pivot_root", build: func(b *builder) error { b.op(plan.OpPivotRoot, "pivot_root", b.root, nil); return nil }, owns: specs.MountNamespace},
	{name: "chroot", build: func(b *builder) error { b.op(plan.OpChroot, "chroot", b.root, nil); return nil }, when: sharesMounts},
	{name: "console", build: buildConsole, when: func(s *state) bool { return s.spec.Process.Terminal }},
	{name: "sysctl", build: buildSysctls, when: func(s *state) bool { return len(s.spec.Linux.Sysctl) > 0 }},
	{name: "readonly-paths", build: buildReadonlyPaths, owns: specs.MountNamespace, when: func(s *state) bool { return len(s.spec.Linux.ReadonlyPaths) > 0 }},
	{name: "masked-paths", build: buildMaskedPaths, owns: specs.MountNamespace, when: func(s *state) bool { return len(s.spec.Linux.MaskedPaths) > 0 }},
	{name: "readonly-root", build: buildReadonlyRoot, owns: specs.MountNamespace, when: func(s *state) bool { return s.spec.Root.Readonly }},
	{name: "root-propagation", build: buildRootPropagation, owns: specs.MountNamespace, when: func(s *state) bool { return rootfs.PropagationAfterPivot(s.spec.Linux.RootfsPropagation) }},
	{name: "cwd", build: func(b *builder) error {
		b.op(plan.OpChdir, "chdir", b.spec.Process.Cwd, []uint64{plan.FlagMkdir}, b.spec.Process.Cwd)
		return nil
	}},
	{name: "rlimits", build: buildRlimits, when: func(s *state) bool { return len(s.spec.Process.Rlimits) > 0 }},
	{name: "ready", build: func(b *builder) error { b.op(plan.OpReady, "report ready", "", nil); return nil }},
	{name: "start", build: buildStart},
	// After the last hook (none inherits them), before the final steps
	// (a seccomp filter may refuse fcntl). Always: it also marks every
	// other inherited fd close-on-exec.
	{name: "preserve-fds", build: buildPassFDs},
}

// FinalPlanSteps give up root's powers, after start, right before the
// pids limit and execve, in the order that keeps what the spec asks for.
var FinalPlanSteps = []buildStep{
	{name: "seccomp", build: buildSeccomp, when: seccompFirst},
	{name: "bounding-set", build: buildBounding, when: hasCapabilities},
	{name: "user", build: buildUser},
	// A change of the effective uid clears the parent-death signal.
	{name: "pdeathsig", build: buildPdeathsig, when: func(s *state) bool { return s.cfg.KillWithParent }},
	{name: "capabilities", build: buildCaps, when: hasCapabilities},
	{name: "umask", build: buildUmask},
	{name: "no_new_privs", build: func(b *builder) error {
		b.op(plan.OpPrctl, "process.noNewPrivileges: prctl(PR_SET_NO_NEW_PRIVS)", "", []uint64{unix.PR_SET_NO_NEW_PRIVS, 1})
		return nil
	}, when: func(s *state) bool { return s.spec.Process.NoNewPrivileges }},
	{name: "seccomp", build: buildSeccomp, when: seccompLast},
}

// Build compiles the setup of a container (run, create) into a plan:
// PlanSteps (through the wait for start), FinalPlanSteps, the pids limit
// and the exec. cfg.State.Pid, when the container has no pid namespace of its own,
// should be the init's pid (the hooks the init runs get it). A failure is
// the *handshake.Error of the step whose input is wrong.
func Build(cfg *handshake.Config) (*plan.Plan, error) {
	s := cfg.Spec
	if s == nil || s.Process == nil || len(s.Process.Args) == 0 || s.Root == nil || s.Linux == nil {
		return nil, errors.New("plan: the spec needs process.args, root and linux")
	}
	b := &builder{state: &state{cfg: cfg, spec: s, root: s.Root.Path, userns: namespaces.InContainerUserNS(s.Linux.Namespaces)}, p: &plan.Plan{}}
	if err := b.run(PlanSteps); err != nil {
		return nil, err
	}
	// The pids limit after the last fork of the setup (hooks), before the
	// final steps: a seccomp filter may refuse write.
	if cfg.PidsMax != "" {
		b.step = "pids-max"
		b.op(plan.OpPidsWrite, "write the pids limit to", cfg.PidsMax, []uint64{uint64(cfg.PidsLimit)})
	}
	if err := b.run(FinalPlanSteps); err != nil {
		return nil, err
	}
	if err := b.exec(); err != nil {
		return nil, err
	}
	return b.p, nil
}

// BuildExec compiles the start of a process in a running container
// (exec): the process joins its namespaces (nsenter.c), waits for the
// go-ahead (its cgroup), and gets the container's process treatment from
// cfg.Spec.Process: a console, the preserved fds, rlimits, FinalPlanSteps, the
// working directory (not created), the exec. cfg.Spec.Root, when set, is
// the root to chroot into (a container that shares the caller's mounts);
// cfg.Seccomp is the container's filter.
func BuildExec(cfg *handshake.Config) (*plan.Plan, error) {
	if cfg.Spec == nil || cfg.Spec.Process == nil || len(cfg.Spec.Process.Args) == 0 {
		return nil, errors.New("exec: no process to run")
	}
	s := &specs.Spec{Process: cfg.Spec.Process, Root: cfg.Spec.Root}
	b := &builder{state: &state{cfg: cfg, spec: s}, p: &plan.Plan{}}
	b.step = "handshake"
	b.op(plan.OpWaitGo, "wait for the parent's go-ahead", "", nil)
	b.step = "init"
	if err := buildInit(b); err != nil {
		return nil, err
	}
	b.step = "root"
	if s.Root != nil {
		b.root = s.Root.Path
		b.op(plan.OpSetRoot, "open the rootfs", b.root, nil, b.root)
		b.op(plan.OpChroot, "chroot", b.root, nil)
	} else {
		b.op(plan.OpSetRoot, "open the container's root", "/", nil, "/")
	}
	steps := []buildStep{
		{name: "console", build: buildConsole, when: func(s *state) bool { return s.spec.Process.Terminal }},
		{name: "preserve-fds", build: buildPassFDs},
		{name: "rlimits", build: buildRlimits, when: func(s *state) bool { return len(s.spec.Process.Rlimits) > 0 }},
	}
	if err := b.run(steps); err != nil {
		return nil, err
	}
	if err := b.run(FinalPlanSteps); err != nil {
		return nil, err
	}
	cwd := s.Process.Cwd
	if cwd == "" {
		cwd = "/"
	}
	b.step = "cwd"
	b.op(plan.OpChdir, "chdir", cwd, []uint64{0}, cwd)
	if err := b.exec(); err != nil {
		return nil, err
	}
	return b.p, nil
}

// run builds the steps that apply; a step's error is reported as the
// step's (handshake.StepError).
func (b *builder) run(steps []buildStep) error {
	for _, st := range steps {
		if !st.applies(b.state) {
			continue
		}
		b.step = st.name
		if err := st.build(b); err != nil {
			return handshake.StepError(st.name, err)
		}
	}
	return nil
}

// buildInit makes the init not dumpable until the exec (which makes the
// user's program dumpable again: nothing in the container may ptrace the
// init or open its /proc/PID/exe and fds), and with umask 0, so that
// what it makes has exactly its mode.
func buildInit(b *builder) error {
	b.op(plan.OpPrctl, "prctl(PR_SET_DUMPABLE)", "", []uint64{unix.PR_SET_DUMPABLE, 0})
	b.op(plan.OpUmask, "umask 0000", "", []uint64{0})
	return nil
}

func buildPdeathsig(b *builder) error {
	b.op(plan.OpPrctl, "prctl(PR_SET_PDEATHSIG)", "", []uint64{unix.PR_SET_PDEATHSIG, uint64(unix.SIGKILL)})
	return nil
}

func buildFifoOpen(b *builder) error {
	f := b.cfg.ExecFifo
	i := strings.LastIndexByte(f, '/')
	if i < 0 || i == len(f)-1 {
		return fmt.Errorf("exec fifo %q: not an absolute path of a file", f)
	}
	dir := f[:i]
	if dir == "" {
		dir = "/"
	}
	if b.cfg.ExecFifoDirFD > 0 {
		dir = "/proc/self/fd/" + strconv.Itoa(b.cfg.ExecFifoDirFD)
	}
	b.op(plan.OpFifoOpen, "open exec fifo's directory", f, nil, dir, f[i+1:])
	return nil
}

func buildPidsOpen(b *builder) error {
	b.op(plan.OpPidsOpen, "open", b.cfg.PidsMax, nil, b.cfg.PidsMax)
	return nil
}

// buildJoin joins the namespaces given by path in namespaces.Joinable's
// order (the mount namespace last; a pid namespace's path is the
// parent's: it starts the init inside).
func buildJoin(b *builder) error {
	for _, t := range namespaces.Joinable {
		for _, n := range b.spec.Linux.Namespaces {
			if n.Type != t || n.Path == "" {
				continue
			}
			b.op(plan.OpSetns, "namespace "+string(t)+": setns", n.Path, []uint64{uint64(namespaces.Flags[t])}, n.Path)
		}
	}
	return nil
}

func buildCgroupns(b *builder) error {
	b.op(plan.OpUnshare, "unshare(CLONE_NEWCGROUP)", "", []uint64{unix.CLONE_NEWCGROUP})
	return nil
}

func buildHostname(b *builder) error {
	b.op(plan.OpHostname, "sethostname", b.spec.Hostname, nil, b.spec.Hostname)
	return nil
}

func buildDomainname(b *builder) error {
	b.op(plan.OpDomainname, "setdomainname", b.spec.Domainname, nil, b.spec.Domainname)
	return nil
}

func buildLoopback(b *builder) error {
	b.op(plan.OpLoopbackUp, "SIOCSIFFLAGS", "lo", nil)
	return nil
}

// oomScoreAdjFile is where a process's OOM score adjustment is set.
const oomScoreAdjFile = "/proc/self/oom_score_adj"

// buildOOMScoreAdj writes process.oomScoreAdj for the init (which execve
// keeps), through the runtime's /proc. Lowering it below the runtime's
// own needs CAP_SYS_RESOURCE: the error then says so (the child's value
// is the runtime's until this write).
func buildOOMScoreAdj(b *builder) error {
	v := *b.spec.Process.OOMScoreAdj // checked by Check
	what := fmt.Sprintf("process.oomScoreAdj %d: write", v)
	if cur, err := os.ReadFile(oomScoreAdjFile); err == nil {
		if own, err := strconv.Atoi(strings.TrimRight(string(cur), "\n ")); err == nil && v < own {
			what = fmt.Sprintf("process.oomScoreAdj %d: the kernel refuses to lower the OOM score adjustment to %d (the runtime's own is %d) without CAP_SYS_RESOURCE, %s; engines must not lower it (containerd: restrict_oom_score_adj): write",
				v, v, own, sysResourceState())
		}
	}
	b.op(plan.OpWriteFile, what, oomScoreAdjFile, []uint64{plan.FlagHost}, oomScoreAdjFile, strconv.Itoa(v))
	return nil
}

// hooks adds the hooks of kind k, run by the init itself, each with the
// container's state (hookState) on its stdin.
func (b *builder) hooks(k hooks.Kind, status specs.ContainerState) error {
	state, err := json.Marshal(b.hookState(status))
	if err != nil {
		return fmt.Errorf("%s hooks: state: %w", k, err)
	}
	for i, h := range hooks.Of(b.spec.Hooks, k) {
		args := h.Args
		if len(args) == 0 {
			args = []string{h.Path}
		}
		// A hook without env inherits the runtime's (package hooks).
		env := h.Env
		if len(env) == 0 {
			env = os.Environ()
		}
		argv, err := nulList(fmt.Sprintf("hooks.%s[%d].args", k, i), args)
		if err != nil {
			return err
		}
		envp, err := nulList(fmt.Sprintf("hooks.%s[%d].env", k, i), env)
		if err != nil {
			return err
		}
		var timeout uint64
		if h.Timeout != nil && *h.Timeout > 0 {
			timeout = uint64(*h.Timeout)
		}
		b.op(plan.OpHook, fmt.Sprintf("%s hook #%d (%s)", k, i, h.Path), "", []uint64{timeout}, h.Path, argv, envp, string(state))
	}
	return nil
}

// hookState is the state a hook run by the init gets: the parent's, with the init's pid as the init sees it, 1 in a pid
// namespace of its own; otherwise the parent's State.Pid stands.
func (b *builder) hookState(status specs.ContainerState) *specs.State {
	st := specs.State{Version: specs.Version}
	if b.cfg.State != nil {
		st = *b.cfg.State
	}
	if namespaces.Has(b.spec.Linux.Namespaces, specs.PIDNamespace) {
		st.Pid = 1
	}
	st.Status = status
	return &st
}

// ptmxPath is the pty multiplexer, resolved in the container's root.
const ptmxPath = "/dev/ptmx"

// consoleSize is the window size the process's terminal gets: its
// process.consoleSize when both sides are set, else nil (the kernel's).
func consoleSize(p *specs.Process) *specs.Box {
	if sz := p.ConsoleSize; sz != nil && sz.Height != 0 && sz.Width != 0 {
		return sz
	}
	return nil
}

// checkConsoleSize checks process.consoleSize: each side fits the
// kernel's window size (16 bits).
func checkConsoleSize(sz *specs.Box) error {
	if sz.Height > math.MaxUint16 || sz.Width > math.MaxUint16 {
		return fmt.Errorf("process.consoleSize %dx%d: want at most %d each", sz.Height, sz.Width, math.MaxUint16)
	}
	return nil
}

// buildConsole gives the process a new pty of the container's devpts (as
// runc: the container's /dev/ptmx, opened after pivot_root or, for exec,
// after joining its mount namespace; the master goes to the parent): sized by process.consoleSize, owned by process.user.uid,
// bound on /dev/console in a mount namespace of the container's own.
func buildConsole(b *builder) error {
	p := b.spec.Process
	var rows, cols uint64
	if sz := consoleSize(p); sz != nil {
		if err := checkConsoleSize(sz); err != nil {
			return err
		}
		rows, cols = uint64(sz.Height), uint64(sz.Width)
	}
	var flags uint64
	if b.spec.Linux != nil && !sharesMounts(b.state) {
		flags |= plan.ConsoleBind
	}
	b.op(plan.OpConsole, "console: a pty from", ptmxPath, []uint64{uint64(p.User.UID), rows, cols, flags})
	return nil
}

// buildStart waits for start: the parent's Start frame (run), or `start`
// opening the exec fifo (create); then the startContainer hooks run,
// inside the container.
func buildStart(b *builder) error {
	fifo := b.cfg.ExecFifo != ""
	if fifo {
		b.step = "exec-fifo"
		b.op(plan.OpFifoWait, "open exec fifo for writing", b.cfg.ExecFifo, nil)
	} else {
		b.step = "handshake"
		b.op(plan.OpWaitStart, "wait for start", "", nil)
	}
	if hooks.Has(b.spec.Hooks, hooks.StartContainer) {
		b.step = "startContainer-hooks"
		if err := b.hooks(hooks.StartContainer, specs.StateCreated); err != nil {
			return err
		}
	}
	if fifo {
		b.step = "exec-fifo"
		b.op(plan.OpFifoGo, "write exec fifo", b.cfg.ExecFifo, nil)
	}
	return nil
}
