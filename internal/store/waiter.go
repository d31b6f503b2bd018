package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/ondisk"
)

// waitersName is the file each Waiter holds a shared flock on, in the
// container's directory; Remove takes it exclusively before it deletes
// the directory, so that a waiter reads the exit file first.
const waitersName = "waiters"

// waitersGrace bounds how long Remove waits for the waiters to let go: a
// waiter notices the removal at its next look (wait polls every 20 ms); a
// stopped one does not hold a removal for longer than this.
const waitersGrace = 10 * time.Second

// Waiter is a hold on a container's exit record that outlasts the
// container's removal (Docker's wait on a --rm container, which its
// monitor removes as soon as it ends: a wait that began before prints
// the exit code all the same). It holds the container's directory open,
// and a shared lock that Remove waits for (briefly: waitersGrace) before
// it deletes the directory.
type Waiter struct {
	dir  *os.File // the container's directory, open while it is renamed
	lock *os.File // waitersName, flock(LOCK_SH)
}

// Watch starts a Waiter on container id; ErrNotFound when it is gone.
// It takes the container's lock for the moment it needs, so that no
// removal is under way when it starts.
func (s *Store) Watch(id string) (*Waiter, error) {
	lock, err := s.lock(id)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	path := s.containerDir(id)
	dir, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("wait for container %s: %w", id, err)
	}
	fd, err := unix.Openat(int(dir.Fd()), waitersName, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		dir.Close()
		return nil, fmt.Errorf("wait for container %s: %w", id, &os.PathError{Op: "open", Path: filepath.Join(path, waitersName), Err: err})
	}
	w := &Waiter{dir: dir, lock: os.NewFile(uintptr(fd), filepath.Join(path, waitersName))}
	if err := ondisk.Flock(w.lock, unix.LOCK_SH); err != nil {
		w.Close()
		return nil, fmt.Errorf("wait for container %s: %w", id, err)
	}
	return w, nil
}

// Exit reads the exit file of c's run (c: the record the wait began with)
// through the directory held, whether or not the container was removed
// since; an error wrapping fs.ErrNotExist when there is none.
func (w *Waiter) Exit(c *Container) (ExitRecord, error) {
	fd, err := unix.Openat(int(w.dir.Fd()), exitName, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ExitRecord{}, &os.PathError{Op: "open", Path: filepath.Join(w.dir.Name(), exitName), Err: err}
	}
	f := os.NewFile(uintptr(fd), filepath.Join(w.dir.Name(), exitName))
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return ExitRecord{}, fmt.Errorf("read exit file: %w", err)
	}
	return parseExit(b, f.Name(), c)
}

// Close lets go of the container: Remove may delete it now.
func (w *Waiter) Close() {
	w.lock.Close()
	w.dir.Close()
}

// awaitWaiters waits (at most waitersGrace) until no Waiter holds the
// container directory dir, renamed for its removal.
func awaitWaiters(dir string) {
	f, err := os.OpenFile(filepath.Join(dir, waitersName), os.O_RDWR, 0)
	if err != nil {
		return // never waited for
	}
	defer f.Close()
	deadline := time.Now().Add(waitersGrace)
	for {
		err := ondisk.Flock(f, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil || !errors.Is(err, unix.EWOULDBLOCK) || !time.Now().Before(deadline) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// parseExit reads an exit file's bytes b (at path) as c's current run's
// (see readExit).
func parseExit(b []byte, path string, c *Container) (ExitRecord, error) {
	var e ExitRecord
	if err := json.Unmarshal(b, &e); err != nil {
		return ExitRecord{}, fmt.Errorf("exit file %s: %w", path, err)
	}
	if e.FinishedAt.IsZero() {
		return ExitRecord{}, fmt.Errorf("exit file %s: no finished_at", path)
	}
	if e.FinishedAt.Before(c.State.StartedAt.Add(-time.Second)) {
		return ExitRecord{}, fmt.Errorf("exit file %s: an earlier run's: %w", path, os.ErrNotExist)
	}
	if e.ExitCode < 0 || e.ExitCode > 255 {
		e.ExitCode = ExitUnknown
	}
	return e, nil
}
