// Package explain prints what a container's start does, as it happens
// (--explain): the parent's actions and the init's operations (package
// plan's reports), each on one line with its duration, told apart by who
// did it. A nil *Log prints nothing, so callers need no checks.
package explain

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Log writes explain lines to w (stderr).
type Log struct {
	mu sync.Mutex
	w  io.Writer
	t0 time.Time
}

// New returns a Log writing to w, its clock started now.
func New(w io.Writer) *Log { return &Log{w: w, t0: time.Now()} }

// On reports whether lines are printed.
func (l *Log) On() bool { return l != nil }

// Parent prints a line for something the parent (the runtime) did, which
// took d.
func (l *Log) Parent(d time.Duration, format string, args ...any) {
	l.line("parent", d, fmt.Sprintf(format, args...))
}

// Child prints a line for an operation of the init, which took d.
func (l *Log) Child(d time.Duration, format string, args ...any) {
	l.line("init", d, fmt.Sprintf(format, args...))
}

func (l *Log) line(who string, d time.Duration, text string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "explain: %8.3fms %-6s %8.3fms  %s\n",
		float64(time.Since(l.t0).Microseconds())/1000, who, float64(d.Microseconds())/1000, text)
}
