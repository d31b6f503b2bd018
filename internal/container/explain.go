package container

import (
	"os"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/explain"
	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/plan"
)

// EnvInit chooses the container's init: "go" runs the Go init
// (minimal-docker-init, package initproc's step table), for comparison
// while the plan's C init replaces it; unset or "plan", the helper's
// interpreter of the plan that initproc.Build compiles.
const EnvInit = "MINIMAL_DOCKER_INIT"

// goInit reports whether EnvInit asks for the Go init.
func goInit() bool { return os.Getenv(EnvInit) == "go" }

// explainReports prints each of the init's reports (a plan sent with
// plan.FlagExplain) as a child line of x.
func explainReports(conn *handshake.Conn, x *explain.Log) {
	if !x.On() {
		return
	}
	conn.OnReport(func(op *plan.Op, d time.Duration, errno int) {
		switch {
		case errno == -1:
			x.Child(d, "%s (skipped: missing, as allowed)", op.Describe())
		case errno != 0:
			x.Child(d, "%s: failed: %v", op.Describe(), unix.Errno(errno))
		default:
			x.Child(d, "%s", op.Describe())
		}
	})
}

// explainNamespaces prints which process made each of the container's
// namespaces: the clone (new), the parent's forking thread (a pid
// namespace given by path) or the init (the others given by path).
func explainNamespaces(x *explain.Log, nss []specs.LinuxNamespace) {
	if !x.On() {
		return
	}
	for _, ns := range nss {
		switch {
		case ns.Path == "":
			x.Parent(0, "%s namespace: new, made by the clone of the init", ns.Type)
		case ns.Type == specs.PIDNamespace:
			x.Parent(0, "pid namespace: joined, %s: the parent's forking thread entered it, so the init was born in it", ns.Path)
		default:
			x.Parent(0, "%s namespace: joined, %s: by the init (setns, an op of its plan)", ns.Type, ns.Path)
		}
	}
	for _, t := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.NetworkNamespace, specs.MountNamespace,
		specs.IPCNamespace, specs.UTSNamespace, specs.UserNamespace, specs.CgroupNamespace, specs.TimeNamespace} {
		if !hasNamespace(nss, t) {
			x.Parent(0, "%s namespace: the runtime's own (shared: not in linux.namespaces)", t)
		}
	}
}

func hasNamespace(nss []specs.LinuxNamespace, t specs.LinuxNamespaceType) bool {
	for _, ns := range nss {
		if ns.Type == t {
			return true
		}
	}
	return false
}

// newNamespaces names the namespaces the clone makes: "mount, uts, pid".
func newNamespaces(nss []specs.LinuxNamespace) string {
	var names []string
	for _, ns := range nss {
		if ns.Path == "" {
			names = append(names, string(ns.Type))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// cgroupPath is the container's cgroup directory to name in a line: the
// first controller's that has one (on v2, the one directory).
func cgroupPath(mgr cgroups.Manager) string {
	for _, c := range []string{"memory", "pids", "cpu", "freezer", "devices", "cpuset"} {
		if p := mgr.Path(c); p != "" {
			return p
		}
	}
	return "(none)"
}

// explainSeccomp says where the filter came from and what it holds.
func explainSeccomp(x *explain.Log, s *specs.Spec, cached bool, cacheErr error, insns int, d time.Duration) {
	if !x.On() {
		return
	}
	from := "compiled now (libseccomp)"
	if cached {
		from = "read from the cache"
	}
	sc := s.Linux.Seccomp
	x.Parent(d, "seccomp filter: %s: %d BPF instructions, default action %s, %d rules, installed by the init right before execve",
		from, insns, sc.DefaultAction, len(sc.Syscalls))
	if cacheErr != nil {
		x.Parent(0, "seccomp filter: not cached: %v", cacheErr)
	}
}

// explainExit prints how the container's process (its PID 1) ended.
func explainExit(x *explain.Log, ws unix.WaitStatus) {
	x.Parent(0, "the container's PID 1 %s: exit status %d (the OOM kills its cgroup counted: below, at its removal)", waitStatusText(ws), exitcode.OfWait(ws))
}

// lap returns the time since *t and sets *t to now.
func lap(t *time.Time) time.Duration {
	now := time.Now()
	d := now.Sub(*t)
	*t = now
	return d
}

// explainedNetwork is a Network whose Attach and Detach print a line.
type explainedNetwork struct {
	Network
	x *explain.Log
}

// explainNetwork wraps n to print its ADD and DEL when x is on.
func explainNetwork(n Network, x *explain.Log) Network {
	if n == nil || !x.On() {
		return n
	}
	return explainedNetwork{n, x}
}

func (n explainedNetwork) Attach(pid int) error {
	t0 := time.Now()
	err := n.Network.Attach(pid)
	if err != nil {
		n.x.Parent(time.Since(t0), "network ADD (CNI) in the init's network namespace (pid %d, beside its setup): failed: %v", pid, err)
	} else {
		n.x.Parent(time.Since(t0), "network ADD (CNI) in the init's network namespace (pid %d, beside its setup)", pid)
	}
	return err
}

func (n explainedNetwork) Detach() error {
	t0 := time.Now()
	err := n.Network.Detach()
	if err != nil {
		n.x.Parent(time.Since(t0), "network DEL (CNI): failed: %v", err)
	} else {
		n.x.Parent(time.Since(t0), "network detached (CNI DEL)")
	}
	return err
}
