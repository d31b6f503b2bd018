package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
// ExitUnknown (255, as Docker shows it), finished when the monitor says
// or, without an exit file, now. The change is written back when nobody
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
// Between the process's end and its exit record there is a moment when
// the monitor, still alive, has not written the record yet: the container
// is not gone until the record is there or the monitor is gone too (else
// a ps at that moment would record 255 for good). A container restarting
// (no process: its restart policy's back-off) is gone on the same terms.
func (s *Store) gone(c *Container) bool {
	switch {
	case !c.State.Running:
		return false
	case c.State.Pid > 0:
		alive, err := s.kernel.Alive(c.State.process())
		if err != nil || alive {
			return false
		}
	case !c.State.Restarting:
		return false
	}
	if m := c.State.Monitor(); m.Pid > 0 {
		if _, err := s.readExit(c); errors.Is(err, fs.ErrNotExist) {
			alive, err := s.kernel.Alive(m)
			return err == nil && !alive
		}
	}
	return true
}

// settle makes c's state exited if its process is gone (see reconcile),
// and reports whether it did.
func (s *Store) settle(c *Container) bool {
	if !s.gone(c) {
		return false
	}
	e, err := s.readExit(c)
	if err != nil {
		e = ExitRecord{ExitCode: ExitUnknown, FinishedAt: time.Now()}
		if c.State.Restarting { // its last exit is known
			e.ExitCode, e.FinishedAt = c.State.ExitCode, c.State.FinishedAt
		}
	}
	c.State.SetStopped(e.ExitCode, e.FinishedAt)
	c.State.OOMKilled = e.OOMKilled
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.State.Error = err.Error()
	}
	return true
}

// ExitRecord is the exit file the container's monitor writes
// (cmd/minimal-docker-monitor, write_exit_file), atomically, when the
// container's process has ended: one JSON object.
type ExitRecord struct {
	// ExitCode is the process's status, 128+N when killed by signal N;
	// -1 when the monitor could not learn it (read as ExitUnknown).
	ExitCode  int  `json:"exit_code"`
	OOMKilled bool `json:"oom_killed"` // the kernel OOM-killed a process of its cgroup
	// StartedAt is the monitor's time of the start ("" when the CLI
	// started the process); FinishedAt the time of the end (RFC 3339).
	StartedAt  string    `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// LogLostBytes counts the output the log could not keep (a full disk).
	LogLostBytes int64 `json:"log_lost_bytes"`
}

// readExit reads the exit file of c's current run. One older than this
// run is an earlier run's (the monitor removes it before it starts the
// process again): fs.ErrNotExist all the same (a second's slack for
// coarse clocks).
func (s *Store) readExit(c *Container) (ExitRecord, error) {
	path := s.ExitPath(c.ID)
	b, err := os.ReadFile(path)
	if err != nil {
		return ExitRecord{}, err
	}
	return parseExit(b, path, c)
}

// RestartRecord is the restart file the container's monitor writes
// (cmd/minimal-docker-monitor, write_restart_file), atomically, each time
// its restart policy starts the container's process again: first when
// the back-off starts (Restarting, no Pid: the run that ended), then once
// the new process runs. The CLI removes it when it starts the container.
type RestartRecord struct {
	RestartCount int  `json:"restart_count"`
	Restarting   bool `json:"restarting"`
	// Pid is the new process (0 while Restarting), PidStartTime field 22
	// of its /proc/PID/stat, StartedAt its start (the ended run's while
	// Restarting).
	Pid          int       `json:"pid"`
	PidStartTime uint64    `json:"pid_start_time"`
	StartedAt    time.Time `json:"started_at"`
	// ExitCode and FinishedAt are the last run's end.
	ExitCode   int       `json:"exit_code"`
	FinishedAt time.Time `json:"finished_at"`
}

// followRestarts puts in c's state what its monitor's restart file says
// (the process its restart policy started last, or its back-off), while
// the record says the container runs: the file is this run's (the CLI
// removes it before it starts a monitor), and newer than the record.
// Without a restart policy there is no file to read.
func (s *Store) followRestarts(c *Container) {
	if p := c.HostConfig.RestartPolicy.Name; !c.State.Running || p == "" || p == "no" {
		return
	}
	b, err := os.ReadFile(s.RestartPath(c.ID))
	if err != nil {
		return
	}
	var r RestartRecord
	if json.Unmarshal(b, &r) != nil || r.RestartCount < c.RestartCount {
		return
	}
	m := c.State.Monitor()
	c.RestartCount = r.RestartCount
	if r.Restarting {
		c.State.SetRestarting(r.ExitCode, r.FinishedAt)
	} else {
		c.State.SetRunning(Process{Pid: r.Pid, StartTime: r.PidStartTime, BootID: c.State.BootID}, r.StartedAt)
		c.State.FinishedAt = r.FinishedAt.UTC()
	}
	c.State.SetMonitor(m)
}
