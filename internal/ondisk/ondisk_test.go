package ondisk

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWriteFile(t *testing.T) {
	for _, d := range []Durability{Volatile, Durable} {
		dir := t.TempDir()
		path := filepath.Join(dir, "state.json")
		if err := WriteFile(path, []byte("one"), 0o600, d); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(path, []byte("two"), 0o644, d); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != "two" {
			t.Fatalf("content %q, %v; want the second write", b, err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
			t.Fatalf("mode %v, %v; want 0644", fi.Mode(), err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("%d files in the directory, want only the written one", len(entries))
		}
	}
	// A failed write leaves nothing: here the directory is missing.
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "x"), nil, 0o600, Durable); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

// TestLockPath: a waiter for a lock whose directory is removed meanwhile
// gets ErrNotExist, not a lock on a file nobody else will see.
func TestLockPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c1")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lock")
	held, err := LockPath(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLockPath(path); !errors.Is(err, unix.EWOULDBLOCK) {
		t.Fatalf("TryLockPath of a held lock: err = %v, want EWOULDBLOCK", err)
	}
	got := make(chan error, 1)
	go func() {
		f, err := LockPath(path)
		if err == nil {
			f.Close()
		}
		got <- err
	}()
	// Whether the waiter opened the file before the removal or after, it
	// must not come back with a lock.
	time.Sleep(10 * time.Millisecond)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	held.Close()
	if err := <-got; !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("waiter: err = %v, want ErrNotExist", err)
	}
	if _, err := TryLockPath(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("TryLockPath in a removed directory: err = %v, want ErrNotExist", err)
	}
}

func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lock")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if same, err := sameFile(f, path); err != nil || !same {
		t.Fatalf("same file: %v, %v", same, err)
	}
	// Removed and made again (delete, then create): another file.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	// Removed (a sweep took the lock first and removed the file): not
	// the file at path, no error, so that lockMade looks again.
	if same, err := sameFile(f, path); err != nil || same {
		t.Fatalf("removed: %v, %v; want another file, no error", same, err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if same, err := sameFile(f, path); err != nil || same {
		t.Fatalf("replaced: %v, %v; want another file", same, err)
	}
}

// TestLockPathRemoved: a lock file removed again and again (as a sweep
// removes a free lock whose directory is gone) never makes LockPath fail
// while its directory is there: it locks the file at the path.
func TestLockPathRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "id.lock")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				_ = os.Remove(path)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	for i := 0; i < 2000; i++ {
		f, err := LockPath(path)
		if err != nil {
			t.Fatalf("LockPath, try %d: %v", i, err)
		}
		f.Close()
	}
}
