package runc

import (
	"encoding/json"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/minimal-docker/minimal-docker/internal/seccomp"
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
	wantHooks := []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
	if !slices.Equal(f.Hooks, wantHooks) {
		t.Errorf("hooks = %#v, want %v", f.Hooks, wantHooks)
	}
	if f.Linux == nil || f.Linux.Cgroup == nil || !*f.Linux.Cgroup.V1 || !*f.Linux.Cgroup.V2 || *f.Linux.Cgroup.Systemd {
		t.Errorf("cgroup = %+v, want v1 and v2, no systemd", f.Linux.Cgroup)
	}
	if sc := f.Linux.Seccomp; sc == nil || sc.Enabled == nil || *sc.Enabled != seccomp.Available() {
		t.Errorf("seccomp = %+v, want enabled %v", sc, seccomp.Available())
	} else if seccomp.Available() && (!slices.Contains(sc.Actions, "SCMP_ACT_ERRNO") || slices.Contains(sc.Actions, "SCMP_ACT_NOTIFY") ||
		!slices.Contains(sc.Operators, "SCMP_CMP_MASKED_EQ") || !slices.Contains(sc.Archs, "SCMP_ARCH_X86_64") ||
		!slices.Contains(sc.KnownFlags, "SECCOMP_FILTER_FLAG_LOG")) {
		t.Errorf("seccomp = %+v, want its actions (no NOTIFY), operators, archs and flags", sc)
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
	want := []string{"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}
	if !slices.Equal(got, want) {
		t.Errorf("namespaces = %v, want %v", got, want)
	}
}
