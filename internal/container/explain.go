package container

import (
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/explain"
	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/plan"
)

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

// explainNamespaces prints where each of the container's namespaces
// comes from and which process made or joined it (namespaces.Describe).
func explainNamespaces(x *explain.Log, l *specs.Linux) {
	if !x.On() {
		return
	}
	for _, d := range namespaces.Describe(l.Namespaces) {
		x.Parent(0, "namespace %s", d)
	}
	switch {
	case namespaces.Has(l.Namespaces, specs.UserNamespace):
		x.Parent(0, "user namespace maps, written by the runtime between the clone and the init's exec: uid_map %s; gid_map %s (setgroups allowed)",
			namespaces.MapText(l.UIDMappings), namespaces.MapText(l.GIDMappings))
	case namespaces.JoinsUser(l.Namespaces):
		x.Parent(0, "user namespace maps, the joined namespace's own (read from a process in it, the config's checked against them): uid_map %s; gid_map %s",
			namespaces.MapText(l.UIDMappings), namespaces.MapText(l.GIDMappings))
	}
}

// traceCgroups makes x print each change to a cgroup filesystem
// (cgroups.SetTrace) and returns the function that stops it; with x
// nil, it does nothing.
func traceCgroups(x *explain.Log) (restore func()) {
	if !x.On() {
		return func() {}
	}
	return cgroups.SetTrace(x.Cgroup)
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

// explainExit prints the container's end (explain.Exit): the status the
// runtime exits with, the signal that killed its PID 1 (ws), the OOM kill
// counter of its cgroup (mgr; -1 when it can't be read).
func explainExit(x *explain.Log, ws unix.WaitStatus, mgr cgroups.Manager) {
	if !x.On() {
		return
	}
	sig := ""
	if ws.Signaled() {
		sig = unix.SignalName(ws.Signal())
	}
	oom := int64(-1)
	if mgr != nil {
		if n, err := mgr.OOMKillCount(); err == nil {
			oom = int64(n)
		}
	}
	x.Exit(0, exitcode.OfWait(ws), sig, oom)
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
	what := ""
	if d, ok := n.Network.(interface{ Describe() string }); ok && err == nil {
		what = d.Describe()
	}
	switch {
	case err != nil:
		n.x.Parent(time.Since(t0), "network ADD (CNI) in the init's network namespace (pid %d, beside its setup): failed: %v", pid, err)
	case what != "":
		n.x.Parent(time.Since(t0), "network ADD (CNI) in the init's network namespace (pid %d, beside its setup): %s", pid, what)
	default:
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
