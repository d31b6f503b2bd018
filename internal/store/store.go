// Package store keeps the Docker-level records of minimal-docker's
// containers (the detached ones, which outlive the command that made
// them): a record per container in Docker's shape, their names, a lock per
// container, and the truth of each record checked against the kernel.
//
// Layout under the global --root (/var/lib/minimal-docker by default):
//
//	containers/ID/lock            flock(LOCK_EX) held by whoever changes the record
//	containers/ID/container.json  the record, replaced atomically and synced
//	containers/ID/exit            the exit record, JSON, written by the container's monitor (ExitRecord)
//	containers/ID/restart         the monitor's restarts (RestartRecord), with a restart policy
//	containers/ID/stopped         the stop mark: the restart policy does not restart a stopped container
//	containers/ID/monitor.pid     the monitor's pid, written by it
//	containers/ID/init.pid        the container's init's pid, written by the OCI runtime's create (PidPath)
//	containers/ID/waiters         flock(LOCK_SH) held by each wait (Waiter), which Remove waits for
//	containers/names/NAME -> ID   a name's reservation (a symbolic link)
//	containers/names.lock         flock held while a name is reserved or released
//	containers/~removing-XXXX/    a record being removed
//
// The runtime-level state (internal/container: the init's pid, its
// cgroup) is elsewhere, under /run; this store says what the user asked
// for and what became of it, as Docker's does.
//
// Any command may be killed at any point. What it leaves is either a
// whole record, or something the others treat as absent and Sweep
// removes: a directory without a record (a create killed early), a name
// linking to no record (a create or a removal killed midway), a
// ~removing- directory (a removal killed before its end), a temp file
// beside a record (a write killed before its rename).
package store

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/ondisk"
)

// The files and directories of the store.
// DirName is the store's directory under --root.
const DirName = "containers"

const (
	dirName     = DirName
	lockName    = "lock"
	recordName  = "container.json"
	exitName    = "exit"
	restartName = "restart"
	stopName    = "stopped"
	monitorName = "monitor.pid"
	pidName     = "init.pid"
	namesDir    = "names"
	namesLock   = "names.lock"
	trashPrefix = "~removing-"
)

// Errors, for errors.Is.
var (
	ErrNotFound    = errors.New("No such container") // Docker's text
	ErrAmbiguous   = errors.New("multiple IDs found with provided prefix")
	ErrInvalidName = errors.New("Invalid container name") // Docker's text
	ErrNameInUse   = errors.New("container name already in use")
)

// Store is the containers' records under a root. It is safe for use by
// goroutines and processes at once.
type Store struct {
	dir    string
	kernel Kernel
}

// Open opens the store under root (the global --root), making its
// directories if needed. kernel tells whether a recorded process still
// runs; nil is the real one (/proc).
func Open(root string, kernel Kernel) (*Store, error) {
	if root == "" {
		return nil, errors.New("open containers' store: empty root")
	}
	if kernel == nil {
		kernel = procKernel{}
	}
	s := &Store{dir: filepath.Join(root, dirName), kernel: kernel}
	if err := os.MkdirAll(filepath.Join(s.dir, namesDir), 0o700); err != nil {
		return nil, fmt.Errorf("open containers' store: %w", err)
	}
	return s, nil
}

// Has reports whether container id has a record (a whole one: not one
// being created or removed).
func (s *Store) Has(id string) bool {
	if !validID(id) {
		return false
	}
	_, err := os.Stat(filepath.Join(s.containerDir(id), recordName))
	return err == nil
}

// Dir is the directory of container id, where its monitor keeps its files
// (the log, the exit file); they go with the record.
func (s *Store) Dir(id string) string { return s.containerDir(id) }

// ExitPath is the file the container's monitor writes the exit record
// to (ExitRecord: JSON, written atomically).
func (s *Store) ExitPath(id string) string { return filepath.Join(s.containerDir(id), exitName) }

// RestartPath is the file the container's monitor writes each time its
// restart policy starts the process again (RestartRecord).
func (s *Store) RestartPath(id string) string {
	return filepath.Join(s.containerDir(id), restartName)
}

// StopPath is the container's stop mark: stop, kill and rm -f make it
// before they signal, start removes it, and the monitor does not restart
// the container while it exists (Docker's "manually stopped").
func (s *Store) StopPath(id string) string { return filepath.Join(s.containerDir(id), stopName) }

// MonitorPidPath is where the container's monitor writes its pid.
func (s *Store) MonitorPidPath(id string) string {
	return filepath.Join(s.containerDir(id), monitorName)
}

// PidPath is the pid file of container id's init, the OCI runtime's
// --pid-file: the store reads it for a start whose command was killed
// (State.Starting).
func (s *Store) PidPath(id string) string { return filepath.Join(s.containerDir(id), pidName) }

func (s *Store) containerDir(id string) string { return filepath.Join(s.dir, id) }

// validID: an ID is 64 lower-case hex digits, as Docker's.
func validID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for _, c := range []byte(id) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// NewID returns a random ID whose 12-digit short form is not all digits
// (Docker's rule: a short ID must not read as a number).
func NewID() (string, error) {
	b := make([]byte, 32)
	for {
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		id := hex.EncodeToString(b)
		if _, err := strconv.ParseUint(id[:12], 10, 64); err != nil {
			return id, nil
		}
	}
}

// Create records a new container c. It sets c.ID (unless set: an ID
// from NewID, for a caller that names the container's other files after
// it first), c.Created (now), and c.Name: the one asked for (with or without its slash; checked) or a
// generated one when empty. It fails with ErrInvalidName, or a
// *NameConflictError (errors.Is ErrNameInUse) when the name is taken.
//
// The steps, and what a kill after each leaves: the directory made and
// locked, the name linked to it (names.lock held for both: a directory
// without a record nor a name, or a name whose directory has no record and
// an unheld lock: both stale, freed by the next reservation or Sweep), the
// record written (complete from then on).
func (s *Store) Create(c *Container) error {
	name, generated := strings.TrimPrefix(c.Name, "/"), c.Name == ""
	if !generated {
		var err error
		if name, err = CheckName(c.Name); err != nil {
			return err
		}
	}
	id := c.ID
	if id == "" {
		var err error
		if id, err = NewID(); err != nil {
			return fmt.Errorf("create container: %w", err)
		}
	} else if !validID(id) {
		return fmt.Errorf("create container: invalid ID %q: want 64 hex digits", id)
	}
	lock, name, err := s.claim(id, name, generated)
	if err != nil {
		return err
	}
	defer lock.Close()
	c.ID, c.Name = id, "/"+name
	c.Created = time.Now().UTC()
	if c.State.Status == "" {
		c.State.Status = c.State.derive()
	}
	if err := s.write(c); err != nil {
		// Not left half-made: the name and the directory go.
		_ = s.release(strings.TrimPrefix(c.Name, "/"), id)
		_ = os.RemoveAll(s.containerDir(id))
		return err
	}
	return nil
}

// claim makes id's directory, locked, and links the name to it (a
// generated one if generated, drawn again on collision). It leaves nothing
// on failure. It returns the container's lock and its name.
func (s *Store) claim(id, name string, generated bool) (*os.File, string, error) {
	unlock, err := s.lockNames()
	if err != nil {
		return nil, "", err
	}
	defer unlock()
	dir := s.containerDir(id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("create container: %w", err)
	}
	lock, err := ondisk.LockPath(filepath.Join(dir, lockName))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", fmt.Errorf("create container: %w", err)
	}
	for retry := 0; ; retry++ {
		if generated {
			name = generateName(retry)
		}
		err = s.reserve(name, id)
		if err == nil || !generated || !errors.Is(err, ErrNameInUse) || retry >= 100 {
			break
		}
	}
	if err != nil {
		lock.Close()
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	return lock, name, nil
}

// write replaces c's record, synced (ondisk.Durable). Precondition: the
// caller holds c's lock.
func (s *Store) write(c *Container) error {
	b, err := json.MarshalIndent(c, "", "\t")
	if err != nil {
		return fmt.Errorf("write container %s: %w", c.ID, err)
	}
	path := filepath.Join(s.containerDir(c.ID), recordName)
	if err := ondisk.WriteFile(path, b, 0o600, ondisk.Durable); err != nil {
		return fmt.Errorf("write container %s: %w", c.ID, err)
	}
	return nil
}

// read reads id's record as it is on disk, with its monitor's restarts
// (followRestarts). A container without a record (being created, or what
// a killed create left) is not found.
func (s *Store) read(id string) (*Container, error) {
	path := filepath.Join(s.containerDir(id), recordName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("read container %s: %w", id, err)
	}
	var c Container
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read container: %s: %w", path, err)
	}
	s.followRestarts(&c)
	return &c, nil
}

// Lookup returns the ID of the container that ref names, by Docker's
// rules: a full ID, then an exact name (with or without its slash), then a
// unique ID prefix. It fails with ErrNotFound ("No such container: REF")
// or ErrAmbiguous (a prefix of several IDs).
func (s *Store) Lookup(ref string) (string, error) {
	if validID(ref) {
		if _, err := os.Stat(filepath.Join(s.containerDir(ref), recordName)); err == nil {
			return ref, nil
		}
	}
	if name := strings.TrimPrefix(ref, "/"); ValidName(name) && len(name) <= maxName {
		if id := s.nameOf(name); id != "" {
			return id, nil
		}
	}
	notFound := fmt.Errorf("%w: %s", ErrNotFound, ref)
	if ref == "" || len(ref) > 64 || strings.Trim(ref, "0123456789abcdef") != "" {
		return "", notFound
	}
	ids, err := s.ids()
	if err != nil {
		return "", err
	}
	var found string
	for _, id := range ids {
		if strings.HasPrefix(id, ref) {
			if found != "" {
				return "", fmt.Errorf("%w: %s", ErrAmbiguous, ref)
			}
			found = id
		}
	}
	if found == "" {
		return "", notFound
	}
	return found, nil
}

// ids returns the IDs of the containers that have a record.
func (s *Store) ids() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if !e.IsDir() || !validID(e.Name()) {
			continue
		}
		if _, err := os.Stat(filepath.Join(s.dir, e.Name(), recordName)); err == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// Get returns the record of the container ref names (Lookup's rules),
// checked against the kernel (see reconcile).
func (s *Store) Get(ref string) (*Container, error) {
	id, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	c, err := s.read(id)
	if err != nil {
		return nil, err
	}
	return s.reconcile(c), nil
}

// List returns the records of all containers, newest first, each checked
// against the kernel. It takes no lock: a container removed meanwhile is
// left out.
func (s *Store) List() ([]*Container, error) {
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	cs := make([]*Container, 0, len(ids))
	for _, id := range ids {
		c, err := s.read(id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		cs = append(cs, s.reconcile(c))
	}
	slices.SortStableFunc(cs, func(a, b *Container) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return cs, nil
}

// Update changes container id's record under its lock: fn gets the
// record (checked against the kernel) and changes it; the result is
// written atomically unless fn fails. It returns the record written.
// Commands that change a container (start, stop, the monitor's exit) go
// through Update, and are thus serialized across processes.
func (s *Store) Update(id string, fn func(*Container) error) (*Container, error) {
	lock, err := s.lock(id)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	c, err := s.read(id)
	if err != nil {
		return nil, err
	}
	s.settle(c)
	if err := fn(c); err != nil {
		return nil, err
	}
	c.ID = id // not fn's to change
	if err := s.write(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Save writes c, from inside Update's fn (which holds c's lock), before
// fn goes on: for a step that must be on disk before the next one (a start
// in flight, State.Starting, before the monitor starts the process).
func (s *Store) Save(c *Container) error { return s.write(c) }

// lock takes container id's lock; ErrNotFound when it has no directory
// (or it was removed while this waited).
func (s *Store) lock(id string) (*os.File, error) {
	if !validID(id) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	f, err := ondisk.LockPath(filepath.Join(s.containerDir(id), lockName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("lock container %s: %w", id, err)
	}
	return f, nil
}

// Remove removes container id's record and its name. destroy, if not
// nil, is called first under the container's lock with the record (the
// caller stops and undoes what the container has: its process, mounts,
// writable layer); if it fails, nothing is removed.
//
// The order is what a crash may leave: first the directory is renamed to
// ~removing-XXXX (the record is gone at once for every lookup; its name
// now links to no directory, which reads as free), then the name's link
// is removed, then the directory. Killed after the rename, the removal
// leaves a stale name and a ~removing- directory, both harmless and both
// removed by Sweep (called by rm and container prune); never a record
// without its name, which would let a second container take the name of a
// first still listed.
func (s *Store) Remove(id string, destroy func(*Container) error) error {
	lock, err := s.lock(id)
	if err != nil {
		return err
	}
	defer lock.Close()
	c, err := s.read(id)
	if err != nil {
		return err
	}
	if destroy != nil {
		if err := destroy(s.reconcile(c)); err != nil {
			return err
		}
	}
	trash, err := renameToTrash(s.containerDir(id))
	if err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	awaitWaiters(trash)
	if err := s.release(strings.TrimPrefix(c.Name, "/"), id); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	return nil
}

// renameToTrash renames dir to a new ~removing- name beside it.
func renameToTrash(dir string) (string, error) {
	for {
		suffix, err := NewID()
		if err != nil {
			return "", err
		}
		trash := filepath.Join(filepath.Dir(dir), trashPrefix+suffix[:16])
		if _, err := os.Lstat(trash); err == nil {
			continue
		}
		if err := os.Rename(dir, trash); err != nil {
			return "", err
		}
		return trash, nil
	}
}

// Sweep removes what killed commands left (see the package doc): the
// ~removing- directories nobody works on, the names that link to no
// record, and the directories without a record whose creator is gone.
// Best effort: what it cannot remove now stays for the next Sweep; the
// first error is returned.
func (s *Store) Sweep() error {
	unlock, err := s.lockNames()
	if err != nil {
		return err
	}
	defer unlock()
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	names, err := os.ReadDir(filepath.Join(s.dir, namesDir))
	keep(err)
	for _, n := range names {
		id, err := os.Readlink(s.namePath(n.Name()))
		if err != nil {
			keep(os.Remove(s.namePath(n.Name()))) // not a link: not ours
			continue
		}
		if !s.nameLive(id) {
			keep(s.dropStale(n.Name(), id))
		}
	}
	entries, err := os.ReadDir(s.dir)
	keep(err)
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !(validID(name) || strings.HasPrefix(name, trashPrefix)) {
			continue
		}
		dir := filepath.Join(s.dir, name)
		if validID(name) {
			if _, err := os.Stat(filepath.Join(dir, recordName)); err == nil {
				continue
			}
		}
		f, err := ondisk.TryLockPath(filepath.Join(dir, lockName))
		switch {
		case err == nil && validID(name) && hasRecord(dir):
			f.Close() // its create ended between the look and the lock
		case err == nil:
			keep(os.RemoveAll(dir))
			f.Close()
		case errors.Is(err, fs.ErrNotExist):
			keep(os.RemoveAll(dir)) // made, never locked: a create killed at once
		}
	}
	if first != nil {
		return fmt.Errorf("sweep containers' store: %w", first)
	}
	return nil
}
