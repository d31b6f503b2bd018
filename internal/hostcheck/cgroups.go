package hostcheck

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
)

// limitControllers are the controllers of run's most used limits, with
// the flags that need each.
var limitControllers = []struct{ name, flags string }{
	{"memory", "--memory"},
	{"pids", "--pids-limit"},
	{"cpu", "--cpus, --cpu-shares"},
}

// checkCgroups reads the cgroup layout (mode, controllers) and, for a
// rootless user, whether its cgroup is delegated to it.
func checkCgroups(h *Host) []Finding {
	mode := Finding{Name: "cgroup mode"}
	hier, err := parseAt(h, "/proc/self/mountinfo", cgroups.ParseMountinfo)
	if err != nil {
		mode.Status, mode.Found = Missing, err.Error()
		mode.Means = "containers are put in cgroups, and none is mounted"
		mode.Fix = "mount cgroup2 on /sys/fs/cgroup (mount -t cgroup2 none /sys/fs/cgroup)"
		if h.Rootless() {
			mode.Status, mode.Means = Note, "containers run without resource limits"
		}
		return []Finding{mode}
	}
	self, err := parseAt(h, "/proc/self/cgroup", cgroups.ParseProcCgroup)
	if err != nil {
		self = map[string]string{}
	}
	var v1 []string
	for name := range hier.V1 {
		if !strings.HasPrefix(name, "name=") {
			v1 = append(v1, name)
		}
	}
	slices.Sort(v1)
	var v2 []string
	if hier.Unified != "" {
		if txt, err := h.read(filepath.Join(hier.Unified, "cgroup.controllers")); err == nil {
			v2 = strings.Fields(txt)
		}
	}
	switch hier.Mode {
	case cgroups.V1:
		mode.Found = "v1"
	case cgroups.V2:
		mode.Found = "v2 (unified) at " + hier.Unified
	default:
		mode.Found = "hybrid: v1 controllers beside a v2 tree at " + hier.Unified
	}
	ctl := Finding{Name: "cgroup controllers"}
	var parts []string
	if len(v1) > 0 {
		parts = append(parts, "v1: "+strings.Join(v1, " "))
	}
	if hier.Unified != "" {
		parts = append(parts, "v2: "+strings.Join(v2, " "))
	}
	ctl.Found = strings.Join(parts, "; ")
	var lacking, flags []string
	for _, c := range limitControllers {
		if !slices.Contains(v1, c.name) && !slices.Contains(v2, c.name) {
			lacking = append(lacking, c.name)
			flags = append(flags, c.flags)
		}
	}
	if len(lacking) > 0 {
		ctl.Status = Note
		ctl.Means = fmt.Sprintf("no %s controller: %s refused", strings.Join(lacking, ", "), strings.Join(flags, ", "))
		ctl.Fix = "a kernel with the controllers (CONFIG_MEMCG, CONFIG_CGROUP_PIDS, CONFIG_CGROUP_SCHED), not disabled on its command line (cgroup_disable=)"
	}
	out := []Finding{mode, ctl}
	if h.Rootless() {
		out = append(out, checkDelegation(h, hier, self))
	}
	return out
}

// checkDelegation says whether the rootless user owns its own cgroup (v2),
// as systemd's Delegate=yes makes it: then its containers can have limits.
func checkDelegation(h *Host, hier *cgroups.Hierarchies, self map[string]string) Finding {
	f := Finding{Name: "cgroup delegation", Status: Note}
	f.Means = "containers run without resource limits; a limit asked for (--memory, --pids-limit, --cpus...) is an error"
	if hier.Mode != cgroups.V2 {
		f.Found = "none: cgroup v1 controllers can't be delegated to a user"
		f.Fix = "boot with cgroup v2 alone (systemd.unified_cgroup_hierarchy=1 on the kernel's command line) and a cgroup delegated to you (systemd: Delegate=yes)"
		return f
	}
	rel, ok := self[""]
	if !ok {
		f.Found = "none: this process is in no v2 cgroup (/proc/self/cgroup)"
		return f
	}
	dir := filepath.Join(hier.Unified, rel)
	var st unix.Stat_t
	if err := unix.Stat(h.path(dir), &st); err != nil {
		f.Found = "none: " + err.Error()
		return f
	}
	procs := filepath.Join(h.path(dir), "cgroup.procs")
	var pst unix.Stat_t
	if st.Uid != uint32(h.UID) || unix.Stat(procs, &pst) != nil || pst.Uid != uint32(h.UID) {
		f.Found = fmt.Sprintf("none: your cgroup %s is not yours (owner uid %d)", dir, st.Uid)
		f.Fix = fmt.Sprintf("log in through systemd (user@%d.service delegates a cgroup), or run in a delegated scope: systemd-run --user --scope -p Delegate=yes minimal-docker ...; without systemd, as root: mkdir -p %s/%s/shell && chown -R %d:%d %s/%s, and move your shell into its leaf (echo PID > .../%s/shell/cgroup.procs)",
			h.UID, hier.Unified, h.userName(), h.UID, h.GID, hier.Unified, h.userName(), h.userName())
		return f
	}
	// The containers' cgroups go beneath the top of what is yours
	// (cgroups.DelegatedRoot), beside the cgroup you run in.
	for parent := filepath.Dir(dir); parent != filepath.Clean(hier.Unified) && h.owns(parent); parent = filepath.Dir(parent) {
		dir = parent
	}
	ctrls, _ := h.read(filepath.Join(dir, "cgroup.controllers"))
	f.Status, f.Means, f.Fix = OK, "", ""
	f.Found = fmt.Sprintf("%s is yours (controllers: %s); containers' cgroups go beneath it", dir, ctrls)
	if ctrls == "" {
		f.Status = Note
		f.Found = fmt.Sprintf("%s is yours, with no controller", dir)
		f.Means = "containers run without resource limits"
		f.Fix = "enable controllers for it in its parent's cgroup.subtree_control (systemd: Delegate=yes, or Delegate=memory pids cpu)"
	}
	return f
}

// owns says whether the cgroup dir and its cgroup.procs are the user's.
func (h *Host) owns(dir string) bool {
	for _, p := range []string{dir, filepath.Join(dir, "cgroup.procs")} {
		var st unix.Stat_t
		if unix.Stat(h.path(p), &st) != nil || st.Uid != uint32(h.UID) {
			return false
		}
	}
	return true
}

// userName is the user's name, or its uid.
func (h *Host) userName() string {
	if h.User != "" {
		return h.User
	}
	return fmt.Sprint(h.UID)
}

// parseAt parses the file at p beneath h.Root.
func parseAt[T any](h *Host, p string, parse func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(h.path(p))
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return parse(f)
}
