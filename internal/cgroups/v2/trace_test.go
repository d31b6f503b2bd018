package v2

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
)

// TestTraceV2: each value Create writes is traced as the file then holds
// it, and the device program's attachment is traced with its size.
func TestTraceV2(t *testing.T) {
	mount := newMount(t, allControllers)
	dir := filepath.Join(mount, "ctr")
	m := newTestManager(t, &fake{}, dir)
	m.attach = func(string, []insn) error { return nil }
	var writes, bpf []string
	t.Cleanup(cgfs.SetTrace(func(op, path, value string, _ time.Duration, err error) {
		if err != nil {
			t.Errorf("%s %s %q: %v", op, path, value, err)
		}
		switch op {
		case "write":
			if filepath.Base(path) != "cgroup.subtree_control" {
				writes = append(writes, path+"="+value)
			}
		case "bpf":
			bpf = append(bpf, path+": "+value)
		}
	}))
	r := limits()
	r.Devices = []specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rwm")}
	if err := m.Create(r); err != nil {
		t.Fatal(err)
	}
	defer m.Destroy()
	if len(writes) == 0 {
		t.Fatal("no write traced")
	}
	for _, w := range writes {
		path, value, _ := strings.Cut(w, "=")
		if got := cgfstest.ReadFile(t, filepath.Dir(path), filepath.Base(path)); got != value {
			t.Errorf("traced %s = %q, the file holds %q", path, value, got)
		}
	}
	if len(bpf) != 1 || !strings.HasPrefix(bpf[0], dir+": BPF_CGROUP_DEVICE program of ") || !strings.HasSuffix(bpf[0], "instructions (2 device rules)") {
		t.Errorf("bpf traced %q, want one program attached to %s", bpf, dir)
	}
}
