package spec

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckUserNS(t *testing.T) {
	full := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	host := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 4294967295}}
	userns := func(path string) func(*specs.Spec) {
		return func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: path})
		}
	}
	maps := func(u, g []specs.LinuxIDMapping) func(*specs.Spec) {
		return func(s *specs.Spec) { s.Linux.UIDMappings, s.Linux.GIDMappings = u, g }
	}
	for _, tc := range []struct {
		name  string
		edits []func(*specs.Spec)
		want  string // "" when accepted
	}{
		{"no user namespace", nil, ""},
		{"new with maps", []func(*specs.Spec){userns(""), maps(full, full)}, ""},
		{"maps without a user namespace", []func(*specs.Spec){maps(full, full)},
			`linux.uidMappings/gidMappings: id mappings need a new user namespace (add {"type": "user"} to linux.namespaces)`},
		{"new without maps", []func(*specs.Spec){userns("")}, "linux.uidMappings: empty: want at least one range"},
		{"no gid maps", []func(*specs.Spec){userns(""), maps(full, nil)}, "linux.gidMappings: empty"},
		// The test's own user namespace, the host's: "0 0 4294967295".
		{"joined with its maps", []func(*specs.Spec){userns("/proc/self/ns/user"), maps(host, host)}, ""},
		{"joined with other maps", []func(*specs.Spec){userns("/proc/self/ns/user"), maps(full, full)},
			"linux.uidMappings 0 100000 65536: not the maps of the user namespace joined by path (/proc/self/ns/user): 0 0 4294967295"},
		{"joined, other gid maps", []func(*specs.Spec){userns("/proc/self/ns/user"), maps(host, full)},
			"linux.gidMappings 0 100000 65536: not the maps of the user namespace joined by path"},
		{"joined, not a user namespace", []func(*specs.Spec){userns("/proc/self/ns/net")},
			"namespace user: /proc/self/ns/net is a network namespace, not a user namespace"},
		{"joined, not a namespace", []func(*specs.Spec){userns("/proc/self/status")},
			"namespace user: /proc/self/status is not a namespace file"},
		{"joined, relative path", []func(*specs.Spec){userns("proc/self/ns/user")}, `namespace user: path "proc/self/ns/user" is not absolute`},
		{"size 0", []func(*specs.Spec){userns(""), maps([]specs.LinuxIDMapping{{HostID: 1}}, full)}, "linux.uidMappings[0]: size 0"},
		{"past 32 bits", []func(*specs.Spec){userns(""), maps(full, []specs.LinuxIDMapping{{HostID: 4294967295, Size: 2}})},
			"linux.gidMappings[0]: hostID 4294967295 + size 2 passes the largest id (4294967295)"},
		{"overlap inside", []func(*specs.Spec){userns(""), maps([]specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}, {ContainerID: 5, HostID: 5000, Size: 10}}, full)},
			"linux.uidMappings[1]: containerIDs 5-14 overlap those of linux.uidMappings[0]"},
		{"overlap outside", []func(*specs.Spec){userns(""), maps([]specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}, {ContainerID: 100, HostID: 1009, Size: 1}}, full)},
			"linux.uidMappings[1]: hostIDs 1009-1009 overlap"},
		{"root not mapped", []func(*specs.Spec){userns(""), maps([]specs.LinuxIDMapping{{ContainerID: 1, HostID: 100000, Size: 10}}, full)},
			"linux.uidMappings: no mapping of the container's root (uid 0)"},
		{"user not mapped", []func(*specs.Spec){userns(""), maps([]specs.LinuxIDMapping{{HostID: 100000, Size: 10}}, full), func(s *specs.Spec) { s.Process.User.UID = 1000 }},
			"process.user.uid 1000: not mapped by linux.uidMappings"},
		{"group not mapped", []func(*specs.Spec){userns(""), maps(full, []specs.LinuxIDMapping{{HostID: 100000, Size: 10}}), func(s *specs.Spec) { s.Process.User.AdditionalGids = []uint32{9, 11} }},
			"process.user: gid 11: not mapped by linux.gidMappings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Default(t.TempDir(), []string{"true"})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tc.edits {
				e(s)
			}
			wantErr(t, "checkUserNS", checkUserNS(s), tc.want)
		})
	}
}

// TestCheckUserNSFillsJoinedMaps: a config that joins a user namespace by
// path and gives no maps gets the namespace's (the runtime needs the host
// ids of the container's root).
func TestCheckUserNSFillsJoinedMaps(t *testing.T) {
	s, err := Default(t.TempDir(), []string{"true"})
	if err != nil {
		t.Fatal(err)
	}
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/self/ns/user"})
	if err := checkUserNS(s); err != nil {
		t.Fatal(err)
	}
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 4294967295}}
	if !slices.Equal(s.Linux.UIDMappings, want) || !slices.Equal(s.Linux.GIDMappings, want) {
		t.Errorf("maps filled in: uid %v, gid %v; want %v (this process's namespace's)", s.Linux.UIDMappings, s.Linux.GIDMappings, want)
	}
}
