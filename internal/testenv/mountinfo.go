package testenv

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mount is one line of /proc/self/mountinfo (proc(5)).
type Mount struct {
	Line       string
	Root       string // field 4: the root of the mount within its filesystem
	MountPoint string // field 5
	Options    string // field 6: per-mount options
	FSType     string
	Source     string
}

// Key identifies a mount independently of its (reused) mount ID.
func (m Mount) Key() string {
	return strings.Join([]string{m.MountPoint, m.Root, m.FSType, m.Source}, " ")
}

// ReadMountinfo reads this process's mount table.
func ReadMountinfo() ([]Mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return ParseMountinfo(string(b))
}

// ParseMountinfo parses mountinfo text.
func ParseMountinfo(text string) ([]Mount, error) {
	var mounts []Mount
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 2 {
			return nil, fmt.Errorf("mountinfo: unexpected line %q", line)
		}
		mounts = append(mounts, Mount{
			Line:       line,
			Root:       unescapeMountinfo(f[3]),
			MountPoint: unescapeMountinfo(f[4]),
			Options:    f[5],
			FSType:     g[0],
			Source:     g[1],
		})
	}
	return mounts, sc.Err()
}

// unescapeMountinfo undoes the octal escapes (\040 for space) of mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
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
		if IsUnder(m.MountPoint, dir) {
			out = append(out, m.MountPoint)
		}
	}
	return out, nil
}
