package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLookPath(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"bin", "usr/bin", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(root, p), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("bin/sh", 0o755)
	write("usr/bin/data", 0o644)
	write("etc/passwd", 0o644)
	// A symlink pointing at an absolute host path must resolve in the root.
	if err := os.Symlink("/bin/sh", filepath.Join(root, "usr/bin/link")); err != nil {
		t.Fatal(err)
	}
	const path = "/usr/bin:/bin"
	for _, tc := range []struct {
		file, want string
		err        error
	}{
		{"sh", "/bin/sh", nil},
		{"link", "/usr/bin/link", nil},
		{"/bin/sh", "/bin/sh", nil},
		{"missing", "", ErrNotFound},
		{"data", "", ErrNotExecutable},
		{"/etc/passwd", "", ErrNotExecutable},
		{"/etc", "", ErrNotExecutable},
		{"/nope", "", ErrNotFound},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := LookPath(root, tc.file, path, "/")
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("LookPath(%q) = %q, %v; want %v", tc.file, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("LookPath(%q) = %q, %v; want %q", tc.file, got, err, tc.want)
			}
		})
	}
}

func TestParseOptions(t *testing.T) {
	p := parseOptions([]string{"nosuid", "ro", "rw", "mode=755", "rprivate", "size=1k"})
	if p.flags != mountFlags()["nosuid"].flag {
		t.Errorf("flags = %#x", p.flags)
	}
	if p.data != "mode=755,size=1k" {
		t.Errorf("data = %q", p.data)
	}
	if len(p.propagation) != 1 {
		t.Errorf("propagation = %v", p.propagation)
	}
}
