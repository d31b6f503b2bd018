package spec

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckUserNS(t *testing.T) {
	full := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
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
		{"joined with maps", []func(*specs.Spec){userns("/proc/1/ns/user"), maps(full, full)},
			"linux.uidMappings/gidMappings: the user namespace is joined by path (/proc/1/ns/user), which has its own mappings"},
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
