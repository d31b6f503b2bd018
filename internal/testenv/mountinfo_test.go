package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	text := "36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n" +
		"\n" + // empty lines are passed over
		"37 36 0:5 / /proc rw,nosuid - proc proc rw\n"
	mounts, err := ParseMountinfo(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 2 {
		t.Fatalf("got %d mounts, want 2", len(mounts))
	}
	m := mounts[0]
	if m.Root != "/mnt1" || m.Mountpoint != "/mnt/with space" || m.Options != "rw,noatime" || m.FSType != "ext3" || m.Source != "/dev/root" {
		t.Errorf("first mount = %+v", m)
	}
	if got, want := m.Key(), "/mnt/with space /mnt1 ext3 /dev/root"; got != want {
		t.Errorf("Key() = %q, want %q", got, want)
	}
	if _, err := ParseMountinfo("garbage\n"); err == nil {
		t.Error("ParseMountinfo(garbage) = nil error")
	}
}

func TestIsUnder(t *testing.T) {
	for _, tt := range []struct {
		path, dir string
		want      bool
	}{
		{"/tmp/a", "/tmp", true},
		{"/tmp", "/tmp/", true},
		{"/tmpx", "/tmp", false},
		{"/", "/tmp", false},
	} {
		if got := IsUnder(tt.path, tt.dir); got != tt.want {
			t.Errorf("IsUnder(%q, %q) = %v, want %v", tt.path, tt.dir, got, tt.want)
		}
	}
}

func TestReadMountinfoHasRoot(t *testing.T) {
	mounts, err := ReadMountinfo()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range mounts {
		if m.Mountpoint == "/" {
			found = true
		}
	}
	if !found {
		t.Error("no mount at / in /proc/self/mountinfo")
	}
}

func TestModuleRootAndIsStatic(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := IsStatic(exe); err != nil {
		t.Errorf("IsStatic(%s): %v", exe, err)
	}
	if _, err := IsStatic(filepath.Join(root, "go.mod")); err == nil {
		t.Error("IsStatic(go.mod) = nil error, want: not an ELF file")
	}
}
