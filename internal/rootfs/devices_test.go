package rootfs

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
