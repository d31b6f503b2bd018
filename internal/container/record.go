package container

import (
	"os"
	"slices"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// record keeps a container's entry in the store while launch makes the
// container, so that wherever the command is killed, a later command finds
// what it left and can remove it (delete, prune):
//
//	Store.Create  the directory, locked; no state yet (loads as stopped)
//	planned       status creating: the init's pid, and the cgroup about to
//	              be made (its directories and the missing parents)
//	started       the init has its go-ahead: the final status (created, or
//	              running in the foreground), the cgroup as made, the
//	              config copy, the owner of a foreground run
//
// The caller holds the lock throughout, so no other command sees the
// container before launch returns; one that sees it creating afterwards
// has found a killed create.
type record struct {
	h  *Handle
	s  *specs.Spec
	o  Options
	dl debugLog
	// status is what started saves: Created (create) or Running (a
	// foreground run, which starts the process as soon as it is ready).
	status Status
	st     *State // the state saved last
}

// planned saves the container as creating, with the cgroup that mgr is
// about to make. The directories are listed before they exist: a kill
// before the cgroup is complete leaves a record of every directory in it
// (Destroy passes over the ones that were not made yet).
func (r *record) planned(pid int, mgr cgroups.Manager) error {
	st, err := newState(r.o.ID, r.o.Bundle, r.s, pid, r.o.ExecFifo, mgr)
	if err != nil {
		return err
	}
	st.Status = Creating
	if st.CgroupMade, err = plannedCgroup(st.CgroupPaths); err != nil {
		return err
	}
	if err := r.h.Save(st); err != nil {
		return err
	}
	r.st = st
	return nil
}

// started saves the container's config copy (OCI front door) and its state
// with r.status, now that its cgroup exists; launch calls it, after
// planned, while the init sets itself up.
func (r *record) started(mgr cgroups.Manager) error {
	st := *r.st
	st.Status = r.status
	saved := cgroups.Save(mgr)
	st.CgroupMade, st.CgroupUnified, st.CgroupUnifiedMade = saved.Made, saved.Unified, saved.UnifiedMade
	var err error
	if r.o.Bundle != "" {
		if st.Config, err = saveConfig(r.h, r.s); err != nil {
			return err
		}
	}
	if !r.o.Detached {
		st.OwnerPid = os.Getpid()
		if st.OwnerStartTime, err = proc.StartTime(st.OwnerPid); err != nil {
			return err
		}
	}
	if err := r.h.Save(&st); err != nil {
		return err
	}
	r.st = &st
	return nil
}

func newState(id, bundle string, s *specs.Spec, pid int, fifo string, mgr cgroups.Manager) (*State, error) {
	start, err := proc.StartTime(pid)
	if err != nil {
		return nil, err
	}
	saved := cgroups.Save(mgr)
	return &State{
		OCIVersion:   specs.Version,
		ID:           id,
		Status:       Created,
		Pid:          pid,
		PidStartTime: start,
		Bundle:       bundle,
		Rootfs:       s.Root.Path,
		Annotations:  s.Annotations,
		Created:      time.Now().UTC(),
		ExecFifo:     fifo,
		CgroupMode:   saved.Mode,
		CgroupPaths:  saved.Paths,
		CgroupMade:   saved.Made,
		// A hybrid host's v2 cgroup (hugepage limits) exists only once
		// Create made it: started records it.
		CgroupUnified:     saved.Unified,
		CgroupUnifiedMade: saved.UnifiedMade,
		CgroupNone:        saved.None,
	}, nil
}

// plannedCgroup lists the directories a cgroup Manager's Create will make
// for the container directories paths (controller -> directory): each
// directory and its missing parents, parents first (as Saved.Made). A
// container directory that exists already is left out: Create fails on it,
// and it is not this container's to remove.
func plannedCgroup(paths map[string]string) ([]string, error) {
	dirs := make([]string, 0, len(paths))
	for _, d := range paths {
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	slices.Sort(dirs)
	var made []string
	for _, d := range dirs {
		missing, err := cgfs.Missing(d)
		if err != nil {
			return nil, err
		}
		for _, m := range missing {
			if !slices.Contains(made, m) {
				made = append(made, m)
			}
		}
	}
	return made, nil
}
