package runc

import (
	"encoding/json"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

func TestFeaturesJSON(t *testing.T) {
	b, err := featuresJSON()
	if err != nil {
		t.Fatal(err)
	}
	var f features.Features
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("features is not the spec's JSON: %v\n%s", err, b)
	}
	if f.OCIVersionMin != "1.0.0" || f.OCIVersionMax != specs.Version {
		t.Errorf("versions %q..%q, want 1.0.0..%s", f.OCIVersionMin, f.OCIVersionMax, specs.Version)
	}
	if f.Hooks == nil || len(f.Hooks) != 0 {
		t.Errorf("hooks = %#v, want an empty list (none implemented), not unknown", f.Hooks)
	}
	if f.Linux == nil || f.Linux.Cgroup == nil || !*f.Linux.Cgroup.V1 || !*f.Linux.Cgroup.V2 || *f.Linux.Cgroup.Systemd {
		t.Errorf("cgroup = %+v, want v1 and v2, no systemd", f.Linux.Cgroup)
	}
	if f.Linux.Seccomp == nil || f.Linux.Seccomp.Enabled == nil || *f.Linux.Seccomp.Enabled {
		t.Errorf("seccomp = %+v, want enabled false", f.Linux.Seccomp)
	}
	for _, want := range []string{"ro", "nosuid", "bind", "rbind", "rprivate"} {
		if !slices.Contains(f.MountOptions, want) {
			t.Errorf("mountOptions lack %q", want)
		}
	}
}

// TestFeaturesNamespaces: the namespaces listed are exactly those a
// container can be created with.
func TestFeaturesNamespaces(t *testing.T) {
	got := supportedNamespaces()
	want := []string{"cgroup", "ipc", "mount", "network", "pid", "uts"}
	if !slices.Equal(got, want) {
		t.Errorf("namespaces = %v, want %v", got, want)
	}
}
