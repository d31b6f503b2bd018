package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// Status is a container's place in its lifecycle: the OCI runtime spec's
// statuses, plus paused as runc reports it. Which command may act in which
// status, and where it moves the container, is the gate's table (gate.go).
type Status string

// The statuses of a container.
const (
	// Creating: create has started and not finished. Saved by a create
	// (or run) before it makes the cgroup; a command that holds the
	// container's lock and finds it has found a create that was killed
	// (the creator holds the lock until it saves another status).
	Creating Status = "creating"
	// Created: the init is set up and waits on the exec fifo for start.
	Created Status = "created"
	// Running: the init has exec'd the user's program, which has not exited.
	Running Status = "running"
	// Paused: the container's cgroup is frozen.
	Paused Status = "paused"
	// Stopped: the init has exited (or create failed after making the state).
	Stopped Status = "stopped"
)

// Sentinel errors, checked with errors.Is; the functions that return them
// wrap them with the container ID and the operation. ErrNotExist and
// ErrNotRunning say what runc's say: containerd's shim reads a failed
// kill by its text ("does not exist", "container not running"). The gate (gate.go)
// refuses a command in the wrong status with ErrWrongStatus, ErrRunning
// or ErrNotRunning.
var (
	ErrNotExist    = errors.New("container does not exist")
	ErrExist       = errors.New("container already exists")
	ErrInvalidID   = errors.New("invalid container id")
	ErrWrongStatus = errors.New("operation not allowed in the container's status")
	ErrRunning     = errors.New("container is running")
	ErrNotRunning  = errors.New("container not running")
)

// maxIDLen is runc's limit on the length of a container ID.
const maxIDLen = 1024

// ValidID returns an error wrapping ErrInvalidID unless id is a valid
// container ID by runc's rule: 1 to 1024 bytes of [A-Za-z0-9_+.-], and not
// "." or "..". A valid ID is a single path element, safe to join to a root.
func ValidID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case len(id) > maxIDLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidID, maxIDLen)
	case id == "." || id == "..":
		return fmt.Errorf("%w %q", ErrInvalidID, id)
	}
	for _, r := range id {
		if !idChar(r) {
			return fmt.Errorf("%w %q: character %q not in [A-Za-z0-9_+.-]", ErrInvalidID, id, r)
		}
	}
	return nil
}

func idChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		strings.ContainsRune("_+.-", r)
}

// State is what the runtime remembers about a container between commands,
// persisted as state.json in the container's directory of the Store.
type State struct {
	// OCIVersion is the ociVersion of the container's config.json; empty
	// means this package's runtime-spec version.
	OCIVersion string `json:"ociVersion"`
	ID         string `json:"id"`
	// Status is the last status saved; Refresh derives the live one.
	Status Status `json:"status"`
	// Pid is the container's init in the runtime's pid namespace, 0 before
	// it is started. PidStartTime is field 22 of /proc/Pid/stat at that
	// time (clock ticks since boot); they are set together, so that a
	// reused pid is not mistaken for the init.
	Pid          int    `json:"pid,omitempty"`
	PidStartTime uint64 `json:"pidStartTime,omitempty"`
	// Bundle is the absolute path of the bundle; Rootfs the absolute path
	// of the root filesystem (config root.path resolved against Bundle).
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Config is the path of the copy of config.json taken at create (the
	// OCI front door; a Docker-like run has no bundle to copy): later
	// commands (poststop hooks, exec defaults) must not see later edits of
	// the bundle.
	Config  string    `json:"config,omitempty"`
	Created time.Time `json:"created"`
	// OwnerPid and OwnerStartTime (as Pid and PidStartTime) name the
	// process that waits for a foreground container and removes it when
	// it exits (minimal-docker run, minimal-runc run without --detach); 0
	// for a detached one. While the owner lives, a stopped container is
	// its to remove, not prune's.
	OwnerPid       int    `json:"ownerPid,omitempty"`
	OwnerStartTime uint64 `json:"ownerStartTime,omitempty"`
	// ExecFifo is the path of the fifo the created init waits on; start
	// opens it and removes it. While the init holds it the container is
	// created (initWaits).
	ExecFifo string `json:"execFifo,omitempty"`
	// CgroupMode is the host's cgroup layout ("v1", "v2", "hybrid") and
	// CgroupPaths the container's cgroup directory per controller ("" for
	// the unified v2 tree). CgroupMade lists the directories the runtime
	// created, deepest last, so that delete removes those and only those.
	// On a hybrid host, CgroupUnified is the container's cgroup in the v2
	// tree, if it has one (hugepage limits), and CgroupUnifiedMade the
	// directories made for it. CgroupNone: the container has no cgroup
	// of its own (rootless without a delegated cgroup: cgroups.None).
	CgroupMode        string            `json:"cgroupMode,omitempty"`
	CgroupPaths       map[string]string `json:"cgroupPaths,omitempty"`
	CgroupMade        []string          `json:"cgroupMade,omitempty"`
	CgroupUnified     string            `json:"cgroupUnified,omitempty"`
	CgroupUnifiedMade []string          `json:"cgroupUnifiedMade,omitempty"`
	CgroupNone        bool              `json:"cgroupNone,omitempty"`
}

// OCI returns the state as the runtime spec defines it (the output of the
// state command). The pid is 0 once the container is stopped.
func (s *State) OCI() specs.State {
	st := specs.State{
		Version:     s.OCIVersion,
		ID:          s.ID,
		Status:      specs.ContainerState(s.Status),
		Pid:         s.Pid,
		Bundle:      s.Bundle,
		Annotations: s.Annotations,
	}
	if st.Version == "" {
		st.Version = specs.Version
	}
	if s.Status == Stopped {
		st.Pid = 0
	}
	return st
}

// Refresh sets s.Status to the container's live status, derived from the
// host: stopped if the init is gone, a zombie or its pid was reused;
// creating if it was saved creating (a killed create, whose init is about
// to die); created while the init waits for start on the exec fifo; paused
// if it was saved paused; running otherwise. It changes s only in memory:
// callers Save it if they wish.
func (s *State) Refresh() error {
	alive, err := s.initAlive()
	if err != nil {
		return fmt.Errorf("refresh %s: %w", s.ID, err)
	}
	waiting := false
	if alive && s.Status != Creating {
		if waiting, err = s.initWaits(); err != nil {
			return fmt.Errorf("refresh %s: %w", s.ID, err)
		}
	}
	switch {
	case !alive:
		s.Status = Stopped
	case s.Status == Creating:
	case waiting:
		s.Status = Created
	case s.Status == Paused:
	default:
		s.Status = Running
	}
	return nil
}

// initAlive reports whether s.Pid is still the container's init, alive.
func (s *State) initAlive() (bool, error) {
	return proc.Alive(s.Pid, s.PidStartTime)
}

// ownerAlive reports whether the container's owner (OwnerPid) still runs;
// when that can't be told, it says so (the owner's work is not taken over
// on a guess).
func (s *State) ownerAlive() bool {
	alive, err := proc.Alive(s.OwnerPid, s.OwnerStartTime)
	return alive || err != nil
}

// initWaits reports whether the (live) init still waits for start. It
// does while it holds the exec fifo's directory (or the fifo itself): the
// init opens it (O_PATH) in its setup, before it reports ready, and closes
// it once start has released it and had its word, just before it execs.
// The fifo's presence is no proof: start removes it only after the init's
// word, and a start killed in between leaves it. Where the init's fds
// can't be read (no CAP_SYS_PTRACE over a non-dumpable process), the
// fifo's presence decides.
func (s *State) initWaits() (bool, error) {
	if s.ExecFifo == "" {
		return false, nil
	}
	fifo, err := os.Lstat(s.ExecFifo)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	holds, err := s.initHoldsFifo(fifo)
	if errors.Is(err, fs.ErrPermission) {
		return true, nil
	}
	return holds, err
}

// initHoldsFifo reports whether the init has the exec fifo (fifo) or its
// directory open: whether it is still before its exec.
func (s *State) initHoldsFifo(fifo os.FileInfo) (bool, error) {
	dir, err := os.Stat(filepath.Dir(s.ExecFifo))
	if err != nil {
		return false, err
	}
	return holdsFile(s.Pid, fifo, dir)
}

// holdsFile reports whether process pid has one of the files open.
func holdsFile(pid int, files ...os.FileInfo) (bool, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // exited meanwhile
	}
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		// Stat follows the fd's magic link to the open file itself.
		fd, err := os.Stat(dir + "/" + e.Name())
		if err != nil {
			continue
		}
		for _, f := range files {
			if os.SameFile(fd, f) {
				return true, nil
			}
		}
	}
	return false, nil
}
