package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
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
// device node. What only the rootfs can tell (a node in the way) is
// CreateDevices'.
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

// CreateDevices makes the linux.devices nodes (checked: CheckDevices)
// beneath root (before pivot_root), in addition to the standard ones.
// mounts are the spec's mounts: a node whose directory is bind-mounted
// from the host is not created (that would change the host); it must
// already be there, as the requested device.
func CreateDevices(root string, devices []specs.LinuxDevice, mounts []specs.Mount) error {
	for _, d := range devices {
		if err := createDevice(root, d, mounts); err != nil {
			return fmt.Errorf("linux.devices %s: %w", d.Path, err)
		}
	}
	return nil
}

func createDevice(root string, d specs.LinuxDevice, mounts []specs.Mount) error {
	typ, rdev, err := deviceNode(d)
	if err != nil {
		return err
	}
	mode := uint32(DefaultDeviceMode)
	if d.FileMode != nil {
		mode = uint32(*d.FileMode) & 0o7777
	}
	var uid, gid int
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	target, err := securejoin.SecureJoin(root, d.Path)
	if err != nil {
		return err
	}
	if m := bindMountOver(mounts, d.Path); m != "" {
		if err := sameDevice(target, typ, rdev); err != nil {
			return fmt.Errorf("%s is bind-mounted from the host, where the node is not created (it would change the host): %w", m, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if err := unix.Mknod(target, typ|mode, int(rdev)); err != nil {
		if !errors.Is(err, unix.EEXIST) {
			return &os.PathError{Op: "mknod", Path: target, Err: err}
		}
		// A standard node listed again (runc's defaults often are) is
		// fine; anything else in the way is an error, as the spec says.
		if err := sameDevice(target, typ, rdev); err != nil {
			return err
		}
	}
	if err := unix.Chmod(target, mode); err != nil {
		return &os.PathError{Op: "chmod", Path: target, Err: err}
	}
	if err := unix.Lchown(target, uid, gid); err != nil {
		return &os.PathError{Op: "chown", Path: target, Err: err}
	}
	return nil
}

// sameDevice checks that target is a node of type typ and number rdev.
func sameDevice(target string, typ uint32, rdev uint64) error {
	var st unix.Stat_t
	if err := unix.Lstat(target, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return errors.New("it does not exist")
		}
		return &os.PathError{Op: "lstat", Path: target, Err: err}
	}
	if st.Mode&unix.S_IFMT != typ || (typ != unix.S_IFIFO && st.Rdev != rdev) {
		return fmt.Errorf("a file that is not the requested device (%s %d:%d) is in its place",
			fileType(typ), unix.Major(rdev), unix.Minor(rdev))
	}
	return nil
}

func fileType(typ uint32) string {
	switch typ {
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFIFO:
		return "fifo"
	}
	return "file"
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
