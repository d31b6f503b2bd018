package volume

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
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
	s := Open(root)
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
	s := Open(t.TempDir())
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
	s := Open(t.TempDir())
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
