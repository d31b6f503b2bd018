package cgroups

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	v1 "github.com/minimal-docker/minimal-docker/internal/cgroups/v1"
)

// TraceFunc is told of each change made to a cgroup filesystem: op
// "write" (path is the control file, value what was written), "mkdir" and
// "rmdir" (path is the cgroup directory), "bpf" (v2's device program
// attached to the cgroup path; value says which); d is its time, err its
// error. A failed rmdir of a parent that is still in use is no error of
// the runtime's (another container's cgroup is beside ours).
type TraceFunc = cgfs.TraceFunc

// SetTrace makes f the TraceFunc of every cgroup change this process makes
// from now on, by any Manager (nil: none), for --explain, and returns the
// function that puts the previous one back. Without one, the drivers pay
// one atomic load per write.
func SetTrace(f TraceFunc) (restore func()) { return cgfs.SetTrace(f) }

// Describe says, in one line, the cgroup layout of the hierarchies h, the
// driver that m (from NewWith(h, ...)) is, and the container's cgroup
// directories, for --explain:
//
//	cgroup v2 (unified, /sys/fs/cgroup), cgroupfs driver, /sys/fs/cgroup/user.slice/x/ID
//	cgroup v1 (hybrid: a v2 tree at /sys/fs/cgroup/unified, holding no controller we use), cgroupfs driver, /sys/fs/cgroup/{cpu,memory,pids}/x/ID
//
// A directory Create makes only on demand (v1's blkio and hugetlb) is
// listed once Create has made it.
func Describe(h *Hierarchies, m Manager) string {
	var mode string
	switch h.Mode {
	case V2:
		mode = fmt.Sprintf("cgroup v2 (unified, %s)", h.Unified)
	case Hybrid:
		mode = fmt.Sprintf("cgroup v1 (hybrid: a v2 tree at %s, holding no controller we use)", h.Unified)
		if _, ok := h.V1["hugetlb"]; !ok {
			mode = fmt.Sprintf("cgroup v1 (hybrid: a v2 tree at %s, where hugetlb is)", h.Unified)
		}
	case V1:
		mode = "cgroup v1"
	default:
		mode = "cgroup " + h.Mode.String()
	}
	return mode + ", cgroupfs driver, " + dirsOf(h, m)
}

// dirsOf lists m's directories: on v1, one per hierarchy in which it has
// one, as "PARENT/{A,B}/REL" when the hierarchies are mounted side by
// side (co-mounted ones, "cpu,cpuacct", are not) and the container's
// cgroup is at the same place in each.
func dirsOf(h *Hierarchies, m Manager) string {
	if m.Mode() == V2 {
		return m.Path("")
	}
	type dir struct{ mount, path string }
	var dirs []dir
	seen := map[string]bool{}
	for _, c := range v1.Controllers() {
		p := m.Path(c)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		mount := h.V1[c]
		if c == "hugetlb" && mount == "" {
			mount = h.Unified // a hybrid host's v2 tree
		}
		dirs = append(dirs, dir{mount, p})
	}
	if len(dirs) == 0 {
		return "no cgroup directory"
	}
	var bases, paths []string
	parent, rel := "", ""
	same := true
	for i, d := range dirs {
		paths = append(paths, d.path)
		r, err := filepath.Rel(d.mount, d.path)
		if d.mount == "" || err != nil || strings.HasPrefix(r, "..") {
			same = false
			continue
		}
		if i == 0 {
			parent, rel = filepath.Dir(d.mount), r
		}
		same = same && filepath.Dir(d.mount) == parent && r == rel
		bases = append(bases, filepath.Base(d.mount))
	}
	if !same || len(dirs) == 1 || slices.ContainsFunc(bases, func(b string) bool { return strings.Contains(b, ",") }) {
		return strings.Join(paths, ", ")
	}
	slices.Sort(bases)
	return filepath.Join(parent, "{"+strings.Join(bases, ",")+"}", rel)
}
