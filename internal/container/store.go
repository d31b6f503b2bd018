package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/ondisk"
)

// The files in a container's directory of the Store.
const (
	lockName  = "lock"       // flocked by every command on the container
	stateName = "state.json" // the State, replaced atomically
	// trashPrefix names the directories Remove renames containers' to
	// before it empties them; '~' is not valid in an ID, so List never
	// shows them.
	trashPrefix = "~removing-"
)

// Store keeps the containers' states under a root directory (the runtime's
// --root, /run/minimal-docker by default), one directory per container:
//
//	root/ID/lock          flock(LOCK_EX) held by the command working on ID
//	root/ID/state.json    the State, written to a temp file and renamed
//	root/~removing-XXXX/  a container's directory being removed
//
// Other files of a container (its exec fifo, its config copy) may live in
// the same directory: Handle.Remove removes them with it.
//
// A command may be killed at any point; what it leaves is a directory a
// later command can still deal with. A directory without a state (a
// create killed before it saved one) loads as a stopped container; one
// saved creating is a create killed before it finished (see Refresh); a
// ~removing- directory whose lock nobody holds is a removal killed midway,
// which OpenStore finishes.
type Store struct {
	root string
}

// OpenStore returns the store under root, making root (mode 0711) if
// needed. It first finishes the removals that killed commands left
// (finishRemovals).
func OpenStore(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("open store: empty root")
	}
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{root: root}
	s.finishRemovals()
	return s, nil
}

// Handle is a locked container directory. Preconditions: a command takes
// the handle (Create or Open) before it reads or changes anything of the
// container, and holds it until it has finished with it — across Load,
// the work, Save or Remove — and then Closes it. Commands on one container
// are thus serialized, in this process and across processes. A State
// loaded under one handle must not be saved under another.
type Handle struct {
	id   string
	dir  string // the trash directory once retired
	lock *os.File
	// retired: the directory was renamed to the trash (Retire).
	retired bool
}

// Create makes the directory of a new container and returns it locked.
// It fails with ErrInvalidID or ErrExist. The new directory has no state
// yet: the caller Saves one (status Creating) first thing.
func (s *Store) Create(id string) (*Handle, error) {
	if err := ValidID(id); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	dir := filepath.Join(s.root, id)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create %s: %w", id, ErrExist)
		}
		return nil, fmt.Errorf("create %s: %w", id, err)
	}
	f, err := lockDir(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("create %s: %w", id, err)
	}
	return &Handle{id: id, dir: dir, lock: f}, nil
}

// Open locks the directory of an existing container, waiting while another
// command holds it. It fails with ErrInvalidID or ErrNotExist (also when
// the container was removed while Open waited).
func (s *Store) Open(id string) (*Handle, error) {
	if err := ValidID(id); err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	dir := filepath.Join(s.root, id)
	f, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", id, err)
	}
	return &Handle{id: id, dir: dir, lock: f}, nil
}

// List returns the IDs of the containers in the store, sorted. It does not
// lock: a listed container may be gone, or have no state yet, when the
// caller Opens and Loads it (ErrNotExist).
func (s *Store) List() ([]string, error) {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && ValidID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// lockDir takes an exclusive flock on dir/lock and returns it (see
// ondisk.LockPath: a directory removed while this one waited is gone).
func lockDir(dir string) (*os.File, error) {
	f, err := ondisk.LockPath(filepath.Join(dir, lockName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotExist
	}
	return f, err
}

// ID returns the container's ID.
func (h *Handle) ID() string { return h.id }

// Dir returns the container's directory, where the caller may keep other
// files of the container (its exec fifo, its config copy).
func (h *Handle) Dir() string { return h.dir }

func (h *Handle) statePath() string { return filepath.Join(h.dir, stateName) }

// Load reads the container's saved state. A directory without one — a
// create killed before it saved anything; the holder of the lock would
// have saved one — loads as a container still creating that has nothing
// but its directory: no init, no cgroup (Refresh makes it stopped).
func (h *Handle) Load() (*State, error) {
	st, err := readState(h.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return h.unsaved()
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", h.id, err)
	}
	return st, nil
}

// unsaved is the state of a container directory that has none: what is
// known is its ID, and its time of creation (the directory's).
func (h *Handle) unsaved() (*State, error) {
	fi, err := os.Stat(h.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load %s: %w", h.id, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", h.id, err)
	}
	return &State{ID: h.id, Status: Creating, Created: fi.ModTime().UTC()}, nil
}

func readState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &st, nil
}

// Save writes the state atomically: to a temp file in the same directory,
// then renamed over state.json. Readers see the old state or the new one,
// never a part.
func (h *Handle) Save(st *State) error {
	if st.ID != h.id {
		return fmt.Errorf("save %s: state is of container %q", h.id, st.ID)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("save %s: %w", h.id, err)
	}
	if err := writeAtomic(h.statePath(), b); err != nil {
		return fmt.Errorf("save %s: %w", h.id, err)
	}
	return nil
}

// writeAtomic replaces path with a file holding b, mode 0600. Not synced
// to disk (as runc's state): it describes processes that a crash of the
// machine ends anyway, and each sync costs a disk flush on a start's path
// (~1 ms here; the state root is usually a tmpfs, /run).
func writeAtomic(path string, b []byte) error {
	return ondisk.WriteFile(path, b, 0o600, ondisk.Volatile)
}

// Remove removes the container's directory and all in it (delete).
// Precondition: what the state names (init, cgroup) is gone already. It
// first renames the directory out of the way (root/~removing-XXXX), so
// that a command waiting for the lock, or coming after, finds no container
// (ErrNotExist) and never a half-removed one; the ID is free at once. The
// caller still Closes the handle.
func (h *Handle) Remove() error {
	if err := h.Retire(); err != nil {
		return err
	}
	if err := os.RemoveAll(h.dir); err != nil {
		return fmt.Errorf("remove %s: %w", h.id, err)
	}
	return nil
}

// Retire is Remove's first half: it renames the container's directory to
// the trash, where the state still names what the container had; Remove
// then empties it. Between the two, the caller may finish destroying what
// the state names: if it is killed meanwhile, the next command finishes the
// job (finishRemovals). Dir is the trash directory from then on.
func (h *Handle) Retire() error {
	if h.retired {
		return nil
	}
	trash, err := renameToTrash(h.dir)
	if err != nil {
		return fmt.Errorf("remove %s: %w", h.id, err)
	}
	h.dir, h.retired = trash, true
	return nil
}

// renameToTrash renames dir to a new ~removing- name beside it, and
// returns that.
func renameToTrash(dir string) (string, error) {
	for {
		trash := filepath.Join(filepath.Dir(dir), trashPrefix+strconv.FormatUint(rand.Uint64(), 36))
		err := unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, trash, unix.RENAME_NOREPLACE)
		if err == unix.EINVAL { // a file system without RENAME_NOREPLACE
			err = unix.Rename(dir, trash)
		}
		switch {
		case err == nil:
			return trash, nil
		case err != unix.EEXIST:
			return "", &os.LinkError{Op: "rename", Old: dir, New: trash, Err: err}
		}
	}
}

// finishRemovals finishes the removals that killed commands left: each
// ~removing- directory whose lock nobody holds (a holder is removing it
// now). The state in it says what the container had; what is left of that
// is destroyed before the directory goes (a foreground run removes its
// directory only once its cgroup is gone, but earlier versions did both
// at once). Directories of the earlier form ~removing-N/ID are finished
// the same way. Best effort: what fails now stays for the next command.
func (s *Store) finishRemovals() {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), trashPrefix) {
			_ = finishRemoval(filepath.Join(s.root, e.Name()))
		}
	}
}

// finishRemoval finishes the removal of one ~removing- directory.
func finishRemoval(trash string) error {
	entries, err := os.ReadDir(trash)
	if err != nil {
		return err
	}
	nested := true // the earlier form: trash/ID
	for _, e := range entries {
		if !e.IsDir() {
			nested = false
		}
	}
	if !nested {
		return purge(trash)
	}
	for _, e := range entries {
		if err := purge(filepath.Join(trash, e.Name())); err != nil {
			return err
		}
	}
	return os.Remove(trash)
}

// purge removes a container directory that is out of the store's
// namespace, unless a live command holds its lock; what its state names
// is destroyed first.
func purge(dir string) error {
	lock, err := os.Open(filepath.Join(dir, lockName))
	if err == nil {
		defer lock.Close()
		if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			return &os.PathError{Op: "flock", Path: lock.Name(), Err: err}
		}
	}
	// A state that is gone or can't be read tells of nothing to undo.
	if st, err := readState(filepath.Join(dir, stateName)); err == nil {
		if err := destroy(st, debugLog{}); err != nil {
			return err
		}
	}
	return os.RemoveAll(dir)
}

// Close releases the lock. It may be called more than once.
func (h *Handle) Close() error {
	if h.lock == nil {
		return nil
	}
	err := h.lock.Close() // closing the only descriptor releases the flock
	h.lock = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", h.id, err)
	}
	return nil
}

// Live reports whether container id is in the store and may still use
// what was set up for it (its network attachment): its init runs, or its
// owner does (the foreground run, which tears the container down when it
// ends), or it has no state yet (a create at work). It takes no lock: the
// owner of a running container holds none, and a state being replaced
// reads as before or after.
func (s *Store) Live(id string) (bool, error) {
	if err := ValidID(id); err != nil {
		return false, fmt.Errorf("live: %w", err)
	}
	st, err := readState(filepath.Join(s.root, id, stateName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		_, err := os.Stat(filepath.Join(s.root, id))
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil // not in the store
		}
		return true, nil // a directory without a state: its create at work
	case err != nil:
		return false, fmt.Errorf("live %s: %w", id, err)
	}
	alive, err := st.initAlive()
	if err != nil {
		return false, fmt.Errorf("live %s: %w", id, err)
	}
	return alive || (st.OwnerPid != 0 && st.ownerAlive()), nil
}
