// Package ondisk holds the two ways the stores share files between
// processes that may be killed at any point: a file replaced atomically
// (readers see the old content or the new, never a part), and a lock file
// that follows its directory's removal (flock).
package ondisk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Durability says whether WriteFile's content must survive a crash of the
// machine.
type Durability int

const (
	// Volatile: the rename is atomic, nothing is synced. For files that
	// describe processes a crash of the machine ends anyway, on a tmpfs
	// (/run): each sync costs a disk flush (~1 ms here).
	Volatile Durability = iota
	// Durable: the file is synced before the rename and its directory
	// after it, so that after a crash the path holds the old content or
	// the new one, complete. For records on disk (--root).
	Durable
)

// WriteFile replaces path with a file holding b, mode perm: a temp file
// beside it (".NAME.tmp-*"; a crash may leave one, which readers of path
// never see) renamed over it.
func WriteFile(path string, b []byte, perm fs.FileMode, d Durability) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil && perm != 0o600 { // CreateTemp makes 0600
		err = tmp.Chmod(perm)
	}
	if err == nil && d == Durable {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if d == Durable {
		return syncDir(dir)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// LockPath takes an exclusive flock on the file at path (made if missing,
// mode 0600, in a directory that must exist) and returns it open; closing
// it releases the lock. It fails with an error wrapping fs.ErrNotExist
// when path's directory does not exist.
//
// A command that held the lock may have removed the directory, or removed
// and made it again, while this one waited: the lock taken is then on a
// file no longer at that path, so LockPath looks again.
func LockPath(path string) (*os.File, error) { return lockMade(path, unix.LOCK_EX) }

// LockPathShared is LockPath with a shared flock: any number of holders
// at once, none while another holds it exclusively.
func LockPathShared(path string) (*os.File, error) { return lockMade(path, unix.LOCK_SH) }

// TryLockMade is LockPath without the wait: it fails with an error
// wrapping unix.EWOULDBLOCK when another holds the lock.
func TryLockMade(path string) (*os.File, error) { return lockMade(path, unix.LOCK_EX|unix.LOCK_NB) }

// lockMade is LockPath's loop, with flock's how.
func lockMade(path string, how int) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		same, err := flockAt(f, path, how)
		if err != nil || same {
			return f, err
		}
		_ = f.Close()
	}
}

// TryLockPath is LockPath without the wait: it fails with an error
// wrapping unix.EWOULDBLOCK when another holds the lock. It does not make
// a missing file (fs.ErrNotExist).
func TryLockPath(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	same, err := flockAt(f, path, unix.LOCK_EX|unix.LOCK_NB)
	if err != nil {
		return nil, err
	}
	if !same {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, fs.ErrNotExist)
	}
	return f, nil
}

// flockAt locks f, then reports whether f is still the file at path. It
// closes f on error.
func flockAt(f *os.File, path string, how int) (bool, error) {
	if err := Flock(f, how); err != nil {
		_ = f.Close()
		return false, err
	}
	same, err := sameFile(f, path)
	if err != nil {
		_ = f.Close()
		return false, fmt.Errorf("lock: %w", err)
	}
	return same, nil
}

// Flock is flock(2) on f, retried on EINTR.
func Flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			if err != nil {
				return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}

// sameFile reports whether the open file f is the file at path (not
// when nothing is there any more: the file was removed, by a sweep of
// stale locks that took the lock first, say).
func sameFile(f *os.File, path string) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	pi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, pi), nil
}
