package spec

import (
	"golang.org/x/sys/unix"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDefaultSecurity(t *testing.T) {
	s, err := Default("/r", []string{"true"})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Process.Capabilities
	if len(c.Bounding) != 14 || !slices.Equal(c.Bounding, c.Effective) || !slices.Equal(c.Bounding, c.Permitted) {
		t.Errorf("capabilities = %+v, want Docker's 14 in bounding, effective, permitted", c)
	}
	if len(c.Inheritable) != 0 || len(c.Ambient) != 0 {
		t.Errorf("inheritable %v ambient %v, want empty", c.Inheritable, c.Ambient)
	}
	if !s.Process.NoNewPrivileges {
		t.Error("noNewPrivileges is off by default")
	}
	if !slices.Contains(s.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(s.Linux.ReadonlyPaths, "/proc/sys") {
		t.Errorf("masked %v readonly %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
}

func TestCapabilityOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		want []string // bounding set; nil to check err
		err  string
	}{
		{"add", []Option{WithCapAdd("net_admin", "CAP_SYS_PTRACE")}, append(slices.Clone(DefaultCaps), "CAP_NET_ADMIN", "CAP_SYS_PTRACE"), ""},
		{"add twice", []Option{WithCapAdd("CHOWN")}, DefaultCaps, ""},
		{"drop", []Option{WithCapDrop("chown", "KILL")}, without(DefaultCaps, "CAP_CHOWN", "CAP_KILL"), ""},
		{"drop all then add", []Option{WithCapDrop("ALL"), WithCapAdd("NET_BIND_SERVICE")}, []string{"CAP_NET_BIND_SERVICE"}, ""},
		{"drop all", []Option{WithCapDrop("all")}, []string{}, ""},
		{"unknown add", []Option{WithCapAdd("FLY")}, nil, "--cap-add"},
		{"unknown drop", []Option{WithCapDrop("CAP_FLY")}, nil, "--cap-drop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Default("/r", []string{"true"}, tc.opts...)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := s.Process.Capabilities.Bounding
			if len(got) != len(tc.want) || !slices.Equal(sorted(got), sorted(tc.want)) {
				t.Errorf("bounding = %v, want %v", got, tc.want)
			}
		})
	}
}

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(c string) bool { return slices.Contains(drop, c) })
}

func sorted(l []string) []string {
	l = slices.Clone(l)
	slices.Sort(l)
	return l
}

func TestPrivileged(t *testing.T) {
	s, err := Default("/r", []string{"true"}, WithPrivileged())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Process.Capabilities.Bounding) <= 14 {
		t.Errorf("privileged bounding set %v is not wider than the default", s.Process.Capabilities.Bounding)
	}
	if s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil || s.Linux.Seccomp != nil {
		t.Errorf("privileged keeps masked %v readonly %v seccomp %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, s.Linux.Seccomp)
	}
}

func TestTmpfsAndReadonly(t *testing.T) {
	s, err := Default("/r", []string{"true"}, WithTmpfs("/run:size=1m,exec"), WithReadonlyRoot())
	if err != nil {
		t.Fatal(err)
	}
	m := s.Mounts[len(s.Mounts)-1]
	if m.Destination != "/run" || m.Type != "tmpfs" || !slices.Equal(m.Options, []string{"noexec", "nosuid", "nodev", "size=1m", "exec"}) {
		t.Errorf("tmpfs mount = %+v", m)
	}
	if !s.Root.Readonly {
		t.Error("root not read-only")
	}
	for _, bad := range []string{"run", "/", ""} {
		if _, err := Default("/r", []string{"true"}, WithTmpfs(bad)); err == nil || !strings.Contains(err.Error(), "--tmpfs") {
			t.Errorf("WithTmpfs(%q): err = %v, want --tmpfs error", bad, err)
		}
	}
}

func TestWithUser(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("passwd", "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\nbroken:x:abc:1:b:/:/bin/sh\n")
	write("group", "root:x:0:\nalice:x:1000:\nwheel:x:10:alice,bob\naudio:x:29:alice\nstaff:x:50:\n")
	for _, tc := range []struct {
		arg          string
		uid, gid     uint32
		groups       []uint32
		home, errSub string
	}{
		{arg: "alice", uid: 1000, gid: 1000, groups: []uint32{10, 29}, home: "/home/alice"},
		{arg: "alice:staff", uid: 1000, gid: 50, groups: []uint32{10, 29}, home: "/home/alice"},
		{arg: "1000", uid: 1000, gid: 1000, groups: []uint32{10, 29}, home: "/home/alice"},
		{arg: "1234:77", uid: 1234, gid: 77},
		{arg: "0", uid: 0, gid: 0, home: "/root"},
		{arg: "nobody", errSub: "no such user"},
		{arg: "alice:nogroup", errSub: "no such group"},
		{arg: "broken", errSub: "malformed id"},
		{arg: ":5", errSub: "empty"},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			s, err := Default(root, []string{"true"}, WithUser(tc.arg))
			if tc.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSub) || !strings.Contains(err.Error(), "--user") {
					t.Fatalf("err = %v, want --user error with %q", err, tc.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u := s.Process.User
			if u.UID != tc.uid || u.GID != tc.gid || !slices.Equal(u.AdditionalGids, tc.groups) {
				t.Errorf("user = %+v, want %d:%d groups %v", u, tc.uid, tc.gid, tc.groups)
			}
			if tc.home != "" && Getenv(s.Process.Env, "HOME") != tc.home {
				t.Errorf("HOME = %q, want %q", Getenv(s.Process.Env, "HOME"), tc.home)
			}
		})
	}
}

// TestWithUserInLayers: names are looked up in an image's layers as their
// overlay shows /etc/passwd and /etc/group: the top layer's file wins, a
// whiteout or an opaque /etc hides the layers below.
func TestWithUserInLayers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("whiteouts (mknod) and the opaque xattr (trusted.*) need root")
	}
	layer := func(t *testing.T, files map[string]string) string {
		d := t.TempDir()
		if err := os.MkdirAll(filepath.Join(d, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, text := range files {
			p := filepath.Join(d, "etc", name)
			var err error
			switch text {
			case "whiteout":
				err = unix.Mknod(p, unix.S_IFCHR, 0)
			case "opaque":
				err = unix.Setxattr(filepath.Join(d, "etc"), "trusted.overlay.opaque", []byte("y"), 0)
			default:
				err = os.WriteFile(p, []byte(text), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	base := map[string]string{"passwd": "root:x:0:0::/root:/bin/sh\nold:x:500:500::/home/old:/bin/sh\n", "group": "root:x:0:\nold:x:500:\n"}
	for _, tc := range []struct {
		name   string
		top    map[string]string
		arg    string
		uid    uint32
		errSub string
	}{
		{"from the lower layer", map[string]string{"hosts": "x"}, "old", 500, ""},
		{"the top layer's file wins", map[string]string{"passwd": "new:x:700:700::/home/new:/bin/sh\n"}, "new", 700, ""},
		{"hidden by the top layer's file", map[string]string{"passwd": "new:x:700:700::/:/bin/sh\n"}, "old", 0, "no such user"},
		{"whited out", map[string]string{"passwd": "whiteout"}, "old", 0, "no such user"},
		{"opaque /etc", map[string]string{"opaque": "opaque"}, "old", 0, "no such user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			layers := []string{layer(t, tc.top), layer(t, base)}
			s, err := Default(t.TempDir(), []string{"true"}, WithUserInLayers(tc.arg, layers))
			if tc.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSub) {
					t.Fatalf("err = %v, want %q", err, tc.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Process.User.UID != tc.uid {
				t.Errorf("uid = %d, want %d", s.Process.User.UID, tc.uid)
			}
		})
	}
}
