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

// TestMarshal: Marshal and MarshalIndent write a Linux spec as
// encoding/json writes specs.Spec, byte for byte, and leave another
// platform's section out.
func TestMarshal(t *testing.T) {
	s, err := Default("/rootfs", []string{"sh", "-c", "true"}, WithMemory(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}}
	s.Annotations = map[string]string{"a": "b"}
	s.Domainname = "example.org"
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Marshal(s); err != nil || string(got) != string(want) {
		t.Errorf("Marshal:\n%s\nwant\n%s (%v)", got, want, err)
	}
	want, _ = json.MarshalIndent(s, "", "\t")
	if got, err := MarshalIndent(s); err != nil || string(got) != string(want) {
		t.Errorf("MarshalIndent:\n%s\nwant\n%s (%v)", got, want, err)
	}
	s.Windows = &specs.Windows{LayerFolders: []string{`C:\layer`}}
	b, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["windows"]; ok {
		t.Errorf("Marshal wrote the windows section")
	}
}
