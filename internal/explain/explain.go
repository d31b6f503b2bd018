// Package explain prints what a container's start does, as it happens
// (--explain): the parent's actions and the init's operations (package
// plan's reports), each on one line with its duration, told apart by who
// did it. A nil *Log prints nothing, so callers need no checks.
//
// A line reads
//
//	explain:    1.234ms parent    0.056ms  TEXT
//	explain:    9.876ms init      0.012ms  TEXT
//
// the time since the Log started (New), who did it ("parent": the
// runtime; "init": the container's init, from its reports), how long it
// took, two spaces, then what it was. Parse reads a line back (for tests,
// and for tools reading a run's stderr). The texts of a few lines are
// fixed here, so that tests can check them against the kernel: Cgroup
// (each change to a cgroup filesystem) and Exit (the container's end).
package explain

import (
	"fmt"
	"io"
	"strconv"
	"strings"
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
	if l == nil {
		return
	}
	l.line(Parent, d, fmt.Sprintf(format, args...))
}

// Child prints a line for an operation of the init, which took d.
func (l *Log) Child(d time.Duration, format string, args ...any) {
	if l == nil {
		return
	}
	l.line(Init, d, fmt.Sprintf(format, args...))
}

// Cgroup prints a parent line for one change to a cgroup filesystem; its
// signature is cgroups.TraceFunc's, so that a Log's Cgroup method can be
// the trace (cgroups.SetTrace(log.Cgroup)). The text is
//
//	cgroup write PATH "VALUE"        (the value quoted as Go quotes it)
//	cgroup mkdir DIR
//	cgroup rmdir DIR
//	cgroup bpf DIR WHAT              (v2's device program attached)
//
// followed by ": ERROR" when the change failed.
func (l *Log) Cgroup(op, path, value string, d time.Duration, err error) {
	if l == nil {
		return
	}
	text := "cgroup " + op + " " + path
	switch {
	case op == "write":
		text += " " + strconv.Quote(value)
	case value != "":
		text += " " + value
	}
	if err != nil {
		text += ": " + err.Error()
	}
	l.line(Parent, d, text)
}

// Exit prints the parent's line for the container's end: status is what
// the runtime exits with (the process's exit code, or 128+N when signal
// N killed it), signal the name of that signal ("" when none did),
// oomKills the cgroup's OOM kill counter (-1 when it could not be read).
// The text is
//
//	exit status 137 (signal SIGKILL), oom_kill 1
//	exit status 3, oom_kill 0
func (l *Log) Exit(d time.Duration, status int, signal string, oomKills int64) {
	if l == nil {
		return
	}
	text := "exit status " + strconv.Itoa(status)
	if signal != "" {
		text += " (signal " + signal + ")"
	}
	if oomKills >= 0 {
		text += ", oom_kill " + strconv.FormatInt(oomKills, 10)
	}
	l.line(Parent, d, text)
}

// Who did what a line says.
const (
	Parent = "parent"
	Init   = "init"
)

// prefix opens every line.
const prefix = "explain: "

func (l *Log) line(who string, d time.Duration, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s%8.3fms %-6s %8.3fms  %s\n", prefix,
		float64(time.Since(l.t0).Microseconds())/1000, who, float64(d.Microseconds())/1000, text)
}

// Line is one line as Log prints it.
type Line struct {
	At   time.Duration // since the Log started, to the microsecond
	Who  string        // Parent or Init
	Took time.Duration // to the microsecond
	Text string
}

// Parse reads s, one line (without its newline) as Log prints it; ok is
// false for any other line.
func Parse(s string) (l Line, ok bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return Line{}, false
	}
	at, rest, ok := millis(rest)
	if !ok {
		return Line{}, false
	}
	who, rest, _ := strings.Cut(rest, " ")
	if who != Parent && who != Init {
		return Line{}, false
	}
	took, rest, ok := millis(rest)
	if !ok || !strings.HasPrefix(rest, " ") {
		return Line{}, false
	}
	return Line{At: at, Who: who, Took: took, Text: rest[1:]}, true
}

// millis reads "  1.234ms " from the start of s (spaces before it), and
// returns the rest after the one space that follows.
func millis(s string) (time.Duration, string, bool) {
	s = strings.TrimLeft(s, " ")
	num, rest, ok := strings.Cut(s, "ms ")
	if !ok {
		return 0, "", false
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, "", false
	}
	return time.Duration(f*1000+0.5) * time.Microsecond, rest, true
}
