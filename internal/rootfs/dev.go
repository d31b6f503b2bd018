package rootfs

import (
	"os"

	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"

	"golang.org/x/sys/unix"
)

// devNode is one standard device node.
type devNode struct {
	Name         string
	Major, Minor uint32
}

// DevNodes are the nodes every container's /dev holds (character devices,
// mode 0666, owned by root).
var DevNodes = []devNode{
	{"null", 1, 3},
	{"zero", 1, 5},
	{"full", 1, 7},
	{"random", 1, 8},
	{"urandom", 1, 9},
	{"tty", 5, 0},
}

// DevLinks are the symlinks every container's /dev holds: name -> target.
var DevLinks = [][2]string{
	{"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
	{"ptmx", "pts/ptmx"},
}

// MakeDev creates the standard nodes and links in root's /dev, which must
// be the container's own tmpfs.
func MakeDev(root string) error {
	// Resolved inside the rootfs, as the /dev mount was: a rootfs whose
	// /dev is a symlink must not get nodes made on the host.
	dev, err := securejoin.SecureJoin(root, "/dev")
	if err != nil {
		return &os.PathError{Op: "resolve", Path: "/dev", Err: err}
	}
	for _, d := range DevNodes {
		p := filepath.Join(dev, d.Name)
		if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(d.Major, d.Minor))); err != nil {
			return &os.PathError{Op: "mknod", Path: p, Err: err}
		}
		if err := unix.Chmod(p, 0o666); err != nil {
			return &os.PathError{Op: "chmod", Path: p, Err: err}
		}
	}
	for _, l := range DevLinks {
		p := filepath.Join(dev, l[0])
		if err := os.Symlink(l[1], p); err != nil {
			return err
		}
	}
	return nil
}
