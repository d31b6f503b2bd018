package namespaces

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestJoinedUser reads this test's own user namespace (the host's, when
// the tests run as root on the host: every id onto itself, setgroups
// allowed) through /proc/self and through a path that names no process,
// and refuses files that are not a user namespace, naming what they are.
func TestJoinedUser(t *testing.T) {
	own, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseIDMap(own)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := os.ReadFile("/proc/self/setgroups")
	if err != nil {
		t.Fatal(err)
	}
	// A symlink to /proc/self/ns/user: its name is no /proc/PID path,
	// so the process is found by the scan of /proc.
	link := filepath.Join(t.TempDir(), "userns")
	if err := os.Symlink("/proc/self/ns/user", link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/proc/self/ns/user", link} {
		j, err := JoinedUser(path)
		if err != nil {
			t.Fatalf("JoinedUser(%s): %v", path, err)
		}
		if !slices.Equal(j.UID, want) || len(j.GID) == 0 {
			t.Errorf("JoinedUser(%s) maps uid %v gid %v, want uid %v", path, j.UID, j.GID, want)
		}
		if deny := strings.TrimSpace(string(sg)) == "deny"; j.SetgroupsDenied != deny {
			t.Errorf("JoinedUser(%s).SetgroupsDenied = %v, want %v", path, j.SetgroupsDenied, deny)
		}
	}
	if deny, err := SetgroupsDenied(os.Getpid()); err != nil || deny != (strings.TrimSpace(string(sg)) == "deny") {
		t.Errorf("SetgroupsDenied(own pid) = %v, %v; the file says %q", deny, err, sg)
	}
	if _, err := SetgroupsDenied(1 << 30); err == nil {
		t.Error("SetgroupsDenied of a pid that can't exist: no error")
	}
	for path, msg := range map[string]string{
		"/proc/self/ns/net":    "/proc/self/ns/net is a network namespace, not a user namespace",
		"/proc/self/status":    "/proc/self/status is not a namespace file",
		"/nonexistent/ns/user": "no such file or directory",
	} {
		_, err := JoinedUser(path)
		if err == nil || !strings.Contains(err.Error(), msg) || errors.Is(err, ErrNoProcessInUserNS) {
			t.Errorf("JoinedUser(%s) = %v, want an error naming %q", path, err, msg)
		}
	}
}

func TestParseIDMap(t *testing.T) {
	got, err := ParseIDMap([]byte("         0     100000      65536\n     65536          0          1\n"))
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}, {ContainerID: 65536, HostID: 0, Size: 1}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ParseIDMap = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"0 1", "0 1 2 3", "0 x 1", "0 1 4294967296"} {
		if _, err := ParseIDMap([]byte(bad)); err == nil {
			t.Errorf("ParseIDMap(%q): no error", bad)
		}
	}
	if got := MapText(want); got != "0 100000 65536, 65536 0 1" {
		t.Errorf("MapText = %q", got)
	}
	if got := MapText(nil); got != "none" {
		t.Errorf("MapText(nil) = %q", got)
	}
}
