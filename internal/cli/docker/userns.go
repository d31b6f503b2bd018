package docker

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
	"github.com/minimal-docker/minimal-docker/internal/spec"
	"github.com/minimal-docker/minimal-docker/internal/userns"
)

// --userns (Podman's names): "host", the default, shares the host's user
// namespace; "auto" gives the container a user namespace of its own with
// a range of userns.Size host ids no other container has, its root (the
// rootfs, or the image's layers) seen through an idmapped mount.
const (
	usernsHost = "host"
	usernsAuto = "auto"
)

// usernsDir is the allocations' directory under --root.
const usernsDir = "userns"

// checkUserns checks the --userns value.
func checkUserns(v string) error {
	switch v {
	case usernsHost, usernsAuto, usernsKeepID:
		return nil
	}
	return fmt.Errorf("invalid --userns %q: want host, auto or keep-id", v)
}

// usernsAllocator is the allocator of --userns=auto's ranges: a range's
// owner is there while its record (a detached container) or its runtime
// state (a foreground run) is.
func (g *globals) usernsAllocator() *userns.Allocator {
	return &userns.Allocator{
		Dir: filepath.Join(g.imageRoot, usernsDir),
		InUse: func(id string) bool {
			if ctrs, err := g.containers(); err == nil && ctrs.Has(id) {
				return true
			}
			st, err := g.store()
			if err != nil {
				return true // can't tell: keep it
			}
			live, err := st.Live(id)
			return live || err != nil
		},
	}
}

// usernsOption allocates container id's range for --userns=auto (nil,
// and nothing allocated, for host); the caller frees it (freeUserns) when
// the container is gone or never ran.
func (g *globals) usernsOption(mode, id string) (spec.Option, error) {
	if mode != usernsAuto {
		return nil, nil
	}
	if os.Geteuid() != 0 || rootless.Active() {
		return nil, fmt.Errorf("--userns=auto: needs root")
	}
	// The container's root must search the way to the image's mount
	// point (as Docker's /var/lib/docker, 0711); its /etc files are
	// idmapped binds the runtime opens (idmapEtc).
	for _, d := range []string{g.imageRoot, filepath.Join(g.imageRoot, runMountPoint)} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("--userns=auto: %w", err)
		}
		if err := os.Chmod(d, 0o711); err != nil {
			return nil, fmt.Errorf("--userns=auto: let the container's root search %s: %w", d, err)
		}
	}
	a := g.usernsAllocator()
	var err error
	if a.Blocks, err = autoBlocks(rootless.SubUIDFile, rootless.SubGIDFile); err != nil {
		return nil, fmt.Errorf("--userns=auto: %w", err)
	}
	start, err := a.Allocate(id)
	if err != nil {
		return nil, fmt.Errorf("--userns=auto: %w", err)
	}
	return spec.WithUserNS(start, userns.Size), nil
}

// freeUserns frees container id's --userns=auto range, if it has one.
func (g *globals) freeUserns(id string, log container.Logger) {
	if err := g.usernsAllocator().Free(id); err != nil && log.W != nil {
		fmt.Fprintf(log.W, "minimal-docker: warning: %v\n", err)
	}
}

// chownUpper gives an image's writable layer (the overlay's upper
// directory, the root of the container's view) to the container's root
// when the spec maps it elsewhere (--userns=auto): what the container
// writes there is its range's on the host.
func chownUpper(s *specs.Spec, img *imageRun) error {
	if img == nil || img.overlay == nil || !spec.IdmapRoot(s) || len(s.Linux.UIDMappings) == 0 {
		return nil
	}
	uid, gid := s.Linux.UIDMappings[0].HostID, s.Linux.GIDMappings[0].HostID
	if err := os.Chown(img.overlay.Upper, int(uid), int(gid)); err != nil {
		return fmt.Errorf("--userns=auto: give the writable layer to the container's root: %w", err)
	}
	return nil
}

// idmapEtc makes the container's /etc files (hosts, hostname,
// resolv.conf: root's on the host, in its private directory) idmapped
// binds when its root is idmapped (--userns=auto): the runtime opens
// them, and they are its root's inside.
func idmapEtc(s *specs.Spec, mounts []specs.Mount) []specs.Mount {
	if !spec.IdmapRoot(s) {
		return mounts
	}
	for i := range mounts {
		mounts[i].Options = append(mounts[i].Options, "idmap")
	}
	return mounts
}

// idmapVolumes makes the named and anonymous volumes of a container whose
// root is idmapped (--userns=auto) idmapped binds too: a volume's files
// are on the host what they are inside (its root's root's), so that
// containers of different ranges share a volume, each seeing its files as
// their owners. made is specMounts' output for mounts, one for one.
func idmapVolumes(s *specs.Spec, mounts []volumeMount, made []specs.Mount) {
	if !spec.IdmapRoot(s) {
		return
	}
	for i, m := range mounts {
		if m.kind == kindVolume {
			made[i].Options = append(made[i].Options, "idmap")
		}
	}
}

// autoUser is the user whose subordinate ids --userns=auto's ranges are
// cut from, where the files give it any (Podman's).
const autoUser = "containers"

// autoBlocks reads autoUser's ranges in the subuid and subgid files:
// none there, none here (the default block); the same in both, those; a
// range is used for a container's uids and gids alike, so ranges that
// differ are an error.
func autoBlocks(subuid, subgid string) ([]userns.Block, error) {
	var got [2][]rootless.Range
	for i, f := range []string{subuid, subgid} {
		rs, err := rootless.ReadSubIDs(f, autoUser, -1)
		if err != nil {
			return nil, err
		}
		got[i] = rs
	}
	if !slices.Equal(got[0], got[1]) {
		return nil, fmt.Errorf("%s and %s give user %q different ranges (%v, %v): its ranges are used for uids and gids alike, make them the same", subuid, subgid, autoUser, got[0], got[1])
	}
	var bs []userns.Block
	for _, r := range got[0] {
		bs = append(bs, userns.Block{Start: r.Start, Count: r.Count})
	}
	return bs, nil
}
