package cgroups

import (
	"errors"
	"fmt"

	v1 "github.com/minimal-docker/minimal-docker/internal/cgroups/v1"
	v2 "github.com/minimal-docker/minimal-docker/internal/cgroups/v2"
)

// Saved is what a later process needs to manage the same container cgroup
// (kill --all, delete): the mode, the directory per controller, and the
// directories Create made (which Destroy removes).
type Saved struct {
	Mode  string            `json:"mode"`
	Paths map[string]string `json:"paths"`
	Made  []string          `json:"made,omitempty"`
}

// Save describes m for Restore.
func Save(m Manager) Saved {
	s := Saved{Mode: m.Mode().String(), Paths: map[string]string{}}
	if mm, ok := m.(manager); ok {
		s.Made = mm.Made()
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
		return manager{v1.Restore(s.Paths, s.Made), mode}, nil
	}
	return nil, fmt.Errorf("cgroups: saved cgroup has unknown mode %q", s.Mode)
}
