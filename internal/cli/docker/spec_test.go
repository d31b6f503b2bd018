package docker

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestSpecWritesDefaults: `minimal-docker spec` writes run's defences, and
// refuses to overwrite a config.json.
func TestSpecWritesDefaults(t *testing.T) {
	dir := t.TempDir()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	st := Streams{In: devnull, Out: devnull, Err: devnull}
	if code := Execute([]string{"spec", "--bundle", dir}, st); code != 0 {
		t.Fatalf("spec exited %d", code)
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Process.Capabilities.Bounding) != 14 || !s.Process.NoNewPrivileges || s.Linux.Seccomp == nil ||
		len(s.Linux.MaskedPaths) == 0 || len(s.Linux.Resources.Devices) == 0 || s.Root.Path != "rootfs" {
		t.Errorf("config.json lacks run's defaults: %s", strings.SplitN(string(data), "\n", 2)[0])
	}
	if code := Execute([]string{"spec", "--bundle", dir}, st); code == 0 {
		t.Error("spec overwrote an existing config.json")
	}
}
