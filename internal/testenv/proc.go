package testenv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ProcTable maps each PID on the host to its parent PID.
func ProcTable() map[int]int {
	entries, _ := os.ReadDir("/proc")
	ppids := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		if f := strings.Fields(s[i+1:]); len(f) >= 2 {
			if ppid, err := strconv.Atoi(f[1]); err == nil {
				ppids[pid] = ppid
			}
		}
	}
	return ppids
}

// NSpid is the NSpid line of /proc/PID/status: the process's PID in each
// PID namespace, outermost first; none if the process is gone.
func NSpid(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil
	}
	return strings.Fields(StatusFields(string(b))["NSpid"])
}

// Background is a command that a test started and a goroutine waits for,
// so that the test can tell whether it has exited without blocking.
type Background struct {
	Cmd  *exec.Cmd
	Done chan struct{} // closed when Cmd.Wait has returned
}

// StartBackground starts cmd and waits for it in the background.
func StartBackground(cmd *exec.Cmd) (*Background, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &Background{Cmd: cmd, Done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(b.Done)
	}()
	return b, nil
}

// Pid is the command's process ID.
func (b *Background) Pid() int { return b.Cmd.Process.Pid }

// Exited reports whether the command has exited and been waited for.
func (b *Background) Exited() bool {
	select {
	case <-b.Done:
		return true
	default:
		return false
	}
}

// Descendants lists the PIDs beneath pid, breadth first: parents before
// their children.
func Descendants(pid int) []int {
	table := ProcTable()
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for p, pp := range table {
			if pp == cur {
				out = append(out, p)
				queue = append(queue, p)
			}
		}
	}
	return out
}

// Exists reports whether there is anything at path (a symlink counts,
// whether or not its target exists).
func Exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// WalkDirs lists root and every directory beneath it; directories that
// vanish during the walk are skipped.
func WalkDirs(root string) []string {
	var dirs []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	return dirs
}

// RootSuite is a suite's TestMain as root: not root, every test skips (it
// says so); otherwise setup gets a fresh temporary directory, removed
// afterwards (RemoveTemp), before the tests run; the suite fails when
// its tests left the default network's bridge or firewall chains in the
// host's network namespace (HostNetworkMarks). name ("tests/security")
// prefixes its messages.
func RootSuite(m *testing.M, name string, setup func(tmp string) error) int {
	if os.Geteuid() != 0 {
		fmt.Printf("%s: not running as root; every test skips (run as root: sudo go test ./%s/)\n", name, name)
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "md-"+filepath.Base(name)+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		return 1
	}
	defer RemoveTemp(name, tmp)
	if err := setup(tmp); err != nil {
		fmt.Fprintln(os.Stderr, name+": setup:", err)
		return 1
	}
	before := HostNetworkMarks()
	code := m.Run()
	if left := slices.DeleteFunc(HostNetworkMarks(), func(s string) bool { return slices.Contains(before, s) }); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "%s: FAIL: the tests left in the host's network namespace: %s (network tests run in a network namespace of their own)\n",
			name, strings.Join(left, ", "))
		code = 1
	}
	return code
}

// RemoveTemp removes a suite's temporary directory unless something is
// still mounted beneath it: removing through a leaked bind mount could
// delete files of the host. Problems are reported on stderr, named after
// the suite.
func RemoveTemp(suite, tmp string) {
	mounted, err := MountedUnder(tmp)
	if err == nil && len(mounted) > 0 {
		err = errors.New(mounted[0] + " is still mounted")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: leaving %s in place: %v\n", suite, tmp, err)
		return
	}
	if err := os.RemoveAll(tmp); err != nil {
		fmt.Fprintln(os.Stderr, suite+":", err)
	}
}
