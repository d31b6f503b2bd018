package volume

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func names(t *testing.T, s *Store) []string {
	t.Helper()
	vols, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vols {
		out = append(out, v.Name)
	}
	return out
}

func TestCreateGetRemove(t *testing.T) {
	root := t.TempDir()
	s := Open(root, nil)
	v, err := s.Create("data", false)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "volumes", "data", "_data"); v.Mountpoint != want {
		t.Errorf("Mountpoint %s, want %s", v.Mountpoint, want)
	}
	if fi, err := os.Stat(v.Mountpoint); err != nil || !fi.IsDir() {
		t.Fatalf("mountpoint: %v", err)
	}
	if err := os.WriteFile(filepath.Join(v.Mountpoint, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Create again keeps what is there.
	if _, err := s.Create("data", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(v.Mountpoint, "f")); err != nil {
		t.Errorf("a second create lost the volume's files: %v", err)
	}
	if got := names(t, s); !slices.Equal(got, []string{"data"}) {
		t.Errorf("List %v, want [data]", got)
	}
	if err := s.Remove("data"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("data"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Remove: %v, want ErrNotFound", err)
	}
	if err := s.Remove("data"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove of a missing volume: %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "..", "../x", ".tmp"} {
		if _, err := s.Get(bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", bad, err)
		}
	}
}

func TestInUse(t *testing.T) {
	s := Open(t.TempDir(), nil)
	lease, err := s.Use("busy", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Use("busy", false); err != nil { // shared: two runs at once
		t.Fatal(err)
	}
	if err := s.Remove("busy"); !errors.Is(err, ErrInUse) {
		t.Fatalf("Remove of a volume in use: %v, want ErrInUse", err)
	}
	removed, err := s.Prune(true)
	if err != nil || len(removed) != 0 {
		t.Fatalf("Prune removed %v (%v), want nothing: the volume is in use", removed, err)
	}
	lease.Release()
}

func TestPrune(t *testing.T) {
	s := Open(t.TempDir(), nil)
	for _, n := range []string{"named", "anon"} {
		if _, err := s.Create(n, n == "anon"); err != nil {
			t.Fatal(err)
		}
	}
	held, err := s.Use("held", true)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	removed, err := s.Prune(false)
	if err != nil || !slices.Equal(removed, []string{"anon"}) {
		t.Fatalf("Prune(false) removed %v (%v), want [anon]", removed, err)
	}
	removed, err = s.Prune(true)
	if err != nil || !slices.Equal(removed, []string{"named"}) {
		t.Fatalf("Prune(true) removed %v (%v), want [named]", removed, err)
	}
	if got := names(t, s); !slices.Equal(got, []string{"held"}) {
		t.Errorf("left %v, want [held]", got)
	}
}

func TestAttachDetach(t *testing.T) {
	const a, b = "aaaa", "bbbb"
	live := map[string]bool{a: true, b: true}
	s := Open(t.TempDir(), func(id string) bool { return live[id] })
	attach := func(name, id string, anonymous bool) {
		t.Helper()
		lease, err := s.Attach(name, id, anonymous)
		if err != nil {
			t.Fatal(err)
		}
		lease.Release() // the record keeps it from now on
	}
	attach("shared", a, false)
	attach("shared", b, false)
	attach("anon", a, true)
	attach("anon", b, false) // used by name by another container

	err := s.Remove("shared")
	if !errors.Is(err, ErrInUse) || err.Error() != "remove shared: volume is in use - [aaaa, bbbb]" {
		t.Fatalf("Remove of an attached volume: %v, want Docker's in-use message naming both", err)
	}
	if removed, err := s.Prune(true); err != nil || len(removed) != 0 {
		t.Fatalf("Prune removed %v (%v), want nothing: every volume is attached", removed, err)
	}

	// a removed without detaching (an rm killed after the record went):
	// its file names no container and counts for nothing.
	live[a] = false
	if err := s.Remove("shared"); !errors.Is(err, ErrInUse) || !strings.HasSuffix(err.Error(), "- [bbbb]") {
		t.Fatalf("Remove: %v, want in use by bbbb only", err)
	}
	// rm -v of a: its anonymous volume stays while b uses it.
	if err := s.Detach("anon", a, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("anon"); err != nil {
		t.Fatalf("rm -v removed a volume another container uses: %v", err)
	}
	// b used it by name: its rm -v does not remove it.
	if err := s.Detach("anon", b, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("anon"); err != nil {
		t.Fatalf("rm -v removed a volume the container did not make: %v", err)
	}
	if err := s.Detach("shared", b, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("shared"); err != nil {
		t.Fatalf("Remove once no container uses it: %v", err)
	}
	if err := s.Detach("shared", b, true); err != nil {
		t.Errorf("Detach of a removed volume: %v, want nil", err)
	}

	live[a] = true
	attach("mine", a, true)
	if err := s.Detach("mine", a, false); err != nil { // rm without -v
		t.Fatal(err)
	}
	if _, err := s.Get("mine"); err != nil {
		t.Fatalf("rm without -v removed the anonymous volume: %v", err)
	}
	attach("mine", a, true)
	if err := s.Detach("mine", a, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("mine"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rm -v left the container's anonymous volume: %v", err)
	}
	// While being created, before its record exists, a container's
	// volume is held by its command's lease: never free in between.
	live["cccc"] = false
	lease, err := s.Attach("new", "cccc", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("new"); !errors.Is(err, ErrInUse) {
		t.Errorf("Remove of a volume being attached: %v, want ErrInUse", err)
	}
	lease.Release()
	if err := s.Remove("new"); err != nil { // its create failed without a record
		t.Errorf("Remove once the lease is gone and no record names it: %v", err)
	}
	if _, err := s.Attach("x", "../evil", false); err == nil {
		t.Error("Attach with a path as the container ID: no error")
	}
}
