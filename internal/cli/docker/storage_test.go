package docker

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestParseStorageOpts: --storage-opt's one key, its forms, and the
// errors that name what is wrong.
func TestParseStorageOpts(t *testing.T) {
	for _, tc := range []struct {
		opts   []string
		abs    bool   // a program is named: its absolute path
		errHas string // else "" for none
	}{
		{opts: nil},
		{opts: []string{"overlay.mount_program=sh"}, abs: true},
		{opts: []string{"mount_program=/bin/sh"}, abs: true},
		{opts: []string{"overlay.mount_program=/bin/sh", "overlay.mount_program="}},
		{opts: []string{"overlay.mount_program"}, errHas: "want KEY=VALUE"},
		{opts: []string{"overlay.size=10G"}, errHas: `unknown option "overlay.size"`},
		{opts: []string{"overlay.mount_program=/no/such/fuse-overlayfs"}, errHas: "/no/such/fuse-overlayfs"},
	} {
		t.Run(strings.Join(tc.opts, ","), func(t *testing.T) {
			p, err := parseStorageOpts(tc.opts)
			switch {
			case tc.errHas != "":
				if err == nil || !strings.Contains(err.Error(), tc.errHas) || !strings.Contains(err.Error(), "--storage-opt") {
					t.Fatalf("got %q, %v; want an error naming --storage-opt and %q", p, err, tc.errHas)
				}
			case err != nil:
				t.Fatal(err)
			case tc.abs != (p != "") || p != "" && !filepath.IsAbs(p):
				t.Errorf("program %q, want an absolute path: %v", p, tc.abs)
			}
		})
	}
}
