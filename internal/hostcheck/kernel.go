package hostcheck

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
)

// minKernel is the oldest kernel the runtime runs on: the container's init
// opens every path in the root with openat2(2) (RESOLVE_IN_ROOT), Linux 5.6.
var minKernel = [2]int{5, 6}

// checkKernel reads the kernel's release (/proc/sys/kernel/osrelease).
func checkKernel(h *Host) []Finding {
	f := Finding{Name: "kernel"}
	rel, err := h.read("/proc/sys/kernel/osrelease")
	if err != nil {
		f.Status, f.Found = Missing, fmt.Sprintf("unknown (%v)", err)
		f.Means = "the kernel's release can't be read: is /proc mounted?"
		f.Fix = "mount -t proc proc /proc"
		return []Finding{f}
	}
	f.Found = "Linux " + rel
	v, ok := parseRelease(rel)
	switch {
	case !ok:
		f.Status = Note
		f.Means = "the release is not MAJOR.MINOR...: its features are not known from it"
	case v[0] < minKernel[0] || v[0] == minKernel[0] && v[1] < minKernel[1]:
		f.Status = Missing
		f.Means = fmt.Sprintf("the container's init needs openat2(2), Linux %d.%d", minKernel[0], minKernel[1])
		f.Fix = fmt.Sprintf("boot a kernel %d.%d or newer", minKernel[0], minKernel[1])
	}
	return []Finding{f}
}

// parseRelease reads MAJOR.MINOR from a kernel release ("6.1.0-13-amd64").
func parseRelease(rel string) ([2]int, bool) {
	var v [2]int
	if _, err := fmt.Sscanf(rel, "%d.%d", &v[0], &v[1]); err != nil {
		return v, false
	}
	return v, true
}

// nsTypes is the kernel's table of namespace types, in the report's order,
// with the option that builds each in, and whether run makes one for
// every container (spec.Default's namespaces) — the others are asked for
// (time) or, for user, made by a rootless run.
var nsTypes = []struct {
	t       specs.LinuxNamespaceType
	config  string
	byRun   bool
	feature string // what lacks it, when not byRun
}{
	{specs.MountNamespace, "CONFIG_NAMESPACES", true, ""},
	{specs.UTSNamespace, "CONFIG_UTS_NS", true, ""},
	{specs.IPCNamespace, "CONFIG_IPC_NS", true, ""},
	{specs.PIDNamespace, "CONFIG_PID_NS", true, ""},
	{specs.NetworkNamespace, "CONFIG_NET_NS", true, ""},
	{specs.CgroupNamespace, "CONFIG_CGROUPS", true, ""},
	{specs.UserNamespace, "CONFIG_USER_NS", false, "rootless containers and --userns=auto"},
	{specs.TimeNamespace, "CONFIG_TIME_NS", false, "a config.json's time namespace (minimal-runc)"},
}

// checkNamespaces looks for each type's file in /proc/self/ns.
func checkNamespaces(h *Host) []Finding {
	var out []Finding
	for _, n := range nsTypes {
		name := namespaces.ProcName(n.t)
		f := Finding{Name: "namespace " + string(n.t), Found: "/proc/self/ns/" + name}
		if !exists(h.path("/proc/self/ns/" + name)) {
			f.Found = "absent: no /proc/self/ns/" + name
			f.Fix = "a kernel built with " + n.config
			switch {
			case n.byRun || n.t == specs.UserNamespace && h.Rootless():
				f.Status = Missing
				f.Means = "every container gets a " + string(n.t) + " namespace of its own"
				if n.t == specs.UserNamespace {
					f.Means = "a rootless container runs in a user namespace of its own"
				}
			default:
				f.Status = Note
				f.Means = "without it: no " + n.feature
			}
		}
		out = append(out, f)
	}
	return out
}

// checkHelper finds the container's init, minimal-docker-helper, beside
// the runtime.
func checkHelper(h *Host) []Finding {
	return checkCompanion("minimal-docker-helper", h.Helper, Missing,
		"it is the container's init (and compiles seccomp profiles): no container starts without it")
}

// checkImageBinary finds minimal-docker-image beside a lean runtime.
func checkImageBinary(h *Host) []Finding {
	if h.ImageBinary == nil {
		return nil
	}
	return checkCompanion("minimal-docker-image", h.ImageBinary, Note,
		"it pulls, loads, saves and imports images: without it only the images already in the store run (and root filesystem directories)")
}

// checkCompanion is the finding of a binary the runtime finds beside
// itself (find: sealed.Beside): its path, or why it is not there, with
// what that means when it is missing.
func checkCompanion(name string, find func() (string, error), missing Status, means string) []Finding {
	f := Finding{Name: name}
	path, err := find()
	if err != nil {
		f.Status, f.Found, f.Means = missing, err.Error(), means
		f.Fix = "install it beside minimal-docker (make build puts both in bin/)"
		return []Finding{f}
	}
	f.Found = path
	return []Finding{f}
}

// checkSeccomp looks for the kernel's seccomp filters (CONFIG_SECCOMP_FILTER:
// /proc/sys/kernel/seccomp/actions_avail) and the actions the default
// profile uses.
func checkSeccomp(h *Host) []Finding {
	f := Finding{Name: "seccomp"}
	actions, err := h.read("/proc/sys/kernel/seccomp/actions_avail")
	if err != nil {
		f.Status, f.Found = Missing, "no seccomp filters (no /proc/sys/kernel/seccomp/actions_avail)"
		f.Means = "every container gets the default seccomp profile, which this kernel can't install"
		f.Fix = "a kernel built with CONFIG_SECCOMP_FILTER, or run --security-opt seccomp=unconfined (less isolation)"
		return []Finding{f}
	}
	f.Found = "filters, actions: " + actions
	for _, a := range []string{"errno", "allow"} {
		if !contains(strings.Fields(actions), a) {
			f.Status = Missing
			f.Means = "the default seccomp profile returns errors (SCMP_ACT_ERRNO) and allows; this kernel lacks " + a
			f.Fix = "a newer kernel, or run --security-opt seccomp=unconfined (less isolation)"
		}
	}
	return []Finding{f}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
