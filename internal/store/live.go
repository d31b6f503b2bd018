package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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

// BootID is the kernel's id of this boot (read once: it does not change
// while this process lives; ps checks every record against it).
func BootID() (string, error) { return bootID() }

var bootID = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(bootIDPath)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
})

// reconcile returns c as the kernel says it is: a record that says
// running (or paused, or restarting with a process) whose process is
// gone — its monitor killed, the machine rebooted — reads as exited, with
// the exit code its monitor wrote to the exit file if it did, else
// ExitUnknown (255, as Docker shows it), finished when the monitor says
// or, without an exit file, now. The change is written back when nobody
// holds the container's lock (so that its exit time stays put); otherwise
// the holder will.
func (s *Store) reconcile(c *Container) *Container {
	if !s.gone(c) && !s.started(c) {
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

// Exited reports whether the process c's record names has exited, as
// the kernel says, whether or not its monitor has recorded the exit yet
// (until it has, c still reads as running: see gone): for a command that
// the runtime refused because the container ended after the command's
// check. The end of a process is for good: what Exited says once stays
// true. A record without a process (restarting: its back-off) has none
// that runs; a kernel that cannot tell says no.
func (s *Store) Exited(c *Container) bool {
	if c.State.Pid <= 0 {
		return true
	}
	alive, err := s.kernel.Alive(c.State.process())
	return err == nil && !alive
}

// started reports whether c's record has a start in flight
// (State.Starting) that happened, as the kernel and the monitor say:
// the init's pid file names a live process, or the monitor wrote an exit
// record (the process ran and ended). Its command, killed before it
// recorded the process, did not say so.
func (s *Store) started(c *Container) bool {
	if !c.State.Starting || c.State.Running {
		return false
	}
	if _, _, ok := s.startedInit(c.ID); ok {
		return true
	}
	_, err := s.readExit(c)
	return err == nil
}

// startedInit is container id's init as its pid file says, if it runs,
// and the file's time (the create's, a moment before the start).
func (s *Store) startedInit(id string) (Process, time.Time, bool) {
	path := s.PidPath(id)
	fi, err := os.Stat(path)
	if err != nil {
		return Process{}, time.Time{}, false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Process{}, time.Time{}, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return Process{}, time.Time{}, false
	}
	p, err := ProcessOf(pid)
	if err != nil {
		return Process{}, time.Time{}, false
	}
	if alive, err := s.kernel.Alive(p); err != nil || !alive {
		return Process{}, time.Time{}, false
	}
	return p, fi.ModTime(), true
}

// settleStart records the start that started found: the process running
// (with its monitor, the init's reaper), or ended as the exit record says.
func (s *Store) settleStart(c *Container) {
	if p, at, ok := s.startedInit(c.ID); ok {
		c.State.SetRunning(p, at)
		if ppid, err := proc.Parent(p.Pid); err == nil && ppid > 1 {
			if m, err := ProcessOf(ppid); err == nil {
				c.State.SetMonitor(m)
			}
		}
		return
	}
	e, err := s.readExit(c)
	if err != nil {
		return
	}
	started, err := time.Parse(time.RFC3339Nano, e.StartedAt)
	if err != nil {
		started = e.FinishedAt
	}
	c.State.StartedAt = started.UTC()
	c.State.SetStopped(e.ExitCode, e.FinishedAt)
	c.State.OOMKilled = e.OOMKilled
}

// settle makes c's state exited if its process is gone (see reconcile),
// or running (or exited) if a start its command did not record happened
// (started), and reports whether it did.
func (s *Store) settle(c *Container) bool {
	if s.started(c) {
		s.settleStart(c)
		return true
	}
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
