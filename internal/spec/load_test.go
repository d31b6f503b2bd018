package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestLoad: Load gives every Linux part of config.json as decoding into
// specs.Spec would (here: the spec `minimal-runc spec` writes, with hooks,
// annotations and a relative root), makes root.path absolute under the
// bundle, and leaves the other platforms' sections out.
func TestLoad(t *testing.T) {
	want, err := Bundle()
	if err != nil {
		t.Fatal(err)
	}
	want.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}}
	want.Annotations = map[string]string{"a": "b"}
	want.Domainname = "example"
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	// The other platforms' sections, which Load drops.
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc["windows"] = map[string]any{"layerFolders": []string{`C:\l`}}
	doc["vm"] = map[string]any{"kernel": map[string]any{"path": "/k"}}
	if b, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	bundle := t.TempDir()
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if got.Windows != nil || got.VM != nil {
		t.Errorf("Load kept another platform's section: windows %+v, vm %+v", got.Windows, got.VM)
	}
	if wantRoot := filepath.Join(bundle, "rootfs"); got.Root.Path != wantRoot {
		t.Errorf("root.path = %q, want %q", got.Root.Path, wantRoot)
	}
	got.Root.Path = want.Root.Path
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("Load = %s\nwant %s", g, w)
	}
}
