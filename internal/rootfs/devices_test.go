package rootfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

func TestBindMountOver(t *testing.T) {
	mounts := []specs.Mount{
		{Destination: "/dev", Type: "tmpfs"},
		{Destination: "/dev/shm", Type: "bind", Source: "/host/shm"},
		{Destination: "/dev/input", Type: "none", Source: "/dev/input", Options: []string{"rbind", "ro"}},
		{Destination: "/proc", Type: "proc"},
	}
	for p, want := range map[string]string{
		"/dev/fuse":          "",
		"/dev/shm/x":         "/dev/shm",
		"/dev/shm":           "/dev/shm",
		"/dev/input/event0":  "/dev/input",
		"/dev/inputs/event0": "",
		"/etc/x":             "",
	} {
		if got := bindMountOver(mounts, p); got != want {
			t.Errorf("bindMountOver(%q) = %q, want %q", p, got, want)
		}
	}
	// The whole of /dev from the host.
	host := []specs.Mount{{Destination: "/dev/", Type: "bind", Source: "/dev", Options: []string{"rbind"}}}
	if got := bindMountOver(host, "/dev/fuse"); got != "/dev" {
		t.Errorf("with /dev bound from the host: %q", got)
	}
}

func TestCreateDevices(t *testing.T) {
	testenv.RequireRoot(t)
	root := t.TempDir()
	mode := os.FileMode(0o640)
	uid, gid := uint32(1000), uint32(5)
	devs := []specs.LinuxDevice{
		{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: &uid, GID: &gid},
		{Path: "/dev/net/tun", Type: "u", Major: 10, Minor: 200},
		{Path: "/dev/loop-test", Type: "b", Major: 7, Minor: 200},
		{Path: "/dev/pipe", Type: "p"},
	}
	if err := CreateDevices(root, devs, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path         string
		typ, mode    uint32
		major, minor uint32
		uid, gid     uint32
	}{
		{"dev/fuse", unix.S_IFCHR, 0o640, 10, 229, 1000, 5},
		{"dev/net/tun", unix.S_IFCHR, 0o666, 10, 200, 0, 0},
		{"dev/loop-test", unix.S_IFBLK, 0o666, 7, 200, 0, 0},
		{"dev/pipe", unix.S_IFIFO, 0o666, 0, 0, 0, 0},
	} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, tc.path), &st); err != nil {
			t.Fatal(err)
		}
		if st.Mode&unix.S_IFMT != tc.typ || st.Mode&0o7777 != tc.mode || st.Uid != tc.uid || st.Gid != tc.gid ||
			(tc.typ != unix.S_IFIFO && (unix.Major(st.Rdev) != tc.major || unix.Minor(st.Rdev) != tc.minor)) {
			t.Errorf("%s: mode %o rdev %d:%d owner %d:%d", tc.path, st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev), st.Uid, st.Gid)
		}
	}
	// Listing an existing node again is fine; a different one in its
	// place is an error naming the path.
	if err := CreateDevices(root, devs[:1], nil); err != nil {
		t.Errorf("same device again: %v", err)
	}
	for _, tc := range []struct {
		name string
		dev  specs.LinuxDevice
		want string
	}{
		{"different numbers", specs.LinuxDevice{Path: "/dev/fuse", Type: "c", Major: 1, Minor: 3}, "is not the requested device"},
		{"different type", specs.LinuxDevice{Path: "/dev/fuse", Type: "b", Major: 10, Minor: 229}, "is not the requested device"},
		{"unknown type", specs.LinuxDevice{Path: "/dev/x", Type: "x"}, `unknown type "x"`},
		{"relative path", specs.LinuxDevice{Path: "dev/x", Type: "c", Major: 1, Minor: 3}, "absolute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CreateDevices(root, []specs.LinuxDevice{tc.dev}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "linux.devices "+tc.dev.Path) {
				t.Errorf("err = %v, want one naming linux.devices %s and %q", err, tc.dev.Path, tc.want)
			}
		})
	}
	// Beneath a bind mount from the host nothing is created.
	bound := []specs.Mount{{Destination: "/dev", Type: "bind", Source: "/dev"}}
	err := CreateDevices(root, []specs.LinuxDevice{{Path: "/dev/new", Type: "c", Major: 1, Minor: 3}}, bound)
	if err == nil || !strings.Contains(err.Error(), "bind-mounted from the host") {
		t.Errorf("beneath a bind mount: err = %v", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "dev/new")); !os.IsNotExist(err) {
		t.Errorf("a node was created beneath the bind mount: %v", err)
	}
}
