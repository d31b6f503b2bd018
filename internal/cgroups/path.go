package cgroups

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// containerPath checks cgroupsPath and returns it cleaned; a relative
// result is placed beneath this process's own cgroup, an absolute one
// beneath the root of each hierarchy.
//
// The systemd form "SLICE:PREFIX:NAME", which containerd's CRI plugin
// passes even with its cgroupfs driver ("test.slice:cri-containerd:abc"),
// is read as runc reads it without --systemd-cgroup: a relative path, one
// directory of that name beneath this process's cgroup. Mapping it to
// "SLICE/PREFIX-NAME" instead would make a SLICE directory that every pod
// shares and none removes.
func containerPath(cgroupsPath string) (string, error) {
	p := cgroupsPath
	switch {
	case p == "":
		return "", fmt.Errorf("cgroupsPath %q: empty", cgroupsPath)
	case slices.Contains(strings.Split(p, "/"), ".."):
		return "", fmt.Errorf("cgroupsPath %q: \"..\" is not allowed", cgroupsPath)
	}
	p = path.Clean(p)
	if p == "." || p == "/" {
		return "", fmt.Errorf("cgroupsPath %q: names no cgroup of its own", cgroupsPath)
	}
	return p, nil
}

// place returns the directory of the container's cgroup p (from
// containerPath) in a hierarchy mounted at mount that shows the cgroup root
// at its mount point. self is the cgroup this process runs in, in that
// hierarchy (found tells whether /proc/self/cgroup listed it); only a
// relative p needs it.
func place(mount, root, self string, found bool, p string) (string, error) {
	base := mount
	if !path.IsAbs(p) {
		if !found {
			return "", fmt.Errorf("cgroupsPath %q: this process's own cgroup under %s is unknown", p, mount)
		}
		rel, err := beneathRoot(self, root)
		if err != nil {
			return "", fmt.Errorf("cgroupsPath %q: %w", p, err)
		}
		base = filepath.Join(mount, rel)
	}
	dir := filepath.Join(base, p)
	if !strings.HasPrefix(dir, filepath.Clean(mount)+"/") {
		return "", fmt.Errorf("cgroupsPath %q: %s is outside the mount point %s", p, dir, mount)
	}
	return dir, nil
}

// beneathRoot returns the cgroup self as seen below a mount that shows the
// cgroup root at its mount point.
func beneathRoot(self, root string) (string, error) {
	switch {
	case root == "" || root == "/":
		return self, nil
	case self == root:
		return "/", nil
	case strings.HasPrefix(self, root+"/"):
		return strings.TrimPrefix(self, root), nil
	}
	return "", fmt.Errorf("this process's cgroup %s is not visible under the mount, which shows %s", self, root)
}
