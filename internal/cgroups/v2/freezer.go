package v2

import (
	"errors"
	"fmt"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// The v2 freezer is part of every cgroup but the root (kernel 5.2 and
// later): cgroup.freeze asks, the "frozen" key of cgroup.events tells.
const (
	cgroupFreeze = "cgroup.freeze"
	cgroupEvents = "cgroup.events"
)

// freezeTimeout bounds how long Freeze and Thaw wait for the kernel.
const freezeTimeout = 5 * time.Second

// Freeze stops every process in the container's cgroup: it writes 1 to
// cgroup.freeze and waits (at most freezeTimeout) until cgroup.events reads
// "frozen 1". If the cgroup does not get there it is thawed again and an
// error returned, so that a failed Freeze leaves the container running.
func (m *Manager) Freeze() error {
	return freeze(m.dir, freezeTimeout)
}

// Thaw lets the processes of the container's frozen cgroup run again: it
// writes 0 to cgroup.freeze and waits (at most freezeTimeout) until
// cgroup.events reads "frozen 0".
func (m *Manager) Thaw() error {
	return thaw(m.dir, freezeTimeout)
}

func checkFreezer(dir string) error {
	if !cgfs.Exists(dir, cgroupFreeze) {
		return fmt.Errorf("cgroup v2: %s has no %s (kernel 5.2 or later has it): the container cannot be paused",
			dir, cgroupFreeze)
	}
	return nil
}

func freeze(dir string, timeout time.Duration) error {
	if err := checkFreezer(dir); err != nil {
		return err
	}
	if err := cgfs.WriteFile(dir, cgroupFreeze, "1"); err != nil {
		return err
	}
	if err := waitFrozen(dir, true, timeout); err != nil {
		return errors.Join(err, cgfs.WriteFile(dir, cgroupFreeze, "0"))
	}
	return nil
}

func thaw(dir string, timeout time.Duration) error {
	if err := checkFreezer(dir); err != nil {
		return err
	}
	if err := cgfs.WriteFile(dir, cgroupFreeze, "0"); err != nil {
		return err
	}
	return waitFrozen(dir, false, timeout)
}

// waitFrozen polls the "frozen" key of dir's cgroup.events until it is
// want, for at most timeout.
func waitFrozen(dir string, want bool, timeout time.Duration) error {
	wantValue := uint64(0)
	if want {
		wantValue = 1
	}
	deadline := time.Now().Add(timeout)
	for {
		v, err := cgfs.ReadKeyValue(dir, cgroupEvents, "frozen")
		if err != nil {
			return fmt.Errorf("cgroup v2 freezer %s: %w", dir, err)
		}
		if v == wantValue {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup v2 freezer %s: %s still reads \"frozen %d\" after %v", dir, cgroupEvents, v, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}
