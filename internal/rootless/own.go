package rootless

import (
	"fmt"
	"os"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
)

// Owner is the user a runtime runs for: its ids on the host, and as the
// runtime's user namespace sees them (a rootless namespace of Enter's
// maps the user's uid to N, after its subordinate ids: Maps).
type Owner struct {
	HostUID, HostGID uint32
	UID, GID         uint32
}

// Own returns the user this runtime runs for (found once per process:
// it can't change). Outside a user namespace,
// the process's own ids. In one, the namespace's owner: its uid as the
// namespace sees it (ioctl NS_GET_OWNER_UID), and the gid that gid_map
// puts where uid_map puts that uid (same line, same offset: a rootless
// layout maps a user's uids and gids alike, Enter's and Podman's both).
var Own = sync.OnceValues(own)

func own() (Owner, error) {
	if !Active() {
		u, g := uint32(os.Getuid()), uint32(os.Getgid())
		return Owner{HostUID: u, HostGID: g, UID: u, GID: g}, nil
	}
	const nsPath = "/proc/self/ns/user"
	f, err := os.Open(nsPath)
	if err != nil {
		return Owner{}, fmt.Errorf("rootless: the user namespace's owner: %w", err)
	}
	uid, err := unix.IoctlGetUint32(int(f.Fd()), unix.NS_GET_OWNER_UID)
	f.Close()
	if err != nil {
		return Owner{}, fmt.Errorf("rootless: the user namespace's owner: ioctl NS_GET_OWNER_UID %s: %w", nsPath, err)
	}
	um, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return Owner{}, fmt.Errorf("rootless: the user namespace's owner: %w", err)
	}
	gm, err := os.ReadFile("/proc/self/gid_map")
	if err != nil {
		return Owner{}, fmt.Errorf("rootless: the user namespace's owner: %w", err)
	}
	uids, err := namespaces.ParseIDMap(um)
	if err != nil {
		return Owner{}, fmt.Errorf("rootless: the user namespace's owner: /proc/self/uid_map: %w", err)
	}
	gids, err := namespaces.ParseIDMap(gm)
	if err != nil {
		return Owner{}, fmt.Errorf("rootless: the user namespace's owner: /proc/self/gid_map: %w", err)
	}
	return ownerIn(uids, gids, uid)
}

// ownerIn finds the owner whose uid inside is uid in the maps (lines of
// uid_map and gid_map).
func ownerIn(um, gm []specs.LinuxIDMapping, uid uint32) (Owner, error) {
	for i, m := range um {
		if uid < m.ContainerID || uid-m.ContainerID >= m.Size {
			continue
		}
		off := uid - m.ContainerID
		if i >= len(gm) || off >= gm[i].Size {
			return Owner{}, fmt.Errorf("rootless: the user namespace's owner: gid_map has no line %d of %d ids to match uid_map's", i+1, off+1)
		}
		return Owner{HostUID: m.HostID + off, HostGID: gm[i].HostID + off, UID: uid, GID: gm[i].ContainerID + off}, nil
	}
	return Owner{}, fmt.Errorf("rootless: the user namespace's owner (uid %d inside) is not in its uid_map", uid)
}

// ChownToOwner gives path to the user this runtime runs for, when the
// runtime is rootless and path is not the user's already: what the user
// must reach from outside the namespace (the runtime directory, the
// holders' list) would otherwise belong to root inside, the user's first
// subordinate id, which the user is not.
func ChownToOwner(path string) error {
	if !Active() {
		return nil
	}
	o, err := Own()
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	if st.Uid == o.UID && st.Gid == o.GID {
		return nil
	}
	if err := unix.Lchown(path, int(o.UID), int(o.GID)); err != nil {
		return &os.PathError{Op: "chown", Path: path, Err: err}
	}
	return nil
}
