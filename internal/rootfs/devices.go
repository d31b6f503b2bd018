package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// deviceType is the table of linux.devices types -> file type bits (a
// switch: a map would be built at init, which every command pays).
func deviceType(t string) (uint32, bool) {
	switch t {
	case "c", "u": // u: unbuffered character device, the same node
		return unix.S_IFCHR, true
	case "b":
		return unix.S_IFBLK, true
	case "p":
		return unix.S_IFIFO, true
	}
	return 0, false
}

// DefaultDeviceMode is the mode of a linux.devices node without fileMode
// (as runc).
const DefaultDeviceMode = 0o666

// CheckDevices checks linux.devices before anything is made: each a known
// type, at an absolute path below the root, with a major:minor for a
// device node. What only the rootfs can tell (a node in the way) is the
// init's to find.
func CheckDevices(devices []specs.LinuxDevice) error {
	for _, d := range devices {
		if _, _, err := deviceNode(d); err != nil {
			return fmt.Errorf("linux.devices %s: %w", d.Path, err)
		}
	}
	return nil
}

// DeviceNode returns the file type (S_IFCHR, S_IFBLK, S_IFIFO) and the
// device number of the node of d, or the error naming what is wrong.
func DeviceNode(d specs.LinuxDevice) (typ uint32, rdev uint64, err error) { return deviceNode(d) }

// deviceNode returns the file type and the device number of the node of
// d (CheckDevices' rule).
func deviceNode(d specs.LinuxDevice) (typ uint32, rdev uint64, err error) {
	typ, ok := deviceType(d.Type)
	if !ok {
		return 0, 0, fmt.Errorf("unknown type %q (want c, b, u or p)", d.Type)
	}
	if !filepath.IsAbs(d.Path) || filepath.Clean(d.Path) == "/" {
		return 0, 0, errors.New("path must be an absolute file path inside the container")
	}
	if typ != unix.S_IFIFO {
		if d.Major < 0 || d.Minor < 0 {
			return 0, 0, fmt.Errorf("invalid major:minor %d:%d", d.Major, d.Minor)
		}
		rdev = unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	}
	return typ, rdev, nil
}

// BindMountOver returns the destination of the spec mount that holds p
// (the innermost one) when it is a bind mount, or "": a node there is the
// host's, not to be made.
func BindMountOver(mounts []specs.Mount, p string) string { return bindMountOver(mounts, p) }

// bindMountOver returns the destination of the spec mount that holds p
// (the innermost one) when it is a bind mount, or "".
func bindMountOver(mounts []specs.Mount, p string) string {
	p = filepath.Clean(p)
	best, bind := "", false
	for _, m := range mounts {
		dest := filepath.Clean(m.Destination)
		if !(p == dest || strings.HasPrefix(p, dest+"/") || dest == "/") || len(dest) < len(best) {
			continue
		}
		best = dest
		bind = m.Type == "bind" || parseOptions(m.Options).flags&unix.MS_BIND != 0
	}
	if bind {
		return best
	}
	return ""
}
