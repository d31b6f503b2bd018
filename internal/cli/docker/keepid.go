package docker

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// usernsKeepID is Podman's --userns=keep-id, for a rootless run: the
// container gets a user namespace of its own in which the user's uid and
// gid are what they are on the host, and its process runs as them (unless
// -u says otherwise); the other ids are the rootless namespace's as they
// are (root is root, the owner of an image's files), but for the one id
// the user's takes. So what the user's files are on the host they are in
// the container: the user's.
const usernsKeepID = "keep-id"

// keepIDOption reads this rootless runtime's maps (/proc/self/uid_map,
// gid_map: the user's subordinate ids from 0, the user's own after them)
// and returns the container's, with the user's uid and gid.
func keepIDOption() (spec.Option, uint32, uint32, error) {
	if !rootless.Active() {
		return nil, 0, 0, errors.New("--userns=keep-id: for a rootless run (as root, the user's ids are the host's: --userns=host)")
	}
	o, err := rootless.Own()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("--userns=keep-id: %w", err)
	}
	var maps [2][]specs.LinuxIDMapping
	for i, id := range []struct {
		file        string
		host, given uint32
	}{{"/proc/self/uid_map", o.HostUID, o.UID}, {"/proc/self/gid_map", o.HostGID, o.GID}} {
		b, err := os.ReadFile(id.file)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("--userns=keep-id: %w", err)
		}
		lines, err := namespaces.ParseIDMap(b)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("--userns=keep-id: %s: %w", id.file, err)
		}
		var n uint32
		for _, m := range lines {
			n += m.Size
		}
		if maps[i], err = keepIDMap(id.host, id.given, n); err != nil {
			return nil, 0, 0, err
		}
	}
	return func(s *specs.Spec) error {
		s.Linux.UIDMappings, s.Linux.GIDMappings = maps[0], maps[1]
		if !namespaces.In(s.Linux.Namespaces, specs.UserNamespace) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}
		return nil
	}, o.HostUID, o.HostGID, nil
}

// keepIDMap is the container's map of keep-id in a rootless namespace of
// n ids, where the user (own on the host) is id user: own is user, and
// every other container id is the namespace's id of its place among the
// n-1 ids that are not the user's (so, in Enter's layout, itself; the
// namespace's id own goes unmapped).
func keepIDMap(own, user, n uint32) ([]specs.LinuxIDMapping, error) {
	if n < 2 || own > n-2 {
		return nil, fmt.Errorf("--userns=keep-id: your id %d needs more than %d subordinate ids (you have %d)", own, own, max(n, 1)-1)
	}
	var m []specs.LinuxIDMapping
	// add maps the container's ids from c to those from place p on
	// among the ids that are not the user's.
	add := func(c, p, size uint32) {
		for size > 0 {
			h, k := p, size
			if p >= user {
				h = p + 1
			} else if p+k > user {
				k = user - p
			}
			m = append(m, specs.LinuxIDMapping{ContainerID: c, HostID: h, Size: k})
			c, p, size = c+k, p+k, size-k
		}
	}
	add(0, 0, own)
	m = append(m, specs.LinuxIDMapping{ContainerID: own, HostID: user, Size: 1})
	add(own+1, own+1, n-2-own)
	return m, nil
}
