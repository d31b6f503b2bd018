package container

import (
	"fmt"
	"slices"
)

// Op is a command that acts on an existing container.
type Op string

// The commands the gate knows.
const (
	OpStart       Op = "start"          // the init execs the user's program
	OpPause       Op = "pause"          // freeze the cgroup
	OpResume      Op = "resume"         // thaw it
	OpKill        Op = "kill"           // signal the init
	OpKillAll     Op = "kill --all"     // signal every process in the cgroup
	OpDelete      Op = "delete"         // remove what is left
	OpForceDelete Op = "delete --force" // kill it first
	OpUpdate      Op = "update"         // change the cgroup's limits
	OpExec        Op = "exec"           // run another process in it
	OpPrune       Op = "prune"          // remove it with the other stopped ones
)

// gate is the one table of the lifecycle (runc's state_linux.go, youki's
// can_* methods): for each command, the statuses in which it may act on
// a container, the status it leaves the container in (none: the status
// stays, or the container goes), and its refusal in any other status
// (ErrWrongStatus when it has none of its own). The
// moves that no command makes are the runtime's own: create saves
// creating, then created (or running, for a foreground run, which starts
// at once); a container whose init has exited is stopped (State.Refresh).
// A stopped container can only be removed, and what its init left in
// its cgroup signalled.
var gate = map[Op]struct {
	in     []Status
	to     Status
	refuse func(id string, s Status) error
}{
	OpStart: {in: []Status{Created}, to: Running, refuse: func(id string, s Status) error {
		if s == Running || s == Paused {
			return fmt.Errorf("start %s: %w", id, ErrRunning)
		}
		return wrongStatus(id, s, Running)
	}},
	OpPause: {in: []Status{Running}, to: Paused, refuse: func(id string, s Status) error {
		return fmt.Errorf("pause: %w", wrongStatus(id, s, Paused))
	}},
	OpResume: {in: []Status{Paused}, to: Running, refuse: func(id string, s Status) error {
		return fmt.Errorf("resume %s: %w: it is %s, not paused", id, ErrWrongStatus, s)
	}},
	// A creating container (a killed create) has an init that may live
	// a little longer: kill reaches it. A stopped one's init is gone:
	// ErrNotRunning, whose text ("container not running") is what
	// containerd's shim takes for a process already finished.
	OpKill: {in: []Status{Creating, Created, Running, Paused}, refuse: func(id string, _ Status) error {
		return fmt.Errorf("kill %s: %w", id, ErrNotRunning)
	}},
	// kill --all signals whatever is in the cgroup, in any status: after
	// the init has exited containerd kills what it left behind (runc
	// 1.1 succeeds there too, with nothing left to signal).
	OpKillAll: {in: []Status{Creating, Created, Running, Paused, Stopped}},
	// What a killed create left (creating) goes without --force, as in
	// runc.
	OpDelete: {in: []Status{Creating, Created, Stopped}, refuse: func(id string, _ Status) error {
		return fmt.Errorf("delete %s: %w: use --force to kill it first", id, ErrRunning)
	}},
	OpForceDelete: {in: []Status{Creating, Created, Running, Paused, Stopped}},
	OpUpdate: {in: []Status{Created, Running, Paused}, refuse: func(id string, s Status) error {
		return fmt.Errorf("update %s: %w: it is %s", id, ErrNotRunning, s)
	}},
	OpExec: {in: []Status{Created, Running}, refuse: func(id string, s Status) error {
		return fmt.Errorf("exec %s: %w (it is %s)", id, ErrNotRunning, s)
	}},
	// Prune passes over the others; it also leaves a stopped container
	// to its owner while that lives (State.ownerAlive).
	OpPrune: {in: []Status{Stopped}},
}

// allow returns nil if op may act on container id in status s, and op's
// refusal otherwise (an error wrapping ErrWrongStatus, ErrRunning or
// ErrNotRunning).
func allow(op Op, id string, s Status) error {
	g := gate[op]
	switch {
	case slices.Contains(g.in, s):
		return nil
	case g.refuse != nil:
		return g.refuse(id, s)
	}
	return fmt.Errorf("%s %s: %w: it is %s", op, id, ErrWrongStatus, s)
}

// loadFor opens the container's locked state (load) for op, if the gate
// lets op act on it.
func loadFor(store *Store, id string, op Op) (*Handle, *State, error) {
	h, st, err := load(store, id)
	if err != nil {
		return nil, nil, err
	}
	if err := allow(op, id, st.Status); err != nil {
		h.Close()
		return nil, nil, err
	}
	return h, st, nil
}

// next is the status op leaves a container in.
func next(op Op) Status { return gate[op].to }

// wrongStatus is the refusal of a move from one status to another.
func wrongStatus(id string, from, to Status) error {
	return fmt.Errorf("container %s: %s -> %s: %w", id, from, to, ErrWrongStatus)
}
