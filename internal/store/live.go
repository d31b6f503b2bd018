package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/ondisk"
	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// Kernel tells whether a recorded process still runs. The store asks it
// of every record that says running or paused; unit tests fake it.
type Kernel interface {
	// Alive reports whether p is still the process recorded: the same
	// pid, started at the same time, in the same boot, and not a zombie.
	Alive(p Process) (bool, error)
}

// procKernel is the real Kernel: /proc.
type procKernel struct{}

func (procKernel) Alive(p Process) (bool, error) {
	if p.BootID != "" {
		boot, err := BootID()
		if err != nil {
			return false, err
		}
		if boot != p.BootID {
			return false, nil // the machine rebooted since
		}
	}
	return proc.Alive(p.Pid, p.StartTime)
}

// ProcessOf returns the identity of the running process pid, for
// State.SetRunning.
func ProcessOf(pid int) (Process, error) {
	start, err := proc.StartTime(pid)
	if err != nil {
		return Process{}, fmt.Errorf("process %d: %w", pid, err)
	}
	boot, err := BootID()
	if err != nil {
		return Process{}, err
	}
	return Process{Pid: pid, StartTime: start, BootID: boot}, nil
}

const bootIDPath = "/proc/sys/kernel/random/boot_id"

// BootID is the kernel's id of this boot.
func BootID() (string, error) {
	b, err := os.ReadFile(bootIDPath)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// reconcile returns c as the kernel says it is: a record that says
// running (or paused, or restarting with a process) whose process is
// gone — its monitor killed, the machine rebooted — reads as exited, with
// the exit code its monitor wrote to the exit file if it did, else
// ExitUnknown (255, as Docker shows it), finished when the exit file was
// written or, without one, now. The change is written back when nobody
// holds the container's lock (so that its exit time stays put); otherwise
// the holder will.
func (s *Store) reconcile(c *Container) *Container {
	if !s.gone(c) {
		return c
	}
	lock, err := ondisk.TryLockPath(filepath.Join(s.containerDir(c.ID), lockName))
	if err != nil {
		s.settle(c)
		return c
	}
	defer lock.Close()
	fresh, err := s.read(c.ID)
	if err != nil {
		s.settle(c)
		return c
	}
	if s.settle(fresh) {
		_ = s.write(fresh) // best effort: the next reader settles it again
	}
	return fresh
}

// gone reports whether c's record says its process runs and the kernel
// says it does not. A kernel that cannot tell leaves the record as it is.
func (s *Store) gone(c *Container) bool {
	if !c.State.Running || c.State.Pid <= 0 {
		return false
	}
	alive, err := s.kernel.Alive(c.State.process())
	return err == nil && !alive
}

// settle makes c's state exited if its process is gone (see reconcile),
// and reports whether it did.
func (s *Store) settle(c *Container) bool {
	if !s.gone(c) {
		return false
	}
	code, at, err := s.readExit(c.ID)
	// The monitor removes the exit file before it starts the process
	// again; one older than this run (a second's slack for coarse file
	// times) is an earlier run's all the same.
	if err == nil && at.Before(c.State.StartedAt.Add(-time.Second)) {
		err = fs.ErrNotExist
	}
	if err != nil {
		code, at = ExitUnknown, time.Now()
	}
	c.State.SetStopped(code, at)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.State.Error = err.Error()
	}
	return true
}

// readExit reads the exit file: the code, and the time it was written.
func (s *Store) readExit(id string) (int, time.Time, error) {
	path := s.ExitPath(id)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, time.Time{}, err
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("exit file %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, time.Time{}, err
	}
	return code, fi.ModTime(), nil
}
