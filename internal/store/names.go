package store

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minimal-docker/minimal-docker/internal/ondisk"
)

// ValidName is Docker's rule for a container's or a local volume's name
// (without a container's slash): `^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`, checked
// without a regexp (one compiled at init costs every command's start-up).
func ValidName(name string) bool {
	if len(name) < 2 || !alnum(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !alnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// maxName is the longest name: one file name (the name's link).
const maxName = 255

// CheckName checks a --name (a leading slash allowed, as Docker allows it)
// and returns it without the slash.
func CheckName(name string) (string, error) {
	n := strings.TrimPrefix(name, "/")
	if !ValidName(n) {
		return "", fmt.Errorf("%w (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", ErrInvalidName, name)
	}
	if len(n) > maxName {
		return "", fmt.Errorf("%w (%s...): longer than %d characters", ErrInvalidName, n[:20], maxName)
	}
	return n, nil
}

// NameConflictError is a name already taken. Its text is Docker's, but
// for the name's slash: Docker quotes "/same", and the scripts that match
// Podman's text, and the issue, look for `name "same" is already in use`.
type NameConflictError struct {
	Name string // without the slash
	ID   string // the container that has it
}

func (e *NameConflictError) Error() string {
	return fmt.Sprintf("Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.", e.Name, e.ID)
}

// Is makes errors.Is(err, ErrNameInUse) true.
func (e *NameConflictError) Is(target error) bool { return target == ErrNameInUse }

// The names. Each name is a symbolic link names/NAME -> ID, made while
// names.lock is held: the link is the name's reservation. symlink(2)
// fails with EEXIST on a taken name, so the reservation is atomic even
// without the lock; the lock is there so that a stale link (below) is
// replaced by one process only, and so that Sweep sees no creation
// half-way.
//
// A link is stale when its container is not there: no directory (a
// removal killed between its two steps, see Remove), or a directory with
// no record whose lock nobody holds (a create killed before it wrote the
// record). A stale name is free: reserve replaces it, Sweep removes it.

func (s *Store) namePath(name string) string { return filepath.Join(s.dir, namesDir, name) }

// lockNames takes names.lock; the returned func releases it.
func (s *Store) lockNames() (func(), error) {
	f, err := ondisk.LockPath(filepath.Join(s.dir, namesLock))
	if err != nil {
		return nil, fmt.Errorf("lock names: %w", err)
	}
	return func() { f.Close() }, nil
}

// reserve links name to id. Precondition: names.lock is held, and id's
// directory exists, locked by the caller. It fails with a
// *NameConflictError when another container has the name.
func (s *Store) reserve(name, id string) error {
	link := s.namePath(name)
	for {
		err := os.Symlink(id, link)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("reserve name %q: %w", name, err)
		}
		holder, err := os.Readlink(link)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released meanwhile
		}
		if err != nil {
			return fmt.Errorf("reserve name %q: %w", name, err)
		}
		if s.nameLive(holder) {
			return &NameConflictError{Name: name, ID: holder}
		}
		if err := s.dropStale(name, holder); err != nil {
			return fmt.Errorf("reserve name %q: %w", name, err)
		}
	}
}

// nameLive reports whether the container id, which a name links to,
// exists: it has a record, or its creator is still at work (holds its
// lock). Precondition: names.lock is held.
func (s *Store) nameLive(id string) bool {
	if !validID(id) {
		return false
	}
	dir := s.containerDir(id)
	if _, err := os.Stat(filepath.Join(dir, recordName)); err == nil {
		return true
	}
	f, err := ondisk.TryLockPath(filepath.Join(dir, lockName))
	if err != nil {
		// Held (EWOULDBLOCK): its creator is at work. Gone: stale. Any
		// other error: not decided on a guess, the name stays taken.
		return !errors.Is(err, fs.ErrNotExist)
	}
	defer f.Close()
	// Its creator may have written the record and let go of the lock
	// between the look above and this lock: look again, now that nobody
	// is at work on it.
	return hasRecord(dir)
}

// hasRecord says whether the container directory dir holds a record;
// an error other than its absence says yes (not decided on a guess).
func hasRecord(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, recordName))
	return !errors.Is(err, fs.ErrNotExist)
}

// dropStale removes the stale link name -> id, and what a killed create
// left of id (a directory with no record). Precondition: names.lock is
// held and nameLive(id) was false.
func (s *Store) dropStale(name, id string) error {
	if validID(id) {
		if err := os.RemoveAll(s.containerDir(id)); err != nil {
			return err
		}
	}
	if err := os.Remove(s.namePath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// release removes name's link if it still links to id.
func (s *Store) release(name, id string) error {
	unlock, err := s.lockNames()
	if err != nil {
		return err
	}
	defer unlock()
	link := s.namePath(name)
	if holder, err := os.Readlink(link); err != nil || holder != id {
		return nil
	}
	if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("release name %q: %w", name, err)
	}
	return nil
}

// nameOf returns the ID that name links to ("" for none or a stale link).
func (s *Store) nameOf(name string) string {
	id, err := os.Readlink(s.namePath(name))
	if err != nil || !validID(id) {
		return ""
	}
	if _, err := os.Stat(filepath.Join(s.containerDir(id), recordName)); err != nil {
		return ""
	}
	return id
}

// A generated name is an adjective and a surname, as Docker's
// ("eager_hopper"); on a collision another is drawn, and after a few a
// digit is added ("eager_hopper7"), as Docker does.
var (
	adjectives = []string{
		"agile", "bold", "brave", "bright", "busy", "calm", "clever", "cool",
		"curious", "daring", "eager", "fervent", "gentle", "happy", "humble",
		"keen", "kind", "lively", "lucid", "merry", "modest", "nimble",
		"patient", "quiet", "quirky", "serene", "sharp", "steady", "sunny",
		"swift", "tender", "vivid", "wise", "witty", "zealous",
	}
	surnames = []string{
		"babbage", "banach", "bohr", "cantor", "curie", "dijkstra", "euler",
		"faraday", "fermi", "galois", "gauss", "hamilton", "hilbert",
		"hopper", "hypatia", "kepler", "knuth", "lamport", "liskov",
		"lovelace", "maxwell", "meitner", "noether", "pascal", "ramanujan",
		"ritchie", "shannon", "somerville", "thompson", "turing", "volta",
		"wirth",
	}
)

// generateName draws a name; retry > 0 adds a digit.
func generateName(retry int) string {
	n := adjectives[rand.IntN(len(adjectives))] + "_" + surnames[rand.IntN(len(surnames))]
	if retry > 3 {
		n += strconv.Itoa(rand.IntN(10 * retry))
	}
	return n
}
