package spec

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
)

// checkUserNS checks the user namespace and its id mappings as runc
// does: mappings need a new user namespace (and a new one needs
// mappings: the runtime writes them between clone and go-ahead); each
// list is one the kernel takes (namespaces.CheckIDMappings); the
// container's root and process.user are mapped (setresuid to an unmapped
// id fails). Joining a user namespace by path is refused by
// namespaces.CloneFlags (checkNamespaces).
func checkUserNS(s *specs.Spec) error {
	l := s.Linux
	maps := len(l.UIDMappings)+len(l.GIDMappings) > 0
	var userns *specs.LinuxNamespace
	for i := range l.Namespaces {
		if l.Namespaces[i].Type == specs.UserNamespace {
			userns = &l.Namespaces[i]
		}
	}
	switch {
	case userns == nil && maps:
		return errors.New("linux.uidMappings/gidMappings: id mappings need a new user namespace (add {\"type\": \"user\"} to linux.namespaces)")
	case userns == nil:
		return nil
	case userns.Path != "" && maps:
		return fmt.Errorf("linux.uidMappings/gidMappings: the user namespace is joined by path (%s), which has its own mappings: give no mappings", userns.Path)
	case userns.Path != "":
		return nil
	}
	if err := namespaces.CheckIDMappings("linux.uidMappings", l.UIDMappings); err != nil {
		return fmt.Errorf("%w (a new user namespace needs them)", err)
	}
	if err := namespaces.CheckIDMappings("linux.gidMappings", l.GIDMappings); err != nil {
		return fmt.Errorf("%w (a new user namespace needs them)", err)
	}
	if _, ok := namespaces.HostID(l.UIDMappings, 0); !ok {
		return errors.New("linux.uidMappings: no mapping of the container's root (uid 0): the runtime sets up the container as its root")
	}
	if _, ok := namespaces.HostID(l.GIDMappings, 0); !ok {
		return errors.New("linux.gidMappings: no mapping of the container's root group (gid 0): the runtime sets up the container as its root")
	}
	if p := s.Process; p != nil {
		if _, ok := namespaces.HostID(l.UIDMappings, p.User.UID); !ok {
			return fmt.Errorf("process.user.uid %d: not mapped by linux.uidMappings", p.User.UID)
		}
		for _, g := range append([]uint32{p.User.GID}, p.User.AdditionalGids...) {
			if _, ok := namespaces.HostID(l.GIDMappings, g); !ok {
				return fmt.Errorf("process.user: gid %d: not mapped by linux.gidMappings", g)
			}
		}
	}
	return nil
}
