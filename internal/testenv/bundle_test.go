package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestEditConfig: the edit is written back and the rest of the config
// kept; a bundle without a config.json, or with a broken one, is an error
// naming the file.
func TestEditConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	if err := os.WriteFile(p, []byte(`{"ociVersion":"1.0.2","hostname":"old","process":{"args":["sh"],"cwd":"/"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := EditConfig(dir, func(s *specs.Spec) { s.Hostname = "new" }); err != nil {
		t.Fatal(err)
	}
	var got specs.Spec
	if err := EditConfig(dir, func(s *specs.Spec) { got = *s }); err != nil {
		t.Fatal(err)
	}
	if got.Hostname != "new" || got.Version != "1.0.2" || got.Process == nil || got.Process.Args[0] != "sh" {
		t.Errorf("after the edit: %+v", got)
	}
	if err := EditConfig(t.TempDir(), func(*specs.Spec) {}); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("no config.json: %v, want an error naming it", err)
	}
	if err := os.WriteFile(p, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := EditConfig(dir, func(*specs.Spec) {}); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("broken config.json: %v, want an error naming it", err)
	}
}
