// Package volume keeps named volumes, as Docker's local driver: a
// directory per volume under ROOT/volumes, NAME/_data being what containers
// mount.
//
// In use: a run holds a shared flock on the volume's directory for as long
// as its container lives (Use); Remove and Prune take an exclusive one
// without waiting, so a volume a running container uses is never removed,
// and one whose run was killed is free again. The lock lives with the
// directory: a run that locked a directory Remove has just deleted sees it
// (the path no longer names the directory it holds) and makes the volume
// again.
//
// A detached container keeps its volumes in use from its create to its
// removal, across the commands that start and stop it: Attach writes
// NAME/containers/ID (synced) under the shared lock, and Remove, under the
// exclusive one, refuses a volume whose containers/ holds the ID of a
// container that still has its record (Store's exists). Detach removes the
// file once the container's record is gone; a removal killed in between
// leaves a file naming no container, which counts for nothing. While the
// container is being created its command holds the lease (Use) too, so
// that a volume is never free between its attach and the record.
package volume

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/ondisk"
)

// ErrNotFound: no volume has that name.
var ErrNotFound = errors.New("no such volume")

// ErrInUse: a container uses the volume (a run, or a detached container,
// running or not).
var ErrInUse = errors.New("volume is in use")

// dataDir is the directory containers mount, inside the volume's.
const dataDir = "_data"

// metaFile holds what a volume was created with.
const metaFile = "volume.json"

// usersDir holds a file per detached container that uses the volume,
// named by its ID; "anonymous" in it: the volume was made for that
// container, which removes it (rm -v, run --rm).
const usersDir = "containers"

const madeFor = "anonymous"

// Volume is one volume, as `volume inspect` shows it.
type Volume struct {
	Name       string
	Mountpoint string // the directory containers mount
	CreatedAt  time.Time
	Anonymous  bool // made for one run by -v TARGET
}

type meta struct {
	CreatedAt time.Time `json:"CreatedAt"`
	Anonymous bool      `json:"Anonymous,omitempty"`
}

// Store is the volumes under a root directory.
type Store struct {
	dir    string
	exists func(containerID string) bool
}

// Open returns the store under root (root/volumes); it is made on first
// Create. exists tells whether a container that attached a volume still
// has its record (nil: every one does).
func Open(root string, exists func(containerID string) bool) *Store {
	return &Store{dir: filepath.Join(root, "volumes"), exists: exists}
}

func (s *Store) path(name string) string { return filepath.Join(s.dir, name) }

// Create makes the volume name unless it exists, and returns it.
func (s *Store) Create(name string, anonymous bool) (*Volume, error) {
	if v, err := s.Get(name); err == nil {
		return v, nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create volume %s: %w", name, err)
	}
	// Made in a temporary directory and renamed into place: a volume is
	// whole or absent.
	tmp, err := os.MkdirTemp(s.dir, ".tmp-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("create volume %s: %w", name, err)
	}
	err = os.Mkdir(filepath.Join(tmp, dataDir), 0o755)
	if err == nil {
		err = os.Chmod(filepath.Join(tmp, dataDir), 0o755) // past the umask
	}
	if err == nil {
		var b []byte
		b, err = json.Marshal(meta{CreatedAt: time.Now().UTC().Truncate(time.Second), Anonymous: anonymous})
		if err == nil {
			err = os.WriteFile(filepath.Join(tmp, metaFile), b, 0o600)
		}
	}
	if err == nil {
		err = os.Chmod(tmp, 0o701)
	}
	if err == nil {
		if err = os.Rename(tmp, s.path(name)); err != nil && exists(s.path(name)) {
			err = nil // made by another at the same time
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("create volume %s: %w", name, err)
	}
	os.RemoveAll(tmp)
	return s.Get(name)
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// Get returns the volume name.
func (s *Store) Get(name string) (*Volume, error) {
	if name == "" || name[0] == '.' || filepath.Base(name) != name {
		return nil, fmt.Errorf("get %s: %w", name, ErrNotFound)
	}
	b, err := os.ReadFile(filepath.Join(s.path(name), metaFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", name, err)
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("get %s: %s: %w", name, metaFile, err)
	}
	return &Volume{Name: name, Mountpoint: filepath.Join(s.path(name), dataDir), CreatedAt: m.CreatedAt, Anonymous: m.Anonymous}, nil
}

// List returns every volume, by name.
func (s *Store) List() ([]*Volume, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var out []*Volume
	for _, e := range entries {
		if !e.IsDir() || e.Name()[0] == '.' {
			continue
		}
		if v, err := s.Get(e.Name()); err == nil {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// A Lease keeps a volume in use until Release.
type Lease struct {
	Volume *Volume
	f      *os.File
}

// Release lets the volume be removed again.
func (l *Lease) Release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// Use creates the volume name if missing and holds it in use until the
// lease is released.
func (s *Store) Use(name string, anonymous bool) (*Lease, error) {
	for range 10 {
		v, err := s.Create(name, anonymous)
		if err != nil {
			return nil, err
		}
		f, err := os.Open(s.path(name))
		if errors.Is(err, os.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("use volume %s: %w", name, err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
			f.Close()
			return nil, fmt.Errorf("use volume %s: lock %s: %w", name, f.Name(), err)
		}
		// Still the volume's directory (not one Remove deleted)?
		held, err1 := f.Stat()
		now, err2 := os.Stat(s.path(name))
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return &Lease{Volume: v, f: f}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("use volume %s: removed again and again while being mounted", name)
}

// Attach records that container id uses the volume name (made if missing;
// anonymous: made for it) until Detach, and holds it in use as Use does
// until the lease is released: the caller releases it once the
// container's record is written.
func (s *Store) Attach(name, id string, anonymous bool) (*Lease, error) {
	if id == "" || id[0] == '.' || filepath.Base(id) != id {
		return nil, fmt.Errorf("attach volume %s: invalid container ID %q", name, id)
	}
	lease, err := s.Use(name, anonymous)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.path(name), usersDir)
	mark := ""
	if anonymous {
		mark = madeFor
	}
	err = os.MkdirAll(dir, 0o700)
	if err == nil {
		err = ondisk.WriteFile(filepath.Join(dir, id), []byte(mark), 0o600, ondisk.Durable)
	}
	if err != nil {
		lease.Release()
		return nil, fmt.Errorf("attach volume %s to %s: %w", name, id, err)
	}
	return lease, nil
}

// Detach ends container id's use of the volume name (Attach), once its
// record is gone; with removeAnonymous, a volume made for it is removed
// too, unless another container uses it (Docker's rm -v). A volume gone
// already is no error.
func (s *Store) Detach(name, id string, removeAnonymous bool) error {
	if id == "" || id[0] == '.' || filepath.Base(id) != id {
		return fmt.Errorf("detach volume %s: invalid container ID %q", name, id)
	}
	if _, err := s.Get(name); errors.Is(err, ErrNotFound) {
		return nil
	}
	p := filepath.Join(s.path(name), usersDir, id)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("detach volume %s: %w", name, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("detach volume %s: %w", name, err)
	}
	if !removeAnonymous || string(b) != madeFor {
		return nil
	}
	if err := s.removeUnused(name); err != nil && !errors.Is(err, ErrInUse) && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// users returns the IDs of the containers with a record that attached
// the volume at p, sorted.
func (s *Store) users(p string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(p, usersDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		id := e.Name()
		if id[0] == '.' { // a write killed before its rename
			continue
		}
		if s.exists == nil || s.exists(id) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Remove deletes the volume name, refused while a container uses it.
func (s *Store) Remove(name string) error {
	if _, err := s.Get(name); err != nil {
		return err
	}
	return s.removeUnused(name)
}

// removeUnused removes the volume if no run holds it and no container
// attached it: ErrInUse otherwise, naming the containers as Docker does
// ("volume is in use - [ID, ...]").
func (s *Store) removeUnused(name string) error {
	p := s.path(name)
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("remove %s: %w", name, ErrInUse)
		}
		return fmt.Errorf("remove %s: lock %s: %w", name, p, err)
	}
	ids, err := s.users(p)
	if err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	if len(ids) > 0 {
		return fmt.Errorf("remove %s: %w - [%s]", name, ErrInUse, strings.Join(ids, ", "))
	}
	// Renamed away first, so that the name is free at once and no
	// half-removed volume is ever seen by its name.
	gone := filepath.Join(s.dir, ".rm-"+name)
	if err := os.Rename(p, gone); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// Prune removes the volumes no container uses: with all, every
// one; else only anonymous ones (Docker's default since 23.0). It returns
// the names removed.
func (s *Store) Prune(all bool) ([]string, error) {
	vols, err := s.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, v := range vols {
		if !all && !v.Anonymous {
			continue
		}
		switch err := s.removeUnused(v.Name); {
		case err == nil:
			removed = append(removed, v.Name)
		case !errors.Is(err, ErrInUse):
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}
