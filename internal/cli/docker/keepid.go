package docker

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// usernsKeepID is Podman's --userns=keep-id, for a rootless run: the
// container gets a user namespace of its own in which the user's uid and
// gid are what they are on the host, and its process runs as them (unless
// -u says otherwise); the ids below them are the user's subordinate ids
// shifted by one, those above as they are. So what the user's files are
// on the host they are in the container: the user's.
const usernsKeepID = "keep-id"

// keepIDOption reads this rootless runtime's maps (/proc/self/uid_map,
// gid_map: the user's ids as 0, its subordinate ids after) and returns
// the container's, with the user's uid and gid.
func keepIDOption() (spec.Option, uint32, uint32, error) {
	if !rootless.Active() {
		return nil, 0, 0, errors.New("--userns=keep-id: for a rootless run (as root, the user's ids are the host's: --userns=host)")
	}
	var maps [2][]specs.LinuxIDMapping
	var ids [2]uint32
	for i, f := range []string{"/proc/self/uid_map", "/proc/self/gid_map"} {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("--userns=keep-id: %w", err)
		}
		own, ok := rootless.HostID(b, 0)
		if !ok {
			return nil, 0, 0, fmt.Errorf("--userns=keep-id: %s maps no id 0", f)
		}
		if maps[i], err = keepIDMap(own, mappedCount(b)); err != nil {
			return nil, 0, 0, err
		}
		ids[i] = own
	}
	return func(s *specs.Spec) error {
		s.Linux.UIDMappings, s.Linux.GIDMappings = maps[0], maps[1]
		if !namespaces.In(s.Linux.Namespaces, specs.UserNamespace) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}
		return nil
	}, ids[0], ids[1], nil
}

// keepIDMap is the container's map of keep-id for the user's host id
// own, in a rootless namespace of n ids (0, the user, and its
// subordinate ids 1 to n-1): own is 0 (the user), the ids below it the
// subordinate ids 1 to own, those above it themselves.
func keepIDMap(own, n uint32) ([]specs.LinuxIDMapping, error) {
	if own == 0 || own >= n-1 {
		return nil, fmt.Errorf("--userns=keep-id: your id %d needs a range of more than %d subordinate ids (it has %d)", own, own, n-1)
	}
	return []specs.LinuxIDMapping{
		{ContainerID: 0, HostID: 1, Size: own},
		{ContainerID: own, HostID: 0, Size: 1},
		{ContainerID: own + 1, HostID: own + 1, Size: n - own - 1},
	}, nil
}

// mappedCount is how many ids a map's text maps.
func mappedCount(b []byte) uint32 {
	var n uint32
	for _, l := range strings.Split(string(b), "\n") {
		var in, out, c uint32
		if _, err := fmt.Sscan(l, &in, &out, &c); err == nil {
			n += c
		}
	}
	return n
}
