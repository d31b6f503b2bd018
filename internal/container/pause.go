package container

import (
	"errors"
	"fmt"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
)

// Pause freezes every process of a running container (the freezer cgroup
// on v1, cgroup.freeze on v2) and saves it paused. If the status cannot be
// saved the container is thawed again.
func Pause(store *Store, id string) error { return freeze(store, id, OpPause) }

// Resume thaws a paused container and saves it running. If the status
// cannot be saved the container is frozen again, so that what is saved
// stays true.
func Resume(store *Store, id string) error { return freeze(store, id, OpResume) }

// freeze carries out op, OpPause (freeze the container's cgroup) or
// OpResume (thaw it), and saves the status op leads to; if that cannot be
// saved, it undoes what it did.
func freeze(store *Store, id string, op Op) error {
	h, st, err := loadFor(store, id, op)
	if err != nil {
		return err
	}
	defer h.Close()
	mgr, err := cgroups.Restore(savedOf(st))
	if err != nil {
		return err
	}
	do, undo := mgr.Freeze, mgr.Thaw
	if op == OpResume {
		do, undo = undo, do
	}
	if err := do(); err != nil {
		return fmt.Errorf("%s %s: %w", op, id, err)
	}
	st.Status = next(op)
	if err := h.Save(st); err != nil {
		return errors.Join(fmt.Errorf("%s %s: %w", op, id, err), undo())
	}
	return nil
}
