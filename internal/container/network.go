package container

import (
	"io"
	"time"
)

// Network is a foreground run's network as its caller (the CLI) sets it
// up: the parent attaches it itself, where a detached container's
// runtime runs its config's hooks (createRuntime: ADD; poststop: DEL),
// and spares two starts of a hook binary per run.
type Network interface {
	// Attach puts the container, whose init is pid, on the network (CNI
	// ADD in the init's network namespace). On failure it has undone
	// what it did.
	Attach(pid int) error
	// Detach takes the container off the network (CNI DEL); after an
	// Attach that failed, or a second time, it has nothing to do.
	Detach() error
}

// netAttach is a Network's attachment under way: ADD runs beside the
// init's setup, from once the container's state names this process its
// owner (so that a kill -9 of the run from then on leaves what
// Store.Live calls gone, which the network's sweep releases) until
// before the go-ahead to exec (setup waits for it). The nil *netAttach
// (no Network, or ADD not begun) does nothing.
type netAttach struct {
	n    Network
	done chan struct{}
	err  error // Attach's, once done is closed
}

// attachNetwork begins n's Attach for the init pid; nil when n is.
func attachNetwork(n Network, pid int, dl debugLog) *netAttach {
	if n == nil {
		return nil
	}
	a := &netAttach{n: n, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		t0 := time.Now()
		a.err = n.Attach(pid)
		dl.step("network-add", t0)
	}()
	return a
}

// wait waits for the end of Attach and returns its error.
func (a *netAttach) wait() error {
	if a == nil {
		return nil
	}
	<-a.done
	return a.err
}

// detach waits for the end of Attach, whatever its outcome, and runs
// Detach; a failure is a warning on w (as a poststop hook's), which
// does not change the run's outcome.
func (a *netAttach) detach(w io.Writer, dl debugLog) {
	if a == nil {
		return
	}
	_ = a.wait()
	t0 := time.Now()
	if err := a.n.Detach(); err != nil {
		warnf(w, "%v", err)
	}
	dl.step("network-del", t0)
}
