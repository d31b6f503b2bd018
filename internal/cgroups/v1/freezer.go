package v1

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// The freezer's control file and the states it reads (and takes: FROZEN,
// THAWED). FREEZING is the kernel's word for "asked, not yet done".
const (
	freezerState = "freezer.state"
	frozen       = "FROZEN"
	freezing     = "FREEZING"
	thawed       = "THAWED"
)

// freezeTimeout bounds how long Freeze and Thaw wait for the kernel.
const freezeTimeout = 5 * time.Second

// Freeze stops every process in the container's cgroup: it writes FROZEN
// to freezer.state and waits (at most freezeTimeout) until the kernel
// reads back FROZEN. A cgroup stuck FREEZING is thawed again and an error
// returned, so that a failed Freeze leaves the container running.
func (m *Manager) Freeze() error {
	dir, err := m.freezerDir()
	if err != nil {
		return err
	}
	return freeze(dir, freezeTimeout, func() (string, error) { return cgfs.ReadFile(dir, freezerState) })
}

// Thaw lets the processes of the container's frozen cgroup run again: it
// writes THAWED and waits (at most freezeTimeout) until it reads THAWED.
func (m *Manager) Thaw() error {
	dir, err := m.freezerDir()
	if err != nil {
		return err
	}
	return thaw(dir, freezeTimeout)
}

func (m *Manager) freezerDir() (string, error) {
	dir, ok := m.dirs["freezer"]
	if !ok {
		return "", errors.New("cgroup v1: no freezer hierarchy is mounted: the container cannot be paused")
	}
	return dir, nil
}

// freeze writes FROZEN to dir's freezer.state until read returns FROZEN,
// for at most timeout. As runc does, it thaws the cgroup for a moment now
// and then: a task in the middle of vfork can keep a cgroup FREEZING.
func freeze(dir string, timeout time.Duration, read func() (string, error)) error {
	deadline := time.Now().Add(timeout)
	for i := 1; ; i++ {
		if i%50 == 0 {
			if err := cgfs.WriteFile(dir, freezerState, thawed); err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
		}
		if err := cgfs.WriteFile(dir, freezerState, frozen); err != nil {
			return err
		}
		state, err := read()
		if err != nil {
			return errors.Join(fmt.Errorf("cgroup v1 freeze %s: %w", dir, err), undoFreeze(dir))
		}
		switch state {
		case frozen:
			return nil
		case freezing:
		default:
			return errors.Join(fmt.Errorf("cgroup v1 freeze %s: %s reads %q after writing %s", dir, freezerState, state, frozen),
				undoFreeze(dir))
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("cgroup v1 freeze %s: still %s after %v; left thawed", dir, freezing, timeout),
				undoFreeze(dir))
		}
		time.Sleep(time.Millisecond)
	}
}

// undoFreeze thaws a cgroup that Freeze could not freeze.
func undoFreeze(dir string) error {
	return cgfs.WriteFile(dir, freezerState, thawed)
}

// thaw writes THAWED to dir's freezer.state and waits, for at most
// timeout, until it reads THAWED (a frozen parent keeps it FROZEN).
func thaw(dir string, timeout time.Duration) error {
	if err := cgfs.WriteFile(dir, freezerState, thawed); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		state, err := cgfs.ReadFile(dir, freezerState)
		if err != nil {
			return fmt.Errorf("cgroup v1 thaw %s: %w", dir, err)
		}
		if state == thawed {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup v1 thaw %s: %s still reads %q after %v (is a parent cgroup frozen?)",
				dir, freezerState, state, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// killFrozen prepares Destroy of a frozen container: a frozen task acts on
// SIGKILL only once thawed, so every process in the freezer cgroup is sent
// SIGKILL first and the cgroup thawed after, and none of them runs user code
// again. It touches only a freezer cgroup that Create made, and does
// nothing when that is not frozen or already gone; Destroy reports any
// process that still does not leave.
func (m *Manager) killFrozen() {
	dir, ok := m.dirs["freezer"]
	if !ok || !slices.Contains(m.made, dir) {
		return
	}
	if state, err := cgfs.ReadFile(dir, freezerState); err != nil || state == thawed {
		return
	}
	if pids, err := cgfs.ReadPids(dir); err == nil {
		for _, pid := range pids {
			_ = m.ops.Kill(pid)
		}
	}
	_ = cgfs.WriteFile(dir, freezerState, thawed)
}
