package cgroups

import (
	"errors"
	"fmt"

	v1 "github.com/minimal-docker/minimal-docker/internal/cgroups/v1"
	v2 "github.com/minimal-docker/minimal-docker/internal/cgroups/v2"
)

// Saved is what a later process needs to manage the same container cgroup
// (kill --all, delete): the mode, the directory per controller, and the
// directories Create made (which Destroy removes); on a hybrid host also
// the container's cgroup in the v2 tree, if it has one (see hybrid), and
// the directories made for it.
type Saved struct {
	Mode        string            `json:"mode"`
	Paths       map[string]string `json:"paths"`
	Made        []string          `json:"made,omitempty"`
	Unified     string            `json:"unified,omitempty"`
	UnifiedMade []string          `json:"unifiedMade,omitempty"`
}

// Save describes m for Restore.
func Save(m Manager) Saved {
	s := Saved{Mode: m.Mode().String(), Paths: map[string]string{}}
	mm, _ := m.(manager)
	if mm.driver != nil {
		s.Made = mm.Made()
	}
	if h, ok := mm.driver.(*hybrid); ok {
		s.Unified, s.UnifiedMade = h.savedUnified()
		m = manager{h.Manager, Hybrid} // Paths: the v1 ones
	}
	for _, c := range v1.Controllers() {
		if p := m.Path(c); p != "" {
			s.Paths[c] = p
		}
	}
	return s
}

// Restore returns the Manager that Save described.
func Restore(s Saved) (Manager, error) {
	switch s.Mode {
	case V2.String():
		dir := s.Paths["memory"]
		for _, p := range s.Paths {
			if dir == "" {
				dir = p
			}
		}
		if dir == "" {
			return nil, errors.New("cgroups: saved v2 cgroup has no path")
		}
		return manager{v2.Restore(dir, s.Made), V2}, nil
	case V1.String(), Hybrid.String():
		mode := V1
		if s.Mode == Hybrid.String() {
			mode = Hybrid
		}
		v1m := v1.Restore(s.Paths, s.Made)
		if s.Unified != "" {
			return manager{&hybrid{Manager: v1m, unifiedDir: s.Unified,
				unified: v2.Restore(s.Unified, s.UnifiedMade)}, mode}, nil
		}
		return manager{v1m, mode}, nil
	}
	return nil, fmt.Errorf("cgroups: saved cgroup has unknown mode %q", s.Mode)
}
