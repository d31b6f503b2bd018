package cgfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestSetPlansFirst: Set writes nothing when a plan fails, and passes over
// a controller without a directory.
func TestSetPlansFirst(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := func(value string, err error) func(string, *specs.LinuxResources) ([]Write, error) {
		return func(string, *specs.LinuxResources) ([]Write, error) { return []Write{{Name: "a", Value: value}}, err }
	}
	refused := errors.New("refused")
	table := []Controller{{Name: "first", Plan: plan("1", nil)}, {Name: "second", Plan: plan("2", refused)}}
	if err := Set(table, func(string) string { return dir }, nil); err != refused {
		t.Fatalf("Set = %v, want the second plan's error", err)
	}
	if got, _ := ReadFile(dir, "a"); got != "0" {
		t.Errorf("a = %q after a failed plan, want it untouched", got)
	}
	only := func(c string) string {
		if c == "first" {
			return dir
		}
		return ""
	}
	if err := Set(table, only, nil); err != nil {
		t.Fatalf("Set without a directory for the second: %v", err)
	}
	if got, _ := ReadFile(dir, "a"); got != "1" {
		t.Errorf("a = %q, want 1", got)
	}
}
