// Package container runs containers from a spec: the parent (launcher) side
// of the process model. See package handshake for the protocol with the
// child, package plan for what the child (the helper's C init) is sent,
// and package initproc for the compiler of that plan (Build, BuildExec).
package container

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/explain"
	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/initproc"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/nsenter"
	"github.com/minimal-docker/minimal-docker/internal/plan"
	"github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
	"github.com/minimal-docker/minimal-docker/internal/sealed"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// Options are the launcher's settings that are not part of the spec.
type Options struct {
	// ID names the container and its cgroup.
	ID string
	// LogLevel "debug" prints each setup step and its duration to Log.
	LogLevel string
	Log      io.Writer
	// Stdio is passed through to the container's process.
	Stdin, Stdout, Stderr *os.File
	// Detached: the init outlives this process (create): no parent-death
	// signal (handshake.Settings.KillWithParent).
	Detached bool
	// ExecFifo, when set, is where the ready init waits for start (create);
	// otherwise it waits for the start message on the socket (run).
	ExecFifo string
	// SeccompCacheDir keeps compiled seccomp filters
	// (seccomp.DefaultCacheDir when empty).
	SeccompCacheDir string
	// ConsoleSocket, with process.terminal, is the unix socket that gets
	// the pty master (--console-socket); without it the master is relayed
	// to Stdin and Stdout (see console).
	ConsoleSocket string
	// Bundle is the bundle's directory (the OCI front door), for the
	// state the hooks get; empty for run.
	Bundle string
	// PreserveFDs passes this process's descriptors 3 to 3+PreserveFDs-1
	// on to the container's process, as the same numbers (--preserve-fds).
	PreserveFDs int
	// RootOverlay, for an image's container, is the overlay that the init
	// mounts on root.path (handshake.Settings.RootOverlay).
	RootOverlay *handshake.Overlay
	// Network, when set, is a foreground run's network, which this
	// process attaches itself rather than through hooks (see
	// netAttach): nil for the OCI front door and a detached container,
	// whose network, if any, is in its config's hooks.
	Network Network
	// AfterExit, when set, is called once the container has exited and
	// its cgroup is gone (no process of it is left), beside the removal of
	// its state; Run returns after it: run IMAGE removes the container's
	// writable directory there.
	AfterExit func()
	// Explain, when set, gets a line for each thing the start does, the
	// parent's and the init's (--explain); nil prints nothing.
	Explain *explain.Log
}

// NewID returns a random 64-hex-digit container ID, as Docker's.
func NewID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("container id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// debugLog times the parent's steps and prints them at --log-level debug.
type debugLog struct {
	w  io.Writer
	on bool
}

// debugLog is o's: on at --log-level debug with a log to write to.
func (o Options) debugLog() debugLog {
	return debugLog{w: o.Log, on: o.LogLevel == "debug" && o.Log != nil}
}

func (d debugLog) step(name string, t0 time.Time) {
	d.stepDur(name, time.Since(t0))
}

// span prints the step name for the time since *t and moves *t to now:
// chained, the steps cover the parent's time without gaps or overlaps,
// so that they add up. A name says in parentheses what it measures when
// its name alone does not.
func (d debugLog) span(name string, t *time.Time) {
	d.stepDur(name, lap(t))
}

// mark is span that also prints the span as a line of x (--explain).
func (d debugLog) mark(x *explain.Log, t *time.Time, name, format string, args ...any) {
	dur := lap(t)
	d.stepDur(name, dur)
	x.Parent(dur, format, args...)
}

func (d debugLog) note(what, value string) {
	if d.on {
		fmt.Fprintf(d.w, "%s: debug: %s: %s\n", proc.Name(), what, value)
	}
}

func (d debugLog) stepDur(name string, dur time.Duration) {
	if d.on {
		fmt.Fprintf(d.w, "%s: debug: step %-20s %9.3fms\n", proc.Name(), name, float64(dur.Microseconds())/1000)
	}
}

// launch checks the spec (spec.Check, the step "preflight") before any
// process, namespace or cgroup of the container exists, so that the
// common mistakes leave nothing (the caller's record of the container,
// rec, goes on failure). Then it starts the init in its namespaces and
// cgroup, and drives the handshake until the child is ready to exec. The
// init is started at once: its start-up overlaps with the parent's own
// preparations — the seccomp filter, the cgroup, and the
// record's final save, made once the init has the go-ahead (rec.planned
// is saved before the cgroup is made), and o.Network's attachment. On
// failure nothing it made is left (the network detached, and, once the
// child had its config, the poststop hooks have run, as after a delete).
func launch(s *specs.Spec, o Options, dl debugLog, rec *record) (*child, cgroups.Manager, error) {
	t := time.Now()
	check := spec.Check
	if o.RootOverlay != nil {
		check = spec.CheckOverlayRoot
		if namespaces.SharesMounts(s.Linux.Namespaces) {
			return nil, nil, errors.New("an image's root filesystem is an overlay mount: the container needs a mount namespace of its own")
		}
	}
	if err := check(s); err != nil {
		return nil, nil, err
	}
	if spec.IdmapRoot(s) && !namespaces.Has(s.Linux.Namespaces, specs.UserNamespace) {
		return nil, nil, fmt.Errorf("annotation %s: an idmapped root needs a new user namespace of the container's", spec.AnnotationIdmapRoot)
	}
	if skipped := spec.SkippedMounts(s); len(skipped) > 0 {
		warnf(o.Log, "no mount namespace: the container shares the caller's mount table, so its mounts are not made (%s)", strings.Join(skipped, ", "))
	}
	flags, err := namespaces.CloneFlags(s.Linux.Namespaces)
	if err != nil {
		return nil, nil, err
	}
	tty, err := newConsole(s.Process, o.ConsoleSocket, o.Detached, o.Stdin, o.Stdout, o.Stderr)
	if err != nil {
		return nil, nil, err
	}
	dl.mark(o.Explain, &t, "preflight (check the spec)", "checked the spec")
	c, err := startChild(flags, namespaces.PathOf(s.Linux.Namespaces, specs.PIDNamespace), s.Linux, o, dl)
	if err != nil {
		tty.Close()
		return nil, nil, err
	}
	c.tty = tty
	c.x = o.Explain
	if err := rootless.Register(c.proc.Pid); err != nil {
		warnf(o.Log, "rootless: %v (a later command won't find this container's user namespace)", err)
	}
	how := fmt.Sprintf("clone(%s)", namespaces.CloneFlagNames(flags))
	if namespaces.JoinsUser(s.Linux.Namespaces) {
		how = fmt.Sprintf("setns(user), unshare(%s), fork", namespaces.CloneFlagNames(flags))
	}
	dl.mark(o.Explain, &t, "clone (seal the init's binary, fork it into its namespaces, until it has exec'd)",
		"%s: the init, pid %d (%s)", how, c.proc.Pid, c.what)
	explainNamespaces(o.Explain, s.Linux)

	var mgr cgroups.Manager
	settingUp := false
	fail := func(err error) (*child, cgroups.Manager, error) {
		err = c.fail(err)
		c.net.detach(o.Log, dl)
		if mgr != nil {
			err = finish(s, mgr, 0, oomInSetup(s, mgr, err), dl, o.Explain)
		}
		if settingUp {
			poststop(o.Log, o.ID, o.Bundle, s) // as after a delete
		}
		return nil, nil, err
	}
	filter, err := seccompFilter(s, o.SeccompCacheDir, dl, o.Explain)
	if err != nil {
		return fail(err)
	}
	t = time.Now()
	mgr, cfg, h, err := newCgroup(s, o.ID)
	if err != nil {
		return fail(err)
	}
	dl.mark(o.Explain, &t, "cgroup-detect", "%s", cgroups.Describe(h, mgr))
	warn(o.Log, cgroups.Ignored(mgr.Mode(), s.Linux.Resources))
	cfg.Spec = s
	cfg.ExecFifo = o.ExecFifo
	cfg.ExecFifoDirFD = c.fifoDirFD
	cfg.Seccomp = filter
	cfg.PreserveFDs = o.PreserveFDs
	cfg.State = hookState(o.ID, o.Bundle, s, 0, specs.StateCreating)
	cfg.TinyInit = spec.WantsInit(s)
	cfg.KillWithParent = !o.Detached
	cfg.RootOverlay = o.RootOverlay
	// The overlay of a mount program (fuse-overlayfs) is the parent's to
	// mount, as an idmapped root is (trees.go).
	cfg.RootTree = spec.IdmapRoot(s) || o.RootOverlay != nil && o.RootOverlay.MountProgram != ""
	cfg.MountTrees = idmapTrees(s)
	settingUp = true
	if err := c.setup(cfg, mgr, dl, rec, o.Network); err != nil {
		return fail(err)
	}
	return c, mgr, nil
}

// finish reads the OOM counter and removes the cgroup of a container whose
// process ended with status code (0 when it never ran) and error runErr.
// It returns runErr with what went wrong besides: the kernel OOM-killed
// the container's process, or the cgroup could not be removed.
func finish(s *specs.Spec, mgr cgroups.Manager, code int, runErr error, dl debugLog, x *explain.Log) error {
	t0 := time.Now()
	oom, _ := mgr.OOMKillCount()
	if oom > 0 && runErr == nil {
		if code == 128+int(unix.SIGKILL) {
			runErr = oomError(s, code)
		} else if dl.w != nil {
			// The container survived the kill of one of its processes:
			// say so, but its exit status stands.
			warnf(dl.w, "%v", oomError(s, code))
		}
	}
	if err := mgr.Destroy(); err != nil {
		runErr = errors.Join(runErr, err)
		x.Parent(time.Since(t0), "cgroup %s: not removed: %v", cgroupPath(mgr), err)
	} else {
		x.Parent(time.Since(t0), "removed cgroup %s", cgroupPath(mgr))
	}
	dl.step("cgroup-destroy", t0)
	return runErr
}

// oomError is the message for a container whose process the kernel killed
// for want of memory.
func oomError(s *specs.Spec, code int) error {
	limit := "none"
	if r := s.Linux.Resources; r != nil && r.Memory != nil && r.Memory.Limit != nil {
		limit = spec.FormatMiB(*r.Memory.Limit)
	}
	if code == 128+int(unix.SIGKILL) {
		return fmt.Errorf("container was killed: out of memory (limit %s)", limit)
	}
	return fmt.Errorf("a process in the container was killed: out of memory (limit %s)", limit)
}

// newCgroup picks the driver and the container's cgroup path, and works out
// which cgroup tree the child mounts inside.
func newCgroup(s *specs.Spec, id string) (cgroups.Manager, *handshake.Config, *cgroups.Hierarchies, error) {
	h, err := cgroups.FindHierarchies()
	if err != nil {
		return nil, nil, nil, err
	}
	self, err := cgroups.SelfPaths()
	if err != nil {
		return nil, nil, nil, err
	}
	mgr, err := placeCgroup(h, self, s.Linux.CgroupsPath, id)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := &handshake.Config{Settings: handshake.Settings{CgroupMode: h.Mode.String()}}
	if h.Mode != cgroups.V2 {
		cfg.CgroupV1 = v1Mounts(h, mgr)
	}
	// Binds in place of cgroup mounts where the kernel refuses those: in
	// a user namespace without a cgroup namespace, and on v2 without a
	// network namespace, where /sys is the host's, bound with its cgroup2
	// mount, on which a new one is refused (EBUSY) (initproc's
	// sysfsRefused).
	if ns := s.Linux.Namespaces; namespaces.InContainerUserNS(ns) &&
		(!namespaces.Has(ns, specs.CgroupNamespace) || h.Mode == cgroups.V2 && !namespaces.Has(ns, specs.NetworkNamespace)) {
		cfg.CgroupBinds = cgroupBinds(h, mgr, cfg.CgroupV1)
	}
	return mgr, cfg, h, nil
}

// placeCgroup returns the Manager of the container id's cgroup, named
// cgroupsPath by the config (id when it names none). As root, a relative
// path is beneath the runtime's own cgroup. Rootless, the container has a
// cgroup only where the user has a delegated v2 one (else cgroups.None),
// and a relative path goes beneath the top of that delegated subtree: the
// runtime's own cgroup holds processes, and so can give no controller to
// a child (cgroups.NewDelegated).
func placeCgroup(h *cgroups.Hierarchies, self map[string]string, cgroupsPath, id string) (cgroups.Manager, error) {
	if cgroupsPath == "" {
		cgroupsPath = id
	}
	if !rootless.Active() {
		return cgroups.NewWith(h, self, cgroupsPath)
	}
	dir, ok := cgroups.DelegatedRoot(h, self)
	if !ok {
		return &cgroups.None{HostMode: h.Mode}, nil
	}
	return cgroups.NewDelegated(h, dir, cgroupsPath)
}

// v1Mounts lists the v1 hierarchies in which the container has a cgroup of
// its own: mount directory name -> mount options (the co-mounted controllers).
func v1Mounts(h *cgroups.Hierarchies, mgr cgroups.Manager) map[string]string {
	byMount := map[string][]string{}
	for ctrl, mnt := range h.V1 {
		byMount[mnt] = append(byMount[mnt], ctrl)
	}
	out := map[string]string{}
	for mnt, ctrls := range byMount {
		own := false
		for _, c := range ctrls {
			if !strings.HasPrefix(c, "name=") && mgr.Path(c) != "" {
				own = true
			}
		}
		if own {
			sort.Strings(ctrls)
			out[filepath.Base(mnt)] = strings.Join(ctrls, ",")
		}
	}
	return out
}

// cgroupBinds are the container's cgroup directories to bind in place of
// the cgroup mounts (handshake.Settings.CgroupBinds): the v1 hierarchies'
// of v1Mounts (mount point name -> the container's directory in it), or,
// on v2, its one directory (key "").
func cgroupBinds(h *cgroups.Hierarchies, mgr cgroups.Manager, v1 map[string]string) map[string]string {
	out := map[string]string{}
	if h.Mode == cgroups.V2 {
		if p := mgr.Path("pids"); p != "" { // none: cgroups.None
			out[""] = p
		}
		return out
	}
	for dir, opts := range v1 {
		for _, c := range strings.Split(opts, ",") {
			if p := mgr.Path(c); p != "" {
				out[dir] = p
				break
			}
		}
	}
	return out
}

// child is the started init and our end of the handshake.
type child struct {
	// cmd started the init, or is nil when the helper's constructor
	// forked it (a user namespace joined by path: startJoined); proc is
	// the init's process either way (cmd.Process, or the forked one,
	// re-parented to this process).
	cmd  *exec.Cmd
	proc *os.Process
	conn *handshake.Conn
	tty  *console   // process.terminal, or nil
	net  *netAttach // Options.Network's attachment once begun, or nil
	// what names the init's binary and how it was sealed, for --explain.
	what string
	x    *explain.Log
	// status is the init's wait status once run has reaped it.
	status unix.WaitStatus
	// fifoDirFD is the init's descriptor of the exec fifo's directory
	// (handshake.Settings.ExecFifoDirFD), or 0.
	fifoDirFD int
}

// startChild starts the init in the new namespaces, in a session of its
// own (so that terminal signals reach only us, and we forward them),
// killed if we die. The init is minimal-docker-helper, whose constructor
// runs the plan sent on the handshake (its fd named by
// handshake.EnvPlanFD). With pidns, the path of a pid namespace to join, it is
// started inside that namespace (namespaces.ForkInPID). With
// CLONE_NEWUSER in flags the same clone makes the user namespace (which
// then owns the others it makes), and the maps of l are written into it
// between the clone and the init's exec (userNS). With a user namespace
// joined by path, the helper's constructor starts the init instead
// (startJoined).
func startChild(flags uintptr, pidns string, l *specs.Linux, o Options, dl debugLog) (*child, error) {
	files, err := preservedFDs(o.PreserveFDs)
	if err != nil {
		return nil, err
	}
	conn, childEnd, err := handshake.Pair()
	if err != nil {
		return nil, err
	}
	defer childEnd.Close()
	// Only the ExtraFiles reach the child: every other fd this process
	// inherited from its caller is close-on-exec from here on (Go's exec
	// leaves the others open in the child).
	if err := proc.CloseExecFrom(3); err != nil {
		conn.Close()
		return nil, err
	}
	// The init runs from a handle that can't be written through
	// (CVE-2019-5736; package sealed: a read-only detached mount).
	fd := strconv.Itoa(3 + len(files))
	c := &child{conn: conn}
	extra := append(files, childEnd) // the preserved fds keep their numbers
	joinUser := ""
	if namespaces.JoinsUser(l.Namespaces) {
		joinUser = namespaces.PathOf(l.Namespaces, specs.UserNamespace)
	}
	if (flags&unix.CLONE_NEWUSER != 0 || joinUser != "") && o.ExecFifo != "" {
		dir, err := os.OpenFile(filepath.Dir(o.ExecFifo), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("open the exec fifo's directory: %w", err)
		}
		defer dir.Close()
		c.fifoDirFD = 3 + len(extra)
		extra = append(extra, dir)
	}
	if joinUser != "" {
		if err := c.startJoined(flags, joinUser, pidns, extra, fd, o); err != nil {
			conn.Close()
			return nil, err
		}
		return c, nil
	}
	minFD := 3 + len(extra) + 16
	exe, path, method, err := sealed.Helper(minFD)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("seal the init binary: %w", err)
	}
	defer exe.Close()
	c.what = fmt.Sprintf("%s (%s)", path, method)
	dl.note("init binary", c.what)
	c.cmd = &exec.Cmd{
		Path:       fmt.Sprintf("/proc/self/fd/%d", exe.Fd()),
		Args:       []string{sealed.InitArg0},
		Env:        []string{handshake.EnvPlanFD + "=" + fd},
		Stdin:      o.Stdin,
		Stdout:     o.Stdout,
		Stderr:     o.Stderr,
		ExtraFiles: extra,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: flags,
			Setsid:     true,
		},
	}
	if flags&unix.CLONE_NEWUSER != 0 {
		userNS(c.cmd.SysProcAttr, l)
	}
	start := c.cmd.Start
	if pidns != "" {
		start = func() error { return namespaces.ForkInPID(pidns, c.cmd.Start) }
	}
	if err := start(); err != nil {
		if c.cmd.Process != nil { // started, but the thread could not be put back
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
		conn.Close()
		return nil, fmt.Errorf("start init (%s): %w", path, err)
	}
	c.proc = c.cmd.Process
	return c, nil
}

// startJoined starts the init in the user namespace at userns, joined by
// path: a clone can make new namespaces only in the caller's user
// namespace, and a Go process can't join another (setns needs a single
// thread). So the helper's constructor (package nsenter, Cmd.Init) joins
// it, and the pid namespace at pidns when there is one, becomes the
// namespace's root, makes the namespaces of flags with unshare(2) (the
// joined user namespace owns them), and forks the init, which this
// process inherits (nsenter.Start makes it a child subreaper for that).
// extra are the init's files from descriptor 3 on; planFD names the
// handshake's end among them.
func (c *child) startJoined(flags uintptr, userns, pidns string, extra []*os.File, planFD string, o Options) error {
	var nss []nsenter.Namespace
	defer func() { nsenter.Close(nss) }()
	for _, j := range []struct{ name, path string }{{"user", userns}, {"pid", pidns}} {
		if j.path == "" {
			continue
		}
		f, err := os.Open(j.path)
		if err != nil {
			return fmt.Errorf("namespace %s: %w", j.name, err)
		}
		nss = append(nss, nsenter.Namespace{Name: j.name, File: f})
	}
	pid, err := nsenter.Start(&nsenter.Cmd{
		Args:       []string{sealed.InitArg0},
		Env:        []string{handshake.EnvPlanFD + "=" + planFD},
		Files:      extra,
		Stdin:      o.Stdin,
		Stdout:     o.Stdout,
		Stderr:     o.Stderr,
		Namespaces: nss,
		Init:       true,
		Unshare:    flags,
	})
	if err != nil {
		return fmt.Errorf("start init: %w", err)
	}
	p, err := os.FindProcess(pid)
	if err != nil { // not on Linux: FindProcess only fails for a pid that is gone
		nsenter.Kill(pid)
		return fmt.Errorf("start init: %w", err)
	}
	c.proc = p
	c.what = "minimal-docker-helper, forked by its constructor in the joined user namespace"
	return nil
}

// wait reaps the init and returns its wait status.
func (c *child) wait() (unix.WaitStatus, error) {
	if c.cmd != nil {
		err := c.cmd.Wait()
		if ps := c.cmd.ProcessState; ps != nil {
			return unix.WaitStatus(ps.Sys().(syscall.WaitStatus)), nil
		}
		return 0, err
	}
	ps, err := c.proc.Wait()
	if err != nil {
		return 0, err
	}
	return unix.WaitStatus(ps.Sys().(syscall.WaitStatus)), nil
}

// setup records the cgroup it is about to make, sends the plan (compiled
// here), puts the child in its
// cgroup, gives the go-ahead, saves the record and attaches the network
// (net, when not nil) while the child sets up, and waits until the child
// is ready to exec and the network is attached. The limits that must not
// count against the init's own setup (cgroups.SplitAtReady: the pids
// limit) are the init's to write, right before its execve
// (handshake.Settings.PidsMax); where the container has no pids.max of
// its own to name, they are written here once the child is ready.
func (c *child) setup(cfg *handshake.Config, mgr cgroups.Manager, dl debugLog, rec *record, net Network) error {
	t := time.Now()
	if err := rec.planned(c.proc.Pid, mgr); err != nil {
		return err
	}
	dl.span("record (save the state, naming the cgroup to make)", &t)
	atCreate, atReady := cgroups.SplitAtReady(withRuntimeDevices(cfg.Spec.Linux.Resources))
	// In a user namespace the init's root is not the host's, and may
	// not write the host's pids.max: the limit is written here at ready.
	if dir := mgr.Path("pids"); atReady != nil && dir != "" && !namespaces.InContainerUserNS(cfg.Spec.Linux.Namespaces) {
		cfg.PidsMax, cfg.PidsLimit = filepath.Join(dir, "pids.max"), *atReady.Pids.Limit
		atReady = nil
	}
	if c.cmd == nil { // started by startJoined: in a user namespace joined by path
		deny, err := namespaces.SetgroupsDenied(c.proc.Pid)
		if err != nil {
			return fmt.Errorf("namespace user: the init's setgroups: %w", err)
		}
		cfg.NoSetgroups = deny
	}
	if err := c.sendConfig(cfg, dl, &t); err != nil {
		return err
	}
	if err := mgr.Create(atCreate); err != nil {
		return err
	}
	if err := delegateCgroup(mgr, cfg.Spec); err != nil {
		return err
	}
	dl.mark(c.x, &t, "cgroup-create", "created cgroup %s (%s driver)", cgroupPath(mgr), mgr.Mode())
	if err := mgr.Apply(c.proc.Pid); err != nil {
		return err
	}
	dl.mark(c.x, &t, "cgroup-apply", "moved pid %d into cgroup %s (before the go-ahead: before exec)", c.proc.Pid, cgroupPath(mgr))
	trees, err := makeTrees(cfg, c.proc.Pid)
	if err != nil {
		return err
	}
	if len(trees) > 0 {
		what := fmt.Sprintf("made %d idmapped mount(s) with the init's user namespace", len(trees))
		if o := cfg.RootOverlay; cfg.RootTree && o != nil && o.MountProgram != "" {
			what = fmt.Sprintf("mounted the root's overlay with %s (a detached FUSE mount: fsopen, fsmount), and %d idmapped mount(s)", o.MountProgram, len(trees)-1)
		}
		dl.mark(c.x, &t, "idmapped-mounts", "%s, sent with the go-ahead", what)
	}
	err = c.conn.SendGoWith(trees)
	closeAll(trees)
	if err != nil {
		return err
	}
	if err := rec.started(mgr); err != nil {
		return err
	}
	dl.mark(c.x, &t, "go (send the go-ahead, save the state)", "sent the go-ahead; saved the state")
	t0 := t
	c.net = attachNetwork(explainNetwork(net, c.x), c.proc.Pid, dl)
	if err := c.runtimeHooks(cfg, dl); err != nil {
		return err
	}
	if err := c.tty.receive(c.conn); err != nil {
		return err
	}
	ready, err := c.conn.WaitReady()
	if err != nil {
		return err
	}
	c.x.Parent(time.Since(t0), "the init is ready (its setup, from the go-ahead)")
	dl.span("init (from the go-ahead to ready: the init's setup, the hooks run here; init lines below are inside it)", &t)
	for _, st := range ready.Steps {
		dl.stepDur("init "+st.Name, time.Duration(st.Micros)*time.Microsecond)
	}
	for _, op := range ready.Ops {
		dl.note("init op", fmt.Sprintf("%3d %-60s %9.3fms", op.Index, op.Op.Describe(), float64(op.Micros)/1000))
	}
	if err := c.net.wait(); err != nil {
		return err
	}
	dl.span("network (the rest of the network's ADD after ready)", &t)
	if atReady != nil {
		if err := mgr.Update(atReady); err != nil {
			return err
		}
		dl.mark(c.x, &t, "cgroup-ready-limits", "wrote the limits left for ready (pids) in cgroup %s", cgroupPath(mgr))
	}
	return nil
}

// sendConfig sends the child its configuration: the plan that
// initproc.Build compiles from it (with plan.FlagExplain, the init reports
// each op, printed as it comes).
func (c *child) sendConfig(cfg *handshake.Config, dl debugLog, t *time.Time) error {
	p, err := initproc.Build(cfg)
	if err != nil {
		return err
	}
	if c.x.On() {
		p.Flags |= plan.FlagExplain
		explainReports(c.conn, c.x)
	}
	dl.span("plan (compile the spec into the init's ops)", t)
	if err := c.conn.SendPlan(p); err != nil {
		return err
	}
	dl.mark(c.x, t, "send-plan", "sent the plan: %d ops, %d bytes", len(p.Ops), c.conn.PlanSize())
	return nil
}

// fail kills and reaps a child whose setup failed, and returns the error
// to report (the child's typed step error when it sent one; how it died
// when it died: explainDeath).
func (c *child) fail(err error) error {
	err = c.explainDeath(err)
	_ = c.proc.Kill()
	_, _ = c.wait()
	c.conn.Close()
	c.tty.Close()
	return describeErr(err)
}

// run lets the ready child exec, calls started (the poststart hooks), and
// waits for the container's process, whose exit status it returns (0 with
// the error when it failed to exec); it always reaps the child before it
// returns.
func (c *child) run(dl debugLog, started func()) (int, error) {
	defer c.conn.Close()
	t := time.Now()
	err := c.conn.SendStart()
	if err == nil {
		err = c.conn.WaitExec()
	}
	if err != nil {
		return 0, c.fail(err)
	}
	dl.mark(c.x, &t, "exec (from start to the init's execve)", "start sent; the init exec'd the command (its end of the handshake closed at execve)")
	started()
	ws, waitErr := c.wait()
	c.tty.finish()
	dl.span("container (from the poststart hooks to its exit)", &t)
	if waitErr != nil {
		return 0, fmt.Errorf("wait for init: %w", waitErr)
	}
	c.status = ws
	return exitcode.OfWait(c.status), nil
}

// preservedFDs returns this process's descriptors 3 to 3+n-1
// (--preserve-fds), to pass to the init first among its ExtraFiles so that
// they keep their numbers. Each must have been inherited: open, without
// close-on-exec (what this process opens has it, inherited ones cannot).
func preservedFDs(n int) ([]*os.File, error) {
	if n < 0 {
		return nil, fmt.Errorf("preserve fds: %d is negative", n)
	}
	files := make([]*os.File, 0, n+1)
	for fd := 3; fd < 3+n; fd++ {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			return nil, fmt.Errorf("preserve %d fds: fd %d is not open (not inherited)", n, fd)
		}
		files = append(files, os.NewFile(uintptr(fd), "preserved-fd-"+strconv.Itoa(fd)))
	}
	return files, nil
}

// describeErr renders the child's step error in err for the user: with
// the path involved when its message does not say it (a command that could
// not be run names itself). Any other error stays as it is.
func describeErr(err error) error {
	var he *handshake.Error
	switch {
	case !errors.As(err, &he):
		return err
	case he.Cause != "" || he.Path == "" || strings.Contains(he.Msg, he.Path):
		return he
	}
	return fmt.Errorf("%w (path %s)", he, he.Path)
}

// forward passes the forwarded signals on to pid until stopped.
func forward(sigc <-chan os.Signal, pid int) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case sig := <-sigc:
				_ = unix.Kill(pid, sig.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

// withRuntimeDevices returns r with the runtime's own device rules
// appended to a config's rules (see rootfs.RuntimeDeviceRules); a config
// without device rules is left as it is.
func withRuntimeDevices(r *specs.LinuxResources) *specs.LinuxResources {
	if r == nil || len(r.Devices) == 0 {
		return r
	}
	cp := *r
	cp.Devices = append(append([]specs.LinuxDeviceCgroup(nil), r.Devices...), rootfs.RuntimeDeviceRules()...)
	return &cp
}
