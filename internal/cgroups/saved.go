package cgroups

import (
	"errors"
	"fmt"

	v1 "github.com/minimal-docker/minimal-docker/internal/cgroups/v1"
	v2 "github.com/minimal-docker/minimal-docker/internal/cgroups/v2"
)

// Saved is what a later process needs to manage the same container cgroup
// (kill --all, delete): the mode, the directory per controller (on v2 the
// one directory, under ""), and the
// directories Create made (which Destroy removes); on a hybrid host also
// the container's cgroup in the v2 tree, if it has one (see hybrid), and
// the directories made for it.
type Saved struct {
	Mode        string            `json:"mode"`
	Paths       map[string]string `json:"paths"`
	Made        []string          `json:"made,omitempty"`
	Unified     string            `json:"unified,omitempty"`
	UnifiedMade []string          `json:"unifiedMade,omitempty"`
	// None: the container has no cgroup (None).
	None bool `json:"none,omitempty"`
}

// Save describes m for Restore: what each driver needs to manage the same
// cgroup again.
func Save(m Manager) Saved {
	s := Saved{Mode: m.Mode().String(), Paths: map[string]string{}}
	switch d := m.(type) {
	case *v1.Manager:
		s.Paths, s.Made = d.Paths(), d.Made()
	case *hybrid:
		s.Paths, s.Made = d.Manager.Paths(), d.Manager.Made() // the v1 ones
		s.Unified, s.UnifiedMade = d.savedUnified()
	case *v2.Manager:
		s.Paths[""], s.Made = d.Path(""), d.Made() // one directory, as runc keeps it
	case *None:
		s.None = true
	}
	return s
}

// Restore returns the Manager that Save described.
func Restore(s Saved) (Manager, error) {
	if s.None {
		for _, m := range []Mode{V1, Hybrid, V2} {
			if m.String() == s.Mode {
				return &None{HostMode: m}, nil
			}
		}
		return nil, fmt.Errorf("cgroups: saved cgroup has unknown mode %q", s.Mode)
	}
	switch s.Mode {
	case V1.String():
		return v1.Restore(s.Paths, s.Made), nil
	case Hybrid.String():
		h := &hybrid{Manager: v1.Restore(s.Paths, s.Made)}
		if s.Unified != "" {
			h.hugetlbOnV2, h.unifiedDir, h.unified = true, s.Unified, v2.Restore(s.Unified, s.UnifiedMade)
		}
		return h, nil
	case V2.String():
		// Records written before the one directory was kept under ""
		// list it under each controller's name.
		dir := s.Paths[""]
		for _, p := range s.Paths {
			if dir == "" {
				dir = p
			}
		}
		if dir == "" {
			return nil, errors.New("cgroups: saved v2 cgroup has no path")
		}
		return v2.Restore(dir, s.Made), nil
	}
	return nil, fmt.Errorf("cgroups: saved cgroup has unknown mode %q", s.Mode)
}
