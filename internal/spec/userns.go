package spec

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// checkUserNS checks the user namespace and its id mappings as runc
// does: mappings need a new user namespace (and a new one needs
// mappings: the runtime writes them between clone and go-ahead); each
// list is one the kernel takes (namespaces.CheckIDMappings); the
// container's root and process.user are mapped (setresuid to an unmapped
// id fails).
//
// A user namespace joined by path has its own maps, read from a process
// in it (namespaces.JoinedUser), as runc 1.2 does: the config's, when
// it gives them, must be the same; when it gives none, the check fills
// them in from the namespace (the runtime then knows the host ids of the
// container's root). A namespace that no process is in takes the
// config's maps as they are, and needs them.
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
	case userns == nil && idmapped(s) >= 0:
		return fmt.Errorf("mounts[%d] (%s): an idmapped mount needs a new user namespace of the container's (add {\"type\": \"user\"} to linux.namespaces, with its mappings)", idmapped(s), s.Mounts[idmapped(s)].Destination)
	case userns != nil && userns.Path != "" && idmapped(s) >= 0 && !namespaces.JoinsUser(l.Namespaces):
		return fmt.Errorf("mounts[%d] (%s): an idmapped mount needs a user namespace other than the runtime's own, which %s names", idmapped(s), s.Mounts[idmapped(s)].Destination, userns.Path)
	case userns == nil && maps:
		return errors.New("linux.uidMappings/gidMappings: id mappings need a new user namespace (add {\"type\": \"user\"} to linux.namespaces)")
	case userns == nil:
		return nil
	case userns.Path != "":
		if err := joinedMaps(s, userns.Path, maps); err != nil {
			return err
		}
	}
	need := "a new user namespace needs them"
	if userns.Path != "" {
		need = "the user namespace joined by path has none in its uid_map or gid_map"
	}
	if err := namespaces.CheckIDMappings("linux.uidMappings", l.UIDMappings); err != nil {
		return fmt.Errorf("%w (%s)", err, need)
	}
	if err := namespaces.CheckIDMappings("linux.gidMappings", l.GIDMappings); err != nil {
		return fmt.Errorf("%w (%s)", err, need)
	}
	if _, ok := namespaces.HostID(l.UIDMappings, 0); !ok {
		return errors.New("linux.uidMappings: no mapping of the container's root (uid 0): the runtime sets up the container as its root")
	}
	if _, ok := namespaces.HostID(l.GIDMappings, 0); !ok {
		return errors.New("linux.gidMappings: no mapping of the container's root group (gid 0): the runtime sets up the container as its root")
	}
	if err := checkIDMapMounts(s); err != nil {
		return err
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

// joinedMaps checks the config's maps (given says whether it has any)
// against those of the user namespace at path, or fills them in from it
// (checkUserNS).
func joinedMaps(s *specs.Spec, path string, given bool) error {
	l := s.Linux
	if !filepath.IsAbs(path) {
		return fmt.Errorf("namespace user: path %q is not absolute", path)
	}
	j, err := namespaces.JoinedUser(path)
	uid, gid := j.UID, j.GID
	switch {
	case errors.Is(err, namespaces.ErrNoProcessInUserNS) && given:
		return nil // the kernel's maps are the namespace's; the config's are taken as they are
	case errors.Is(err, namespaces.ErrNoProcessInUserNS):
		return fmt.Errorf("%w: give linux.uidMappings and linux.gidMappings", err)
	case err != nil:
		return err
	case j.SetgroupsDenied && s.Process != nil && len(s.Process.User.AdditionalGids) > 0:
		return fmt.Errorf("process.user.additionalGids: the user namespace joined by path (%s) denies setgroups (its setgroups file says deny)", path)
	case !given:
		l.UIDMappings, l.GIDMappings = uid, gid
		return nil
	}
	for _, m := range []struct {
		name         string
		config, nsfs []specs.LinuxIDMapping
	}{{"uidMappings", l.UIDMappings, uid}, {"gidMappings", l.GIDMappings, gid}} {
		if !sameMaps(m.config, m.nsfs) {
			return fmt.Errorf("linux.%s %s: not the maps of the user namespace joined by path (%s): %s", m.name, namespaces.MapText(m.config), path, namespaces.MapText(m.nsfs))
		}
	}
	return nil
}

// sameMaps says whether a and b hold the same lines, in any order.
func sameMaps(a, b []specs.LinuxIDMapping) bool {
	byID := func(x, y specs.LinuxIDMapping) int { return cmp.Compare(x.ContainerID, y.ContainerID) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, byID)
	slices.SortFunc(b, byID)
	return slices.Equal(a, b)
}

// idmapped is the index of the first idmapped mount (rootfs.IDMap), or -1.
func idmapped(s *specs.Spec) int {
	for i, m := range s.Mounts {
		if on, _ := rootfs.IDMap(m); on {
			return i
		}
	}
	return -1
}

// checkIDMapMounts checks the idmapped mounts (rootfs.IDMap) as runc 1.2
// does: binds only, with both mappings or neither (the container's
// own), each a list the kernel takes, and no more than a Go frame
// carries.
func checkIDMapMounts(s *specs.Spec) error {
	n := 0
	for i, m := range s.Mounts {
		on, _ := rootfs.IDMap(m)
		if !on {
			continue
		}
		if n++; n >= handshake.MaxTrees {
			return fmt.Errorf("mounts[%d] (%s): more than %d idmapped mounts", i, m.Destination, handshake.MaxTrees-1)
		}
		flags, _, _ := rootfs.ParseOptions(m.Options)
		if m.Type != "bind" && flags&unix.MS_BIND == 0 {
			return fmt.Errorf("mounts[%d] (%s): only a bind mount can be idmapped, not type %q", i, m.Destination, m.Type)
		}
		if len(m.UIDMappings) == 0 && len(m.GIDMappings) == 0 {
			continue
		}
		for _, f := range []struct {
			name string
			m    []specs.LinuxIDMapping
		}{{"uidMappings", m.UIDMappings}, {"gidMappings", m.GIDMappings}} {
			if err := namespaces.CheckIDMappings(fmt.Sprintf("mounts[%d].%s", i, f.name), f.m); err != nil {
				return fmt.Errorf("%w (an idmapped mount needs both uidMappings and gidMappings, or neither for the container's)", err)
			}
		}
	}
	return nil
}

// AnnotationIdmapRoot, set to "true" in a config with a new user
// namespace, makes the container's root (root.path, or the layers of
// AnnotationRootOverlay's overlay) an idmapped mount with the container's
// own mapping, made by the runtime: the host's root-owned files are then
// the container root's, and what it writes through it is the host's root's
// again (the overlay's upper directory excepted: owned by the range).
// minimal-runc honours it (minimal-docker run --userns=auto sets it);
// runc and crun ignore it.
const AnnotationIdmapRoot = "org.minimal-docker.idmap-root"

// IdmapRoot says whether the spec asks for AnnotationIdmapRoot.
func IdmapRoot(s *specs.Spec) bool { return s.Annotations[AnnotationIdmapRoot] == "true" }

// WithUserNS gives the container a new user namespace mapping its ids 0
// to size-1 onto the host's from hostID (uid and gid alike), its root
// seen through an idmapped mount (AnnotationIdmapRoot): --userns=auto.
func WithUserNS(hostID, size uint32) Option {
	return func(s *specs.Spec) error {
		m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: hostID, Size: size}}
		s.Linux.UIDMappings, s.Linux.GIDMappings = m, m
		if !namespaces.In(s.Linux.Namespaces, specs.UserNamespace) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}
		return withAnnotation(AnnotationIdmapRoot)(s)
	}
}
