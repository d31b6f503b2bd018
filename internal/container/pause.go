package container

import (
	"errors"
	"fmt"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
)

// Pause freezes every process of a running container (the freezer cgroup
// on v1, cgroup.freeze on v2) and saves it paused. If the status cannot be
// saved the container is thawed again.
func Pause(store *Store, id string) error {
	h, st, err := load(store, id)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := allow(OpPause, id, st.Status); err != nil {
		return err
	}
	mgr, err := cgroups.Restore(savedOf(st))
	if err != nil {
		return err
	}
	if err := mgr.Freeze(); err != nil {
		return fmt.Errorf("pause %s: %w", id, err)
	}
	st.Status = next(OpPause)
	if err := h.Save(st); err != nil {
		return errors.Join(fmt.Errorf("pause %s: %w", id, err), mgr.Thaw())
	}
	return nil
}

// Resume thaws a paused container and saves it running. If the status
// cannot be saved the container is frozen again, so that what is saved
// stays true.
func Resume(store *Store, id string) error {
	h, st, err := load(store, id)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := allow(OpResume, id, st.Status); err != nil {
		return err
	}
	mgr, err := cgroups.Restore(savedOf(st))
	if err != nil {
		return err
	}
	if err := mgr.Thaw(); err != nil {
		return fmt.Errorf("resume %s: %w", id, err)
	}
	st.Status = next(OpResume)
	if err := h.Save(st); err != nil {
		return errors.Join(fmt.Errorf("resume %s: %w", id, err), mgr.Freeze())
	}
	return nil
}
