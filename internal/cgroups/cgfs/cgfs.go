// Package cgfs holds the file and process operations that the cgroup v1 and
// v2 drivers share: writing a control file (which, as on the kernel, must
// already exist), reading "key value" files, making a cgroup directory and
// its missing parents while remembering which ones were made, and removing a
// cgroup once the processes in it are gone. Beside them: the Mode a driver
// reports, and the controllers that are alike on v1 and v2.
//
// The operations that touch the kernel (mkdir, rmdir, kill) are fields of
// Ops so that tests can lay a cgroup out in a temporary directory: a real
// cgroup directory is born with its control files, a plain one is not.
package cgfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Ops are the operations on the kernel that a driver performs.
type Ops struct {
	// Mkdir makes one cgroup directory; its parent exists.
	Mkdir func(dir string) error
	// Rmdir removes one cgroup directory.
	Rmdir func(dir string) error
	// Kill sends SIGKILL to a process.
	Kill func(pid int) error
	// Patience is how long Remove keeps retrying an rmdir that fails with
	// EBUSY while the killed processes exit.
	Patience time.Duration
}

// Kernel returns the Ops of a real cgroup filesystem.
func Kernel() Ops {
	return Ops{
		Mkdir:    func(dir string) error { return os.Mkdir(dir, 0o755) },
		Rmdir:    rmdir,
		Kill:     func(pid int) error { return unix.Kill(pid, unix.SIGKILL) },
		Patience: 2 * time.Second,
	}
}

func rmdir(dir string) error {
	if err := unix.Rmdir(dir); err != nil {
		return &os.PathError{Op: "rmdir", Path: dir, Err: err}
	}
	return nil
}

// retryEvery is the pause between attempts to remove a busy cgroup.
const retryEvery = 10 * time.Millisecond

// WriteFile writes value to the control file dir/name. The file must exist:
// it is never created, as the kernel never lets one be created. Errors read
// "write PATH: REASON". Every write is traced (SetTrace).
func WriteFile(dir, name, value string) error {
	path := filepath.Join(dir, name)
	if tracer.Load() != nil {
		return Traced("write", path, value, func() error { return writeFile(path, value) })
	}
	return writeFile(path, value)
}

// writeFile is WriteFile's write of value to path.
func writeFile(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return &os.PathError{Op: "write", Path: path, Err: unwrapPathError(err)}
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: path, Err: unwrapPathError(err)}
	}
	return nil
}

// ReadFile returns the content of dir/name with surrounding white space
// trimmed.
func ReadFile(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(b)), nil
}

// Exists reports whether dir/name exists.
func Exists(dir, name string) bool {
	_, err := os.Lstat(filepath.Join(dir, name))
	return err == nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ReadKeyValue returns the value of key in a file of "key value" lines such
// as memory.events or memory.oom_control.
func ReadKeyValue(dir, name, key string) (uint64, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s in %s: %w", key, path, err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("read %s: no %q field", path, key)
}

// ReadPids returns the process ids listed in dir/cgroup.procs.
func ReadPids(dir string) ([]int, error) {
	text, err := ReadFile(dir, "cgroup.procs")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, field := range strings.Fields(text) {
		pid, err := strconv.Atoi(field)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, "cgroup.procs"), err)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// Missing returns the directories that must be made, shallowest first, for
// dir to exist: dir itself and each parent up to the deepest one that
// exists. It is empty when dir exists.
func Missing(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		_, err := os.Lstat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if d == filepath.Dir(d) {
			return nil, &os.PathError{Op: "mkdir", Path: dir, Err: err}
		}
		missing = append([]string{d}, missing...)
	}
	return missing, nil
}

// MakeDir makes one directory of a chain from Missing. It reports whether
// this call made it: a parent that appeared meanwhile (another runtime
// making the same parent) is not ours and not an error; the leaf, the
// container's own cgroup, must be new.
func (o Ops) MakeDir(dir string, leaf bool) (made bool, err error) {
	err = Traced("mkdir", dir, "", func() error { return o.Mkdir(dir) })
	switch {
	case err == nil:
		return true, nil
	case !leaf && errors.Is(err, fs.ErrExist):
		return false, nil
	}
	return false, &os.PathError{Op: "mkdir", Path: dir, Err: unwrapPathError(err)}
}

// Remove kills the processes left in the cgroup dir (when killProcs is set;
// cgroup.kill on v2 does that in one write) and removes it, retrying while
// rmdir fails with EBUSY for up to Patience: killed processes take a moment
// to leave. A cgroup that is already gone is not an error.
func (o Ops) Remove(dir string, killProcs bool) error {
	deadline := time.Now().Add(o.Patience)
	for {
		if killProcs {
			if err := o.killAll(dir); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
		}
		err := o.rmdir(dir)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return &os.PathError{Op: "rmdir", Path: dir, Err: unwrapPathError(err)}
		}
		time.Sleep(retryEvery)
	}
}

// rmdir is o.Rmdir, traced (SetTrace).
func (o Ops) rmdir(dir string) error {
	return Traced("rmdir", dir, "", func() error { return o.Rmdir(dir) })
}

// killAll sends SIGKILL to every process listed in dir/cgroup.procs.
func (o Ops) killAll(dir string) error {
	pids, err := ReadPids(dir)
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := o.Kill(pid); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill %d in %s: %w", pid, dir, err)
		}
	}
	return nil
}

// RemoveParent removes a parent directory that a driver made. One that is
// gone or still holds other cgroups (EBUSY, ENOTEMPTY: another container
// placed beside ours) is left alone without error.
func (o Ops) RemoveParent(dir string) error {
	err := o.rmdir(dir)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist),
		errors.Is(err, unix.EBUSY), errors.Is(err, unix.ENOTEMPTY):
		return nil
	}
	return &os.PathError{Op: "rmdir", Path: dir, Err: unwrapPathError(err)}
}

// Undo removes the directories in made (listed in the order they were
// made) deepest first: a leaf, a container's own cgroup, with removeLeaf; a
// parent with RemoveParent. It returns those that still exist afterwards, so
// that a later call can try again, and the errors joined.
func (o Ops) Undo(made []string, isLeaf func(dir string) bool, removeLeaf func(dir string) error) ([]string, error) {
	var errs []error
	for i := len(made) - 1; i >= 0; i-- {
		if isLeaf(made[i]) {
			errs = append(errs, removeLeaf(made[i]))
			continue
		}
		errs = append(errs, o.RemoveParent(made[i]))
	}
	var left []string
	for _, dir := range made {
		if _, err := os.Lstat(dir); err == nil {
			left = append(left, dir)
		}
	}
	return left, errors.Join(errs...)
}
