// Package initproc is the child side: the container's init. It waits for the
// parent's go-ahead, runs a table of named setup steps, reports ready, waits
// for start and execs the user's program (or, with the tiny init, runs it as
// a child and reaps).
//
// It is also the compiler of the plan that replaces it (build.go): Build
// and BuildExec, run by the parent, turn the same steps into the primitive
// operations (package plan) that the C init carries out.
package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// state is what the steps share: the config and what earlier steps found.
type state struct {
	cfg  *handshake.Config
	spec *specs.Spec
	root string
	// exe is the user's command as resolved inside the container.
	exe string
	// fifo is an O_PATH fd of the exec fifo's directory (create/start),
	// or -1.
	fifo int
	// started is the exec fifo's write end after start, held until
	// execve closes it (see startMsg), or nil.
	started *os.File
	// pidsMax is the container's pids.max, open for writing the pids
	// limit right before execve (writePidsLimit), or -1.
	pidsMax int
	// conn is the handshake with the parent (the console step sends the
	// pty master on it).
	conn *handshake.Conn
}

// tinyInit: the parent asked for the tiny init (handshake.Settings).
func (s *state) tinyInit() bool { return s.cfg != nil && s.cfg.TinyInit }

// step is one named setup step. A failing step's error is reported as
// "init NAME: ...".
type step struct {
	name string
	run  func(*state) error
	// when, if set, decides whether the step applies to this spec.
	when func(*state) bool
	// owns, if set, is the namespace whose state the step changes (the
	// mount table, the hostname): the step runs only when the container
	// has that namespace of its own, new or joined by path, so that it
	// never reaches the caller's. A container without a mount namespace
	// shares the caller's mount table: it gets chroot and no mounts.
	owns specs.LinuxNamespaceType
}

// applies reports whether the step runs for this container.
func (st step) applies(s *state) bool {
	if st.owns != "" && !namespaces.In(s.spec.Linux.Namespaces, st.owns) {
		return false
	}
	return st.when == nil || st.when(s)
}

// Steps is the setup, in order. Every step is a small function with its
// inputs in state, so that --log-level debug can time each one. The steps
// take the spec as checked (Check, called by spec.Check before the
// container exists): what they refuse is what only the container's own
// view can tell.
var Steps = []step{
	{name: "pdeathsig", run: killWithParent, when: func(s *state) bool { return s.cfg.KillWithParent }},
	// Opened before a mount namespace is joined: the fifo is the host's.
	{name: "exec-fifo", run: openExecFifo, when: func(s *state) bool { return s.cfg.ExecFifo != "" }},
	// Opened in the runtime's cgroup namespace (before cgroupns: a file
	// of the namespace's own root cgroup can't be written from inside it).
	{name: "pids-max", run: openPidsMax, when: func(s *state) bool { return s.cfg.PidsMax != "" }},
	{name: "join-namespaces", run: joinNamespaces, when: func(s *state) bool { return namespaces.Joins(s.spec.Linux.Namespaces) }},
	{name: "cgroupns", run: unshareCgroupns, when: hasNS(specs.CgroupNamespace)},
	{name: "hostname", run: setHostname, owns: specs.UTSNamespace},
	{name: "domainname", run: setDomainname, owns: specs.UTSNamespace, when: func(s *state) bool { return s.spec.Domainname != "" }},
	{name: "loopback", run: loopbackUp, when: hasNS(specs.NetworkNamespace)},
	{name: "oom_score_adj", run: setOOMScoreAdj, when: func(s *state) bool { return s.spec.Process.OOMScoreAdj != nil }},
	{name: "propagation", run: setPropagation, owns: specs.MountNamespace},
	{name: "bind-rootfs", run: bindRootfs, owns: specs.MountNamespace, when: func(s *state) bool { return s.cfg.RootOverlay == nil }},
	{name: "overlay-rootfs", run: overlayRootfs, owns: specs.MountNamespace, when: func(s *state) bool { return s.cfg.RootOverlay != nil }},
	{name: "mounts", run: doMounts, owns: specs.MountNamespace},
	{name: "devices", run: makeDevices, owns: specs.MountNamespace, when: devIsTmpfs},
	{name: "linux-devices", run: makeSpecDevices, owns: specs.MountNamespace, when: func(s *state) bool { return len(s.spec.Linux.Devices) > 0 }},
	{name: "runtime-hooks", run: runtimeHooks, when: hasRuntimeHooks},
	{name: "createContainer-hooks", run: createContainerHooks, when: hasCreateContainerHooks},
	{name: "pivot_root", run: pivotRoot, owns: specs.MountNamespace},
	{name: "chroot", run: chroot, when: sharesMounts},
	{name: "console", run: setupTerminal, when: func(s *state) bool { return s.spec.Process.Terminal }},
	{name: "sysctl", run: setSysctls, when: func(s *state) bool { return len(s.spec.Linux.Sysctl) > 0 }},
	{name: "readonly-paths", run: readonlyPaths, owns: specs.MountNamespace, when: func(s *state) bool { return len(s.spec.Linux.ReadonlyPaths) > 0 }},
	{name: "masked-paths", run: maskPaths, owns: specs.MountNamespace, when: func(s *state) bool { return len(s.spec.Linux.MaskedPaths) > 0 }},
	{name: "readonly-root", run: readonlyRoot, owns: specs.MountNamespace, when: func(s *state) bool { return s.spec.Root.Readonly }},
	{name: "root-propagation", run: rootPropagation, owns: specs.MountNamespace, when: func(s *state) bool { return rootfs.PropagationAfterPivot(s.spec.Linux.RootfsPropagation) }},
	{name: "cwd", run: chdirCwd},
	{name: "lookup", run: lookupCommand},
	{name: "rlimits", run: setRlimits, when: func(s *state) bool { return len(s.spec.Process.Rlimits) > 0 }},
}

// sharesMounts: the container has no mount namespace of its own
// (namespaces.SharesMounts); it must not change the caller's mount table.
func sharesMounts(s *state) bool { return namespaces.SharesMounts(s.spec.Linux.Namespaces) }

func hasNS(t specs.LinuxNamespaceType) func(*state) bool {
	return func(s *state) bool { return namespaces.Has(s.spec.Linux.Namespaces, t) }
}

// killWithParent has the init (and, after execve, the user's process)
// SIGKILLed when the parent dies (handshake.Settings.KillWithParent).
func killWithParent(*state) error {
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_PDEATHSIG)", err)
	}
	return nil
}

// joinNamespaces joins the namespaces given by path, on this locked
// thread, before any other step (namespaces.Join).
func joinNamespaces(s *state) error { return namespaces.Join(s.spec.Linux.Namespaces) }

// Main is the child's entry point (the hidden `init` command). It returns the
// process's exit status; it only returns when setup failed or when it is the
// tiny init whose child ended.
func Main() int {
	// Namespace and cgroup-namespace changes made below belong to this
	// thread; execve must happen on it too.
	runtime.LockOSThread()
	// Not dumpable until the exec (which makes the user's program dumpable
	// again): nothing in the container may ptrace the init or open its
	// /proc/1/exe and /proc/1/fd — the tiny init stays this way.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "minimal-docker init: prctl(PR_SET_DUMPABLE): %v\n", err)
		return exitcode.Runtime
	}
	unix.Umask(0)
	conn, err := handshake.FromEnv()
	if err != nil {
		fmt.Fprintf(os.Stderr, "minimal-docker init: %v\n", err)
		return exitcode.Runtime
	}
	if err := CloseExecFrom(3); err != nil {
		fmt.Fprintf(os.Stderr, "minimal-docker init: close-on-exec: %v\n", err)
		return exitcode.Runtime
	}
	code, err := run(conn)
	if err != nil {
		return Fail(conn, err, "minimal-docker")
	}
	return code
}

// Fail reports err, a failure of the child's setup, to the parent as a
// typed error (a handshake error when it is not a step's), or to stderr
// as prog when the parent is gone, and returns the exit status for it
// (package exitcode).
func Fail(conn *handshake.Conn, err error, prog string) int {
	he := handshake.StepError("handshake", err)
	if serr := conn.SendError(he); serr != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", prog, he)
	}
	return exitcode.Of(he)
}

func run(conn *handshake.Conn) (code int, err error) {
	cfg, err := conn.WaitConfig()
	if err != nil {
		return 0, err
	}
	if err := conn.WaitGo(); err != nil {
		return 0, err
	}
	st := &state{cfg: cfg, spec: cfg.Spec, root: cfg.Spec.Root.Path, fifo: -1, pidsMax: -1, conn: conn}
	ready := &handshake.Ready{}
	for _, s := range Steps {
		if !s.applies(st) {
			continue
		}
		t0 := time.Now()
		if err := s.run(st); err != nil {
			return 0, handshake.StepError(s.name, err)
		}
		ready.Steps = append(ready.Steps, handshake.StepTime{Name: s.name, Micros: time.Since(t0).Microseconds()})
	}
	if err := conn.SendReady(ready); err != nil {
		return 0, err
	}
	if err := waitStart(st, conn); err != nil {
		return 0, err
	}
	defer func() { startFailed(st, err) }()
	// The hooks have run: pass the preserved fds on (before a seccomp
	// filter could refuse fcntl).
	if err := PassFDs(cfg.PreserveFDs); err != nil {
		return 0, handshake.StepError("preserve-fds", err)
	}
	// Give up root's powers (FinalSteps, process.go), then exec.
	if err := finalize(st); err != nil {
		return 0, err
	}
	if err := writePidsLimit(st); err != nil {
		return 0, handshake.StepError("pids-max", err)
	}
	if st.tinyInit() {
		return tinyInit(st, conn)
	}
	err = unix.Exec(st.exe, st.spec.Process.Args, st.spec.Process.Env)
	return 0, execError(st.exe, err)
}

// execError classifies a failed execve: the command is not found (ENOENT)
// or not executable.
func execError(exe string, err error) *handshake.Error {
	e := &handshake.Error{Step: "exec", Path: exe, Msg: fmt.Sprintf("exec %s: %v", exe, err), Cause: handshake.CauseNotExecutable}
	if errors.Is(err, unix.ENOENT) {
		e.Cause = handshake.CauseNotFound
	}
	return e
}

// openExecFifo keeps a handle on the exec fifo's directory across
// pivot_root or chroot (the host path is out of reach after them, and a
// container without a mount namespace has no /proc to reopen a handle of
// the fifo itself through).
func openExecFifo(s *state) error {
	fd, err := unix.Open(filepath.Dir(s.cfg.ExecFifo), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open exec fifo's directory", Path: s.cfg.ExecFifo, Err: err}
	}
	s.fifo = fd
	return nil
}

// openPidsMax opens the container's pids.max with a raw descriptor (an
// os.File would start Go's poller: two more descriptors that the tiny
// init, staying PID 1, would keep).
func openPidsMax(s *state) error {
	fd, err := unix.Open(s.cfg.PidsMax, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: s.cfg.PidsMax, Err: err}
	}
	s.pidsMax = fd
	return nil
}

// writePidsLimit writes the pids limit into the container's pids.max, last
// thing before execve, unless the file holds a limit already (an update
// between create and start set one: it stands).
func writePidsLimit(s *state) error {
	if s.pidsMax < 0 {
		return nil
	}
	defer unix.Close(s.pidsMax)
	buf := make([]byte, 32)
	n, err := unix.Pread(s.pidsMax, buf, 0)
	if err != nil {
		return &os.PathError{Op: "read", Path: s.cfg.PidsMax, Err: err}
	}
	if strings.TrimSpace(string(buf[:n])) != "max" {
		return nil
	}
	if _, err := unix.Write(s.pidsMax, []byte(strconv.FormatInt(s.cfg.PidsLimit, 10))); err != nil {
		return &os.PathError{Op: "write", Path: s.cfg.PidsMax, Err: err}
	}
	return nil
}

// waitStart blocks until the parent's start message (run) or, with an exec
// fifo (create), until `start` opens the fifo for reading; then it runs
// the startContainer hooks. The creating process is gone by then: the
// socket is closed first, and the fifo tells start how the hooks went
// (startMsg).
func waitStart(s *state, conn *handshake.Conn) error {
	if s.fifo < 0 {
		if err := conn.WaitStart(); err != nil {
			return err
		}
		return startContainerHooks(s)
	}
	conn.Close()
	fd, err := unix.Openat(s.fifo, filepath.Base(s.cfg.ExecFifo), unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &handshake.Error{Step: "exec-fifo", Path: s.cfg.ExecFifo, Msg: err.Error()}
	}
	herr := startContainerHooks(s)
	_, err = unix.Write(fd, startMsg(herr))
	unix.Close(s.fifo)
	if herr == nil && err == nil {
		s.started = os.NewFile(uintptr(fd), "exec fifo") // see startMsg
		return nil
	}
	unix.Close(fd)
	if herr != nil {
		return herr
	}
	return &handshake.Error{Step: "exec-fifo", Path: s.cfg.ExecFifo, Msg: err.Error()}
}

func unshareCgroupns(*state) error {
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return os.NewSyscallError("unshare(CLONE_NEWCGROUP)", err)
	}
	return nil
}

func setHostname(s *state) error {
	if s.spec.Hostname == "" {
		return nil
	}
	if err := unix.Sethostname([]byte(s.spec.Hostname)); err != nil {
		return os.NewSyscallError("sethostname "+s.spec.Hostname, err)
	}
	return nil
}

func setDomainname(s *state) error {
	if err := unix.Setdomainname([]byte(s.spec.Domainname)); err != nil {
		return os.NewSyscallError("setdomainname "+s.spec.Domainname, err)
	}
	return nil
}

// setPropagation sets what the container's mount table shares with the
// caller's before anything is mounted (rootfs.PropagationBeforePivot):
// nothing, what the host mounts later, or (shared modes) the peer groups of
// the host's shared mounts, with the mount holding the rootfs made private;
// the requested shared or unbindable propagation is applied to the new
// root after pivot_root (rootPropagation), as runc applies it.
func setPropagation(s *state) error {
	flags, privateParent, err := rootfs.PropagationBeforePivot(s.spec.Linux.RootfsPropagation)
	if err != nil {
		return err
	}
	if err := rootfs.SetPropagation("/", flags); err != nil {
		return err
	}
	if privateParent {
		return rootfs.PrivateParent(s.root)
	}
	return nil
}

// rootPropagation applies a shared or unbindable linux.rootfsPropagation
// to the new root, once the container's own binds (read-only and masked
// paths) are made: an unbindable tree refuses them.
func rootPropagation(s *state) error {
	flags, err := rootfs.Propagation(s.spec.Linux.RootfsPropagation)
	if err != nil {
		return err
	}
	return rootfs.SetPropagation("/", flags)
}

func bindRootfs(s *state) error { return rootfs.BindRoot(s.root) }

func overlayRootfs(s *state) error {
	o := s.cfg.RootOverlay
	return rootfs.MountOverlay(s.root, o.Lower, o.Upper, o.Work, o.Volatile)
}

func doMounts(s *state) error {
	cg := rootfs.CgroupTree{V2: s.cfg.CgroupMode == "v2", V1: s.cfg.CgroupV1}
	for _, m := range s.spec.Mounts {
		if err := rootfs.Mount(s.root, m, cg); err != nil {
			return fmt.Errorf("%s: %w", m.Destination, err)
		}
	}
	return nil
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

func makeDevices(s *state) error { return rootfs.MakeDev(s.root) }

func pivotRoot(s *state) error { return rootfs.PivotRoot(s.root) }

func chroot(s *state) error { return rootfs.Chroot(s.root) }

func readonlyRoot(*state) error { return rootfs.ReadonlyRoot() }

func chdirCwd(s *state) error {
	cwd := s.spec.Process.Cwd
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		return err
	}
	if err := unix.Chdir(cwd); err != nil {
		return &os.PathError{Op: "chdir", Path: cwd, Err: err}
	}
	return nil
}

func lookupCommand(s *state) error {
	exe, err := Lookup(s.spec.Process)
	s.exe = exe
	return err
}

// Lookup resolves process.args[0] with the process's PATH inside the
// container (after pivot_root or setns); a failure is a typed error whose
// cause is that the command is not found or not executable.
func Lookup(p *specs.Process) (string, error) {
	exe, err := rootfs.LookPath("/", p.Args[0], rootfs.Getenv(p.Env, "PATH"), p.Cwd)
	if err != nil {
		return "", &handshake.Error{Step: "lookup", Path: p.Args[0], Msg: err.Error(), Cause: handshake.CauseOf(err)}
	}
	return exe, nil
}

// Exec replaces the process with exe; it returns only on failure, as a
// typed error (execError).
func Exec(exe string, p *specs.Process) error {
	return execError(exe, unix.Exec(exe, p.Args, p.Env))
}
