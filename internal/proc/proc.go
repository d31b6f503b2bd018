// Package proc is what the runtime's parent side needs to know of and do
// to processes, apart from the container's init: it reads from /proc
// whether a recorded pid is still the process that was recorded (pids are
// reused), told by its start time; it keeps inherited descriptors from a
// child (CloseExecFrom); it names the signals forwarded to a
// container (ForwardedSignals); it says which kernel runs
// (KernelAtLeast), and what this program calls itself (Name).
package proc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// StartTime returns field 22 of /proc/pid/stat: the time the process
// started, in clock ticks since boot. With the pid it identifies a process
// across pid reuse.
func StartTime(pid int) (uint64, error) {
	st, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	return st.startTime, nil
}

// Parent returns field 4 of /proc/pid/stat: the pid of the process's
// parent (its reaper once its parent has gone: a subreaper or init).
func Parent(pid int) (int, error) {
	st, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	return st.ppid, nil
}

// Alive reports whether pid is still the process that started at start
// (field 22 of its stat), and not a zombie.
func Alive(pid int, start uint64) (bool, error) {
	if pid <= 0 {
		return false, nil
	}
	st, err := readStat(pid)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	dead := st.state == 'Z' || st.state == 'X' || st.state == 'x'
	return !dead && st.startTime == start, nil
}

// Name is what this program's messages start with: the last element of
// its argv[0] (minimal-docker, minimal-runc, or the name an engine runs
// it by), as C programs name themselves; "minimal-docker" without one.
var Name = sync.OnceValue(func() string {
	if len(os.Args) > 0 {
		if n := filepath.Base(os.Args[0]); n != "." && n != "/" {
			return n
		}
	}
	return "minimal-docker"
})

// stat holds the fields of /proc/PID/stat this package uses.
type stat struct {
	state     byte   // field 3: R, S, D, Z, X, ...
	ppid      int    // field 4
	startTime uint64 // field 22
}

func readStat(pid int) (stat, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	b, err := os.ReadFile(path)
	if err != nil {
		return stat{}, err
	}
	st, err := parseStat(string(b))
	if err != nil {
		return stat{}, &os.PathError{Op: "parse", Path: path, Err: err}
	}
	return st, nil
}

// parseStat parses the text of /proc/PID/stat. Field 2, the command name
// in parentheses, may itself hold spaces and parentheses, so the fields
// are counted from after the last ')'.
func parseStat(text string) (stat, error) {
	i := strings.LastIndexByte(text, ')')
	if i < 0 {
		return stat{}, errors.New("no ')' after the command name")
	}
	f := strings.Fields(text[i+1:]) // f[0] is field 3
	const startField = 22 - 3
	if len(f) <= startField {
		return stat{}, fmt.Errorf("%d fields after the command name, want at least %d", len(f), startField+1)
	}
	if len(f[0]) != 1 {
		return stat{}, fmt.Errorf("bad process state %q", f[0])
	}
	t, err := strconv.ParseUint(f[startField], 10, 64)
	if err != nil {
		return stat{}, fmt.Errorf("start time: %w", err)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return stat{}, fmt.Errorf("parent pid: %w", err)
	}
	return stat{state: f[0][0], ppid: ppid, startTime: t}, nil
}
