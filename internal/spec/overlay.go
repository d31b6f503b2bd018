package spec

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
)

// AnnotationRootOverlay, in a bundle's config.json, makes the container's
// root an overlay that the init mounts on root.path inside the container's
// own mount namespace (nothing is mounted on the host): a JSON object
// {"lower": [DIR, ...] (top first), "upper": DIR, "work": DIR,
// "volatile": BOOL, "mount_program": PATH}, handshake.Overlay; with
// mount_program (fuse-overlayfs) the runtime mounts that program's
// overlay instead of the kernel's. minimal-runc honours it, so that a
// container of an image can run through the OCI front door as it runs
// through `minimal-docker run`; runc and crun ignore it.
const AnnotationRootOverlay = "org.minimal-docker.root-overlay"

// RootOverlay returns the overlay AnnotationRootOverlay asks for, nil
// without the annotation, or an error naming what is wrong with it.
func RootOverlay(s *specs.Spec) (*handshake.Overlay, error) {
	v, ok := s.Annotations[AnnotationRootOverlay]
	if !ok {
		return nil, nil
	}
	var o handshake.Overlay
	if err := json.Unmarshal([]byte(v), &o); err != nil {
		return nil, fmt.Errorf("annotation %s: %w", AnnotationRootOverlay, err)
	}
	if len(o.Lower) == 0 {
		return nil, fmt.Errorf("annotation %s: no lower directory", AnnotationRootOverlay)
	}
	for _, d := range append([]string{o.Upper, o.Work}, o.Lower...) {
		if !filepath.IsAbs(d) || filepath.Clean(d) != d {
			return nil, fmt.Errorf("annotation %s: directory %q: want an absolute, clean path", AnnotationRootOverlay, d)
		}
	}
	if o.MountProgram != "" && !filepath.IsAbs(o.MountProgram) {
		return nil, fmt.Errorf("annotation %s: mount_program %q: want an absolute path", AnnotationRootOverlay, o.MountProgram)
	}
	return &o, nil
}

// WithRootOverlay makes the container's root the overlay o (see
// AnnotationRootOverlay).
func WithRootOverlay(o handshake.Overlay) Option {
	return func(s *specs.Spec) error {
		b, err := json.Marshal(o)
		if err != nil {
			return fmt.Errorf("annotation %s: %w", AnnotationRootOverlay, err)
		}
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[AnnotationRootOverlay] = string(b)
		return nil
	}
}
