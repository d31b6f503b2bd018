package docker

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/userns"
)

func TestAutoBlocks(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	none := write("none", "alice:100000:65536\n")
	if bs, err := autoBlocks(none, none); err != nil || bs != nil {
		t.Errorf("without a containers entry: %v, %v; want none (the default block)", bs, err)
	}
	if bs, err := autoBlocks(filepath.Join(dir, "missing"), filepath.Join(dir, "missing")); err != nil || bs != nil {
		t.Errorf("without the files: %v, %v; want none", bs, err)
	}
	both := write("both", "alice:100000:65536\ncontainers:2147483647:2147483648\ncontainers:300000:131072\n")
	want := []userns.Block{{Start: 2147483647, Count: 2147483648}, {Start: 300000, Count: 131072}}
	if bs, err := autoBlocks(both, both); err != nil || !reflect.DeepEqual(bs, want) {
		t.Errorf("autoBlocks = %v, %v; want %v", bs, err, want)
	}
	other := write("other", "containers:400000:65536\n")
	if _, err := autoBlocks(both, other); err == nil || !strings.Contains(err.Error(), "different ranges") {
		t.Errorf("different ranges: %v; want an error saying so", err)
	}
}
