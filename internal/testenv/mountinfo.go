package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// Mount is one line of a mount table (proc(5) mountinfo) as
// github.com/moby/sys/mountinfo reads it (cgroups.ParseMountinfo reads the
// table with it too), and the line itself for messages.
type Mount struct {
	mountinfo.Info
	Line string
}

// Key identifies a mount independently of its (reused) mount ID.
func (m Mount) Key() string {
	return strings.Join([]string{m.Mountpoint, m.Root, m.FSType, m.Source}, " ")
}

// ReadMountinfo reads this process's mount table.
func ReadMountinfo() ([]Mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return ParseMountinfo(string(b))
}

// ParseMountinfo parses mountinfo text (a table a container printed, say);
// empty lines are passed over.
func ParseMountinfo(text string) ([]Mount, error) {
	var mounts []Mount
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		infos, err := mountinfo.GetMountsFromReader(strings.NewReader(line), nil)
		if err != nil {
			return nil, fmt.Errorf("mountinfo: %w", err)
		}
		for _, in := range infos {
			mounts = append(mounts, Mount{Info: *in, Line: line})
		}
	}
	return mounts, nil
}

// IsUnder reports whether path is dir or beneath it.
func IsUnder(path, dir string) bool {
	dir = filepath.Clean(dir)
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// MountedUnder lists the mount points of this process's mount table that
// are dir or beneath it.
func MountedUnder(dir string) ([]string, error) {
	mounts, err := ReadMountinfo()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range mounts {
		if IsUnder(m.Mountpoint, dir) {
			out = append(out, m.Mountpoint)
		}
	}
	return out, nil
}
