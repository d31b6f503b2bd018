package integration

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// The container's root is host uid/gid usernsBase, its range usernsSize
// ids: runc's tests' mapping.
const (
	usernsBase = 100000
	usernsSize = 65536
)

// usernsRootfs is a copy of the shared rootfs owned by the mapped range
// (what the container's root owns: chown -R to usernsBase, as runc's
// tests remap the rootfs), in a directory that the mapped root may
// search (t.TempDir's are root's alone).
func usernsRootfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(dir, "rootfs")
	owner := fmt.Sprintf("%d:%d", usernsBase, usernsBase)
	for _, c := range [][]string{{"cp", "-a", env.rootfs, root}, {"chown", "-R", owner, root}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	return root
}

// withUserNS gives the spec a new user namespace mapping usernsBase's
// range, on root.
func withUserNS(root string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Root.Path = root
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: usernsBase, Size: usernsSize}}
		s.Linux.UIDMappings, s.Linux.GIDMappings = m, m
	}
}

// usernsProbe prints what the tests check, one KEY=VALUE a line.
const usernsProbe = `
echo uid_map=$(cat /proc/self/uid_map)
echo gid_map=$(cat /proc/self/gid_map)
echo id=$(id -u):$(id -g)
echo busybox=$(stat -c %u:%g /bin/busybox)
echo null=$(stat -c '%F %t:%T' /dev/null)
echo write_null=$(echo x > /dev/null && echo ok)
echo proc=$(stat -f -c %T /proc)
echo sys=$(stat -f -c %T /sys)
echo lo=$(cat /sys/class/net/lo/ifindex)
echo made=$(touch /tmp/made && stat -c %u:%g /tmp/made)
`

// keyValues reads KEY=VALUE lines.
func keyValues(out string) map[string]string {
	kv := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			kv[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return kv
}

// TestRuncUserNS: a config with a user namespace and id mappings runs:
// the maps are the config's, the process is root inside, the rootfs's
// files owned by the mapped root are root's inside, the devices are there
// (the host's, bound: no mknod in a user namespace), /proc and sysfs are
// mounted; what the container makes belongs on the host to the mapped
// range.
func TestRuncUserNS(t *testing.T) {
	root := usernsRootfs(t)
	b := newBundle(t, "sh", "-c", usernsProbe)
	b.edit(t, withUserNS(root))
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("userns"))
	r.wantExit(t, 0)
	kv := keyValues(r.stdout)
	wantProbe(t, r, kv, map[string]string{"null": "character special file 1:3"}, root)
}

// wantProbe checks the answers kv of a run r of usernsProbe: root inside
// a namespace mapping usernsBase's range (the rootfs's files root's,
// /dev/null writable, /proc and sysfs mounted, a network namespace of
// its own), and the answers in more. The file its root made (/tmp/made
// in root) must be usernsBase's on the host. It logs r's output when
// anything differs.
func wantProbe(t *testing.T, r result, kv, more map[string]string, root string) {
	t.Helper()
	want := map[string]string{
		"uid_map":    fmt.Sprintf("0 %d %d", usernsBase, usernsSize),
		"gid_map":    fmt.Sprintf("0 %d %d", usernsBase, usernsSize),
		"id":         "0:0",
		"busybox":    "0:0",
		"write_null": "ok",
		"proc":       "proc",
		"sys":        "sysfs",
		"lo":         "1", // the container's own network namespace
		"made":       "0:0",
	}
	maps.Copy(want, more)
	for k, v := range want {
		if kv[k] != v {
			t.Errorf("%s = %q, want %q", k, kv[k], v)
		}
	}
	fi, err := os.Stat(filepath.Join(root, "tmp", "made"))
	if err != nil {
		t.Fatal(err)
	}
	if uid, gid := ownerOf(fi); uid != usernsBase || gid != usernsBase {
		t.Errorf("a file the container's root made is %d:%d on the host, want %d:%d", uid, gid, usernsBase, usernsBase)
	}
	if t.Failed() {
		t.Logf("output:\n%s", r)
	}
}

// TestRuncUserNSHostNetwork: without a network namespace of its own
// (the kernel then refuses sysfs in a user namespace), /sys is the
// host's, bound, and shows the host's interfaces.
func TestRuncUserNSHostNetwork(t *testing.T) {
	root := usernsRootfs(t)
	b := newBundle(t, "sh", "-c", "stat -f -c %T /sys; ls /sys/class/net")
	b.edit(t, withUserNS(root))
	b.edit(t, func(s *specs.Spec) { s.Linux.Namespaces = removeNS(s.Linux.Namespaces, specs.NetworkNamespace) })
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("userns-net"))
	r.wantExit(t, 0)
	host, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(r.stdout)
	if len(got) == 0 || got[0] != "sysfs" || len(got)-1 != len(host) {
		t.Errorf("want sysfs and the host's %d interfaces, got %q", len(host), got)
	}
}

// TestRuncUserNSLifecycle: create, exec (as root and as another mapped
// user), kill and delete of a container in a user namespace; its
// processes are the mapped ids on the host.
func TestRuncUserNSLifecycle(t *testing.T) {
	root := usernsRootfs(t)
	b := newBundle(t, "sleep", "1000")
	b.edit(t, withUserNS(root))
	id := uniqueName("userns-life")
	runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
	runc(t, b, "start", id).wantExit(t, 0)
	st := b.state(t, id)
	if st.Status != specs.StateRunning {
		t.Fatalf("state after start = %s", st.Status)
	}
	for _, f := range []string{"Uid", "Gid"} {
		if ids := statusField(t, st.Pid, f); strings.Join(ids, " ") != strings.TrimSpace(strings.Repeat(strconv.Itoa(usernsBase)+" ", 4)) {
			t.Errorf("the container's process has host %s %q, want %d each", f, ids, usernsBase)
		}
	}
	r := runc(t, b, "exec", id, "sh", "-c", "cat /proc/self/uid_map; id -u")
	r.wantExit(t, 0)
	if got := strings.Fields(r.stdout); strings.Join(got, " ") != fmt.Sprintf("0 %d %d 0", usernsBase, usernsSize) {
		t.Errorf("exec: uid_map and id = %q", got)
	}
	r = runc(t, b, "exec", "--user", "1000:1000", id, "id")
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "uid=1000 gid=1000") {
		t.Errorf("exec --user 1000:1000: %s", r)
	}
	runc(t, b, "kill", id, "KILL").wantExit(t, 0)
	b.waitStatus(t, id, specs.StateStopped)
	runc(t, b, "delete", id).wantExit(t, 0)
}

// TestRuncUserNSRefused: id mappings the runtime can't honour are
// refused, naming the field, and nothing is left.
func TestRuncUserNSRefused(t *testing.T) {
	full := []specs.LinuxIDMapping{{ContainerID: 0, HostID: usernsBase, Size: usernsSize}}
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
		want string
	}{
		{"maps without a user namespace", func(s *specs.Spec) { s.Linux.UIDMappings, s.Linux.GIDMappings = full, full },
			"linux.uidMappings/gidMappings: id mappings need a new user namespace"},
		{"a user namespace without maps", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "linux.uidMappings: empty"},
		{"root not mapped", func(s *specs.Spec) {
			withUserNS(s.Root.Path)(s)
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 1, HostID: usernsBase, Size: 10}}
		}, "linux.uidMappings: no mapping of the container's root (uid 0)"},
		{"overlapping host ids", func(s *specs.Spec) {
			withUserNS(s.Root.Path)(s)
			s.Linux.GIDMappings = append(s.Linux.GIDMappings, specs.LinuxIDMapping{ContainerID: usernsSize, HostID: usernsBase + 5, Size: 1})
		}, "linux.gidMappings[1]: hostIDs"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantRefused(t, tc.edit, tc.want) })
	}
}

// wantRefused runs `true` with the config that edit makes, and wants
// exit 1 with an error naming want, and no container left.
func wantRefused(t *testing.T, edit func(*specs.Spec), want string) {
	t.Helper()
	b := newBundle(t, "true")
	b.edit(t, edit)
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("refused"))
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("want exit 1 naming %q\n%s", want, r)
	}
	if ids := runc(t, b, "list", "-q"); strings.TrimSpace(ids.stdout) != "" {
		t.Errorf("the refused run left %q", ids.stdout)
	}
}

func removeNS(ns []specs.LinuxNamespace, typ specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, n := range ns {
		if n.Type != typ {
			out = append(out, n)
		}
	}
	return out
}

// statusField is the values of a /proc/PID/status field ("Uid").
func statusField(t *testing.T, pid int, field string) []string {
	t.Helper()
	for _, l := range strings.Split(readFile(t, fmt.Sprintf("/proc/%d/status", pid)), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == field {
			return strings.Fields(v)
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return nil
}

// ownerOf is a file's owner on the host.
func ownerOf(fi os.FileInfo) (uid, gid int) {
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}

// TestRuncIdmappedMounts: binds idmapped as runc 1.2 does them: "idmap"
// with the container's mapping shows the host's root-owned files as root's
// and writes as the host's root; mounts[].uidMappings of another mapping
// shift them by its offset; a bind that is not idmapped shows them as
// nobody's.
func TestRuncIdmappedMounts(t *testing.T) {
	root := usernsRootfs(t)
	src := filepath.Dir(root) // the rootfs's parent: root's, searchable
	testenv.RequireIdmap(t, src)
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, "sh", "-c", "stat -c %u:%g /same/f /other/f /plain/f; touch /same/new")
	b.edit(t, withUserNS(root))
	other := []specs.LinuxIDMapping{{ContainerID: 0, HostID: usernsBase + 1000, Size: usernsSize}}
	b.edit(t, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/same", Type: "bind", Source: src, Options: []string{"rbind", "idmap"}},
			specs.Mount{Destination: "/other", Type: "bind", Source: src, Options: []string{"rbind", "ro"}, UIDMappings: other, GIDMappings: other},
			specs.Mount{Destination: "/plain", Type: "bind", Source: src, Options: []string{"rbind"}})
	})
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("idmap"))
	r.wantExit(t, 0)
	if got := strings.Fields(r.stdout); strings.Join(got, " ") != "0:0 1000:1000 65534:65534" {
		t.Errorf("owners through idmap, another mapping, a plain bind = %q, want 0:0 1000:1000 65534:65534\n%s", got, r)
	}
	fi, err := os.Stat(filepath.Join(src, "new"))
	if err != nil {
		t.Fatal(err)
	}
	if uid, gid := ownerOf(fi); uid != 0 || gid != 0 {
		t.Errorf("a file made through the idmapped bind is %d:%d on the host, want 0:0", uid, gid)
	}
}

// TestRuncIdmappedMountRefused: an idmapped mount that can't be is
// refused, naming the mount.
func TestRuncIdmappedMountRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
		want string
	}{
		{"without a user namespace", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/m", Type: "bind", Source: "/tmp", Options: []string{"rbind", "idmap"}})
		}, "(/m): an idmapped mount needs a new user namespace"},
		{"not a bind", func(s *specs.Spec) {
			withUserNS(s.Root.Path)(s)
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/m", Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"}})
		}, "(/m): only a bind mount can be idmapped"},
		{"only uid mappings", func(s *specs.Spec) {
			withUserNS(s.Root.Path)(s)
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/m", Type: "bind", Source: "/tmp", Options: []string{"rbind"},
				UIDMappings: s.Linux.UIDMappings})
		}, "gidMappings: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "true")
			b.edit(t, tc.edit)
			r := runc(t, b, "run", "--bundle", b.dir, uniqueName("idmap-bad"))
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want exit 1 naming %q\n%s", tc.want, r)
			}
		})
	}
}
