package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// Hierarchies are the cgroup filesystems mounted on the host.
type Hierarchies struct {
	// Mode is the layout they make up.
	Mode Mode
	// Unified is the mount point of the cgroup2 filesystem, "" if none.
	Unified string
	// V1 maps each v1 controller ("memory", "pids", "cpu", "cpuacct", ...,
	// and named hierarchies such as "name=systemd") to its mount point.
	// Co-mounted controllers (cpu,cpuacct) share one.
	V1 map[string]string
	// Roots maps the same keys as V1, and "" for cgroup2, to the cgroup
	// that the mount shows at its mount point (mountinfo's root field).
	// It is "/" unless the mount is of a sub-tree, as inside a container
	// that bind-mounts its own cgroup; a missing key means "/".
	Roots map[string]string
}

// v1Controllers is the table of v1 controllers the kernel knows, to tell
// them from the other super options of a cgroup mount ("rw", "xattr",
// "release_agent=...", ...).
var v1Controllers = []string{
	"blkio", "cpu", "cpuacct", "cpuset", "debug", "devices", "freezer",
	"hugetlb", "memory", "misc", "net_cls", "net_prio", "perf_event",
	"pids", "rdma",
}

// ParseMountinfo reads the cgroup mounts from the text of
// /proc/self/mountinfo. The first mount of a hierarchy wins. It fails when
// no cgroup filesystem is mounted.
func ParseMountinfo(r io.Reader) (*Hierarchies, error) {
	mounts, err := mountinfo.GetMountsFromReader(r, mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, fmt.Errorf("parse mountinfo: %w", err)
	}
	h := &Hierarchies{V1: make(map[string]string), Roots: make(map[string]string)}
	for _, m := range mounts {
		h.add(m)
	}
	h.Mode = h.mode()
	if h.Mode == 0 {
		return nil, errors.New("parse mountinfo: no cgroup filesystem is mounted")
	}
	return h, nil
}

// add records one cgroup or cgroup2 mount.
func (h *Hierarchies) add(m *mountinfo.Info) {
	if m.FSType == "cgroup2" {
		if h.Unified == "" {
			h.Unified = m.Mountpoint
			h.Roots[""] = m.Root
		}
		return
	}
	for _, name := range mountControllers(m.VFSOptions) {
		if _, ok := h.V1[name]; !ok {
			h.V1[name] = m.Mountpoint
			h.Roots[name] = m.Root
		}
	}
}

// mountControllers returns the controllers and the "name=" of a v1 mount
// from its super options, such as "rw,cpu,cpuacct" or "rw,xattr,name=systemd".
func mountControllers(superOptions string) []string {
	var names []string
	for _, opt := range strings.Split(superOptions, ",") {
		if strings.HasPrefix(opt, "name=") || slices.Contains(v1Controllers, opt) {
			names = append(names, opt)
		}
	}
	return names
}

// mode tells the layout: a named hierarchy alone ("name=systemd") holds no
// controller and does not make a host v1.
func (h *Hierarchies) mode() Mode {
	controllers := false
	for name := range h.V1 {
		if !strings.HasPrefix(name, "name=") {
			controllers = true
		}
	}
	switch {
	case controllers && h.Unified != "":
		return Hybrid
	case controllers:
		return V1
	case h.Unified != "":
		return V2
	}
	return 0
}

// FindHierarchies reads the cgroup mounts of this process.
func FindHierarchies() (*Hierarchies, error) {
	return parseFile("/proc/self/mountinfo", ParseMountinfo)
}

// Detect returns the cgroup layout of the host.
func Detect() (Mode, error) {
	h, err := FindHierarchies()
	if err != nil {
		return 0, err
	}
	return h.Mode, nil
}

// ParseProcCgroup reads the text of /proc/self/cgroup
// ("ID:CONTROLLERS:PATH" lines) into a map from controller to the cgroup
// path. Co-listed controllers ("cpu,cpuacct") each get the path; the v2
// line "0::/PATH" gets the key ""; "name=systemd" keeps its name.
func ParseProcCgroup(r io.Reader) (map[string]string, error) {
	paths := make(map[string]string)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("parse /proc/self/cgroup: bad line %q", line)
		}
		for _, name := range strings.Split(parts[1], ",") {
			paths[name] = parts[2]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse /proc/self/cgroup: %w", err)
	}
	return paths, nil
}

// SelfPaths reads the cgroups this process runs in.
func SelfPaths() (map[string]string, error) {
	return parseFile("/proc/self/cgroup", ParseProcCgroup)
}

func parseFile[T any](path string, parse func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return parse(f)
}
