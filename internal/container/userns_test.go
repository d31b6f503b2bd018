package container

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
)

// fakeV2 is a v2 manager whose cgroup is a directory.
type fakeV2 struct {
	cgroups.Manager
	dir string
}

func (f fakeV2) Mode() cgroups.Mode { return cgroups.V2 }
func (f fakeV2) Path(string) string { return f.dir }

func TestDelegateCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	for _, tc := range []struct {
		name   string
		userns bool
		ro     bool
		want   uint32
	}{
		{"user namespace, cgroup read-write", true, false, 100000},
		{"user namespace, cgroup read-only", true, true, 0},
		{"no user namespace", false, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			procs := filepath.Join(dir, "cgroup.procs")
			if err := os.WriteFile(procs, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			s := &specs.Spec{Linux: &specs.Linux{}}
			opts := []string{"nosuid"}
			if tc.ro {
				opts = append(opts, "ro")
			}
			s.Mounts = []specs.Mount{{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: opts}}
			if tc.userns {
				s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.UserNamespace}}
				s.Linux.UIDMappings, s.Linux.GIDMappings = m, m
			}
			if err := delegateCgroup(fakeV2{dir: dir}, s); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{dir, procs} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if st := fi.Sys().(*syscall.Stat_t); st.Uid != tc.want || st.Gid != tc.want {
					t.Errorf("%s is %d:%d, want %d:%d", p, st.Uid, st.Gid, tc.want, tc.want)
				}
			}
		})
	}
}
