package interop

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/seccomp"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
	"github.com/minimal-docker/minimal-docker/tests/internal/dockerlike"
	"golang.org/x/sys/unix"
)

// checkNoLeftovers is the name of the last check of every suite.
const checkNoLeftovers = dockerlike.CheckNoLeftovers

// leftoverGrace is how long processes and cgroups of an engine instance
// get to vanish once it is stopped.
const leftoverGrace = 5 * time.Second

// ---- what the host looks like ----

// hostSnapshot is what the leftover check compares: taken before an engine
// starts, and again once it is stopped.
type hostSnapshot struct {
	testenv.Snapshot                 // mounts, and cgroup directories beneath this process's own and the engine's parents
	links            map[string]bool // network interfaces
	netns            map[string]bool // entries of /run/netns
	iptables         string          // iptables-save and ip6tables-save, less comments and counters
	ipForward        string
	residue          map[string]bool // which residuePaths exist
	taken            time.Time
}

func takeSnapshot(t *testing.T, cgroupParents []string) hostSnapshot {
	t.Helper()
	s := hostSnapshot{
		links:     dirNames("/sys/class/net"),
		netns:     dirNames("/run/netns"),
		iptables:  iptablesRules(),
		ipForward: readTrim("/proc/sys/net/ipv4/ip_forward"),
		residue:   snapshotResidue(),
		taken:     time.Now(),
	}
	var err error
	if s.Snapshot, err = testenv.TakeSnapshot(cgroupRoots(cgroupParents)); err != nil {
		t.Fatal(err)
	}
	return s
}

func dirNames(dir string) map[string]bool {
	names := map[string]bool{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names[e.Name()] = true
	}
	return names
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return strings.TrimSpace(string(b))
}

// iptablesRules is the rule sets of iptables-save and ip6tables-save
// (where installed) without comments and packet counters.
func iptablesRules() string {
	var b strings.Builder
	for _, prog := range []string{"iptables-save", "ip6tables-save", "iptables-legacy-save", "ip6tables-legacy-save"} {
		p, err := exec.LookPath(prog)
		if err != nil {
			continue
		}
		r := runCmd(cleanEnv(), p)
		fmt.Fprintf(&b, "%s (exit %d):\n", prog, r.Code)
		for _, l := range nonEmptyLines(r.Stdout) {
			if strings.HasPrefix(l, "#") {
				continue
			}
			if strings.HasPrefix(l, ":") { // ":CHAIN POLICY [packets:bytes]"
				if i := strings.LastIndexByte(l, '['); i > 0 {
					l = strings.TrimSpace(l[:i])
				}
			}
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// ---- cgroups ----

// ownCgroupDirs lists this process's cgroup directory in each hierarchy.
func ownCgroupDirs() []string { return testenv.OwnCgroupDirs(env.hier.V1, env.hier.Unified, env.self) }

// hierarchyMounts lists the mount point of every cgroup hierarchy once.
func hierarchyMounts() []string {
	set := map[string]bool{}
	for _, mnt := range env.hier.V1 {
		set[mnt] = true
	}
	if env.hier.Unified != "" {
		set[env.hier.Unified] = true
	}
	return sortedKeys(set)
}

// parentDirs lists the directory of the absolute cgroup path parent in
// every hierarchy.
func parentDirs(parent string) []string {
	var dirs []string
	for _, mnt := range hierarchyMounts() {
		dirs = append(dirs, filepath.Join(mnt, parent))
	}
	return dirs
}

// cgroupRoots lists the cgroup directories the leftover check looks
// beneath: this process's own cgroups and the given absolute cgroup paths
// (which an engine is told to use, or uses by default, and which may lie
// outside them).
func cgroupRoots(parents []string) []string {
	roots := ownCgroupDirs()
	for _, p := range parents {
		roots = append(roots, parentDirs(p)...)
	}
	return roots
}

// cgroupGone fails unless the absolute cgroup path p is absent from every
// hierarchy.
func cgroupGone(p string) error {
	var present []string
	for _, d := range parentDirs(p) {
		if _, err := os.Stat(d); err == nil {
			present = append(present, d)
		}
	}
	if len(present) > 0 {
		return fmt.Errorf("cgroup %s is still there: %s", p, strings.Join(present, " "))
	}
	return nil
}

func sortedKeys(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- paths outside the temporary directory that engines create ----

// residuePaths are paths outside the temporary directory that the engines
// or tools create on their own, with no option to move them, deepest
// first. Each that did not exist before is removed afterwards; the
// directories only when empty, or holding no more than the files named.
var residuePaths = []struct {
	path         string
	files        []string // files that may be removed with it
	glob         string   // and the files matching this pattern
	staleSockets bool     // unix sockets nobody listens on may be removed with it
}{
	// containerd 1.6 shims' sockets (the standalone one's and dockerd's);
	// a shim killed by the test leaves its socket.
	{path: "/run/containerd/s", staleSockets: true},
	{path: "/run/containerd"},
	{path: "/opt/containerd/bin"}, // the opt plugin of dockerd's containerd (ours is configured away)
	{path: "/opt/containerd/lib"},
	{path: "/opt/containerd"},
	{path: "/run/docker/plugins"}, // dockerd's plugin exec root, fixed
	{path: "/run/docker"},
	{path: "/run/runc"},           // runc's default --root (Podman passes none)
	{path: "/run/minimal-docker"}, // minimal-runc's default --root
	// minimal-runc's seccomp cache, where an engine does not pass the
	// test's MINIMAL_DOCKER_SECCOMP_CACHE on to the runtime.
	{path: seccomp.DefaultCacheDir, glob: "*.bpf"},
	{path: "/var/lib/containers/cache", files: []string{"blob-info-cache-v1.boltdb"}}, // skopeo's and Podman's blob cache, for root
	{path: "/var/lib/containers"},
}

func snapshotResidue() map[string]bool {
	have := map[string]bool{}
	for _, r := range residuePaths {
		if _, err := os.Lstat(r.path); err == nil {
			have[r.path] = true
		}
	}
	return have
}

// restoreResidue removes the stale sockets made since then, and the
// residue paths that were not there before; it returns what it did, and
// what it could not do, one message each.
func restoreResidue(before map[string]bool, since time.Time) []string {
	var msgs []string
	for _, r := range residuePaths {
		if r.staleSockets {
			for _, p := range removeStaleSockets(r.path, since) {
				msgs = append(msgs, "removed the stale socket "+p+" (of a shim the test killed)")
			}
		}
		if before[r.path] {
			continue
		}
		if _, err := os.Lstat(r.path); err != nil {
			continue
		}
		for _, f := range r.files {
			os.Remove(filepath.Join(r.path, f))
		}
		if r.glob != "" {
			matches, _ := filepath.Glob(filepath.Join(r.path, r.glob))
			for _, m := range matches {
				os.Remove(m)
			}
		}
		if err := os.Remove(r.path); err != nil {
			msgs = append(msgs, fmt.Sprintf("left %s (created by an engine during the tests): %v", r.path, err))
			continue
		}
		msgs = append(msgs, fmt.Sprintf("removed %s (created by an engine during the tests)", r.path))
	}
	return msgs
}

// removeStaleSockets removes the unix sockets in dir made since then that
// refuse a connection (their server is gone), and returns their paths.
func removeStaleSockets(dir string, since time.Time) []string {
	var removed []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.Type()&fs.ModeSocket == 0 || info.ModTime().Before(since) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		conn, err := net.DialTimeout("unix", p, time.Second)
		if err == nil {
			conn.Close()
			continue
		}
		if errors.Is(err, syscall.ECONNREFUSED) && os.Remove(p) == nil {
			removed = append(removed, p)
		}
	}
	return removed
}

// ---- processes ----

// strayProcesses lists the live processes (not zombies, not this one) that
// belong to an engine instance: their command line names its directory,
// or they run in one of its cgroup parents.
func strayProcesses(dir string, cgroupParents []string) map[int]string {
	found := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		if i := strings.LastIndexByte(string(stat), ')'); i < 0 || strings.HasPrefix(string(stat[i+1:]), " Z") {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
		if strings.Contains(args, dir) {
			found[pid] = args
			continue
		}
		cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		for _, line := range strings.Split(string(cg), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 {
				continue
			}
			for _, p := range cgroupParents {
				if testenv.IsUnder(parts[2], p) {
					found[pid] = args + " (in cgroup " + parts[2] + ")"
				}
			}
		}
	}
	return found
}

// ---- the check ----

// leftovers says what an engine instance is allowed to leave (its normal
// residue, the same with runc) and where it lives.
type leftovers struct {
	dir     string   // the instance's temporary directory
	parents []string // absolute cgroup paths the engine's containers go beneath
	residue []string // absolute cgroup paths the engine leaves by design (removed here)
	before  hostSnapshot
	// names are the IDs of the containers the instance made: a new cgroup
	// outside the parents is this instance's only if a name is in its
	// path (other tests on the machine make cgroups too).
	names []string
}

// check compares the host with the snapshot once the engine is stopped,
// reports every difference, then removes what the instance left (processes
// by PID, mounts beneath its directory, cgroups beneath its parents, the
// directory itself) so that a failure does not leak into the next test.
func (l *leftovers) check(t *testing.T) error {
	var errs errList
	t.Logf("containers this instance made: %v", l.names)

	// Processes: give exit commands (podman container cleanup) and shims
	// a moment, then kill what is left, by PID.
	var procs map[int]string
	pollFor(leftoverGrace, func() error {
		if procs = strayProcesses(l.dir, l.parents); len(procs) > 0 {
			return errors.New("processes left")
		}
		return nil
	})
	for pid, args := range procs {
		errs.Add("leftover process %d: %s", pid, args)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(procs) > 0 {
		pollFor(leftoverGrace, func() error {
			for pid := range procs {
				if syscall.Kill(pid, 0) == nil && strayProcesses(l.dir, l.parents)[pid] != "" {
					return fmt.Errorf("process %d still there", pid)
				}
			}
			return nil
		})
	}

	// Mounts: new ones are leftovers, unless beneath another temporary
	// directory (another package's test running at the same time).
	mounts, err := l.before.LeftoverMounts(l.dir, t.Logf)
	if err != nil {
		errs.Add("%v", err)
	}
	var ours []string
	for _, m := range mounts {
		if testenv.IsUnder(m.Mountpoint, l.dir) {
			errs.Add("leftover mount: %s (%s %s)", m.Mountpoint, m.FSType, m.Source)
			ours = append(ours, m.Mountpoint)
		} else {
			errs.Add("leftover mount outside the test's directory: %s (%s %s)", m.Mountpoint, m.FSType, m.Source)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ours)))
	for _, mp := range ours {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil {
			errs.Add("unmount %s: %v", mp, err)
		}
	}

	// Cgroups: the engine's residue is allowed (and removed); any other
	// new directory beneath the engine's parents is a leftover (and
	// removed). A new directory elsewhere named after one of the
	// instance's containers is a leftover too (not touched) unless it
	// vanishes within the grace; other new ones belong to someone else.
	allowed := map[string]bool{}
	for _, r := range l.residue {
		for _, d := range parentDirs(r) {
			allowed[d] = true
		}
	}
	var mine, foreign []string
	for _, d := range l.before.NewCgroups(cgroupRoots(l.parents), 0) {
		beneath := false
		for _, p := range l.parents {
			for _, pd := range parentDirs(p) {
				beneath = beneath || testenv.IsUnder(d, pd)
			}
		}
		switch {
		case beneath:
			if !allowed[d] {
				errs.Add("leftover cgroup directory: %s", d)
			}
			mine = append(mine, d)
		case l.named(d):
			foreign = append(foreign, d)
		default:
			t.Logf("ignoring a new cgroup directory not named after this instance's containers (another test's?): %s", d)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mine))) // children first
	for _, d := range mine {
		if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
			errs.Add("remove cgroup %s: %v", d, err)
		}
	}
	if len(foreign) > 0 {
		pollFor(leftoverGrace, func() error {
			var still []string
			for _, d := range foreign {
				if _, err := os.Stat(d); err == nil {
					still = append(still, d)
				}
			}
			foreign = still
			if len(still) > 0 {
				return errors.New("cgroups left")
			}
			return nil
		})
		for _, d := range foreign {
			errs.Add("leftover cgroup directory outside the engine's parent cgroup: %s", d)
		}
	}

	// Network: interfaces (veths), namespaces, iptables rules, forwarding.
	now := takeNetwork()
	for name := range now.links {
		if !l.before.links[name] {
			errs.Add("leftover network interface: %s", name)
		}
	}
	for name := range now.netns {
		if !l.before.netns[name] {
			errs.Add("leftover network namespace: /run/netns/%s", name)
		}
	}
	if now.iptables != l.before.iptables {
		errs.Add("iptables rules changed:\nbefore:\n%s\nafter:\n%s", testenv.Indent(l.before.iptables), testenv.Indent(now.iptables))
	}
	if now.ipForward != l.before.ipForward {
		errs.Add("net.ipv4.ip_forward changed from %s to %s", l.before.ipForward, now.ipForward)
	}

	for _, msg := range restoreResidue(l.before.residue, l.before.taken) {
		t.Log(msg)
	}
	if err := os.RemoveAll(l.dir); err != nil {
		errs.Add("remove %s: %v", l.dir, err)
	}
	return errs.Err()
}

// named reports whether one of the instance's container names is in path.
func (l *leftovers) named(path string) bool {
	for _, n := range l.names {
		if n != "" && strings.Contains(path, n) {
			return true
		}
	}
	return false
}

// takeNetwork is the network part of a snapshot.
func takeNetwork() hostSnapshot {
	return hostSnapshot{
		links:     dirNames("/sys/class/net"),
		netns:     dirNames("/run/netns"),
		iptables:  iptablesRules(),
		ipForward: readTrim("/proc/sys/net/ipv4/ip_forward"),
	}
}

// instanceDir makes the temporary directory of one engine instance (short:
// unix socket paths beneath it must fit 108 bytes).
func instanceDir(t *testing.T, engine string, rt runtimeUnderTest) string {
	t.Helper()
	dir, err := os.MkdirTemp(env.tmp, engine+"-"+rt.dockerName+"-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// uniqueName is a name no other test or test run uses at the same time
// (containerd namespaces, cgroup parents).
func uniqueName(engine string, rt runtimeUnderTest) string {
	return fmt.Sprintf("mdi-%d-%s-%s", os.Getpid(), engine, rt.dockerName)
}

// hostLimit is the hard limit of this process for resource (for engines
// whose defaults ask for more than the host allows; raising needs
// CAP_SYS_RESOURCE, which this host withholds).
func hostLimit(resource int) uint64 {
	var rl unix.Rlimit
	if err := unix.Getrlimit(resource, &rl); err != nil {
		return 1024
	}
	return rl.Max
}

// maxPIDs is kernel.pid_max (Podman caps its own RLIMIT_NPROC there).
func maxPIDs() uint64 {
	n, err := strconv.ParseUint(readTrim("/proc/sys/kernel/pid_max"), 10, 64)
	if err != nil {
		return 32768
	}
	return n
}
