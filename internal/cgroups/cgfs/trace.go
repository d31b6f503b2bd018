package cgfs

import (
	"sync/atomic"
	"time"
)

// TraceFunc is told of one change the drivers made to a cgroup
// filesystem, after it was made: op is "write" (value is what was
// written to the control file path), "mkdir" or "rmdir" (path is the
// cgroup directory, value ""), or "bpf" (path is the cgroup directory,
// value says which program was attached); d is the time it took, err its
// error (nil when it worked).
type TraceFunc func(op, path, value string, d time.Duration, err error)

// tracer is the TraceFunc in force, nil when none (the normal path: one
// atomic load, no clock read).
var tracer atomic.Pointer[TraceFunc]

// SetTrace makes f the TraceFunc of every cgroup change this process
// makes from now on (nil: none), for --explain, and returns a function
// that puts the previous one back. It is process-wide: a runtime command
// sets it once, before it makes the container's cgroup.
func SetTrace(f TraceFunc) (restore func()) {
	var p *TraceFunc
	if f != nil {
		p = &f
	}
	old := tracer.Swap(p)
	return func() { tracer.Store(old) }
}

// Traced does do, the change op of path (see TraceFunc), and tells the
// TraceFunc in force, if any.
func Traced(op, path, value string, do func() error) error {
	t := tracer.Load()
	if t == nil {
		return do()
	}
	t0 := time.Now()
	err := do()
	(*t)(op, path, value, time.Since(t0), err)
	return err
}
