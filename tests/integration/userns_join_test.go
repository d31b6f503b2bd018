package integration

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// usernsOwner runs a container with a user namespace of its own (the
// usernsBase range) on root, `sleep 1000`, detached, and returns its
// init's pid; it is deleted when the test ends, after the containers
// that join its namespace (cleanups run last-registered first).
func usernsOwner(t *testing.T, root string) int {
	t.Helper()
	b := newBundle(t, "sleep", "1000")
	b.edit(t, withUserNS(root))
	id := uniqueName("userns-owner")
	runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
	return b.state(t, id).Pid
}

// userNSHolder starts busybox sleep (a static one: the v2 guest has no
// other) in a new user namespace mapping the usernsBase range, with
// setgroups allowed or, as Go's exec writes it without
// GidMappingsEnableSetgroups, denied. reap kills and reaps it; so does
// the test's end, unless reap did.
func userNSHolder(t *testing.T, setgroups bool) (holder *exec.Cmd, reap func()) {
	t.Helper()
	holder = exec.Command(env.busybox, "sleep", "1000")
	m := []syscall.SysProcIDMap{{ContainerID: 0, HostID: usernsBase, Size: usernsSize}}
	holder.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, UidMappings: m, GidMappings: m,
		GidMappingsEnableSetgroups: setgroups, Pdeathsig: syscall.SIGKILL}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	reap = func() { once.Do(func() { holder.Process.Kill(); holder.Wait() }) }
	t.Cleanup(reap)
	return holder, reap
}

// joinUserNS makes the spec join the user namespace at path (on root),
// with maps (none: the runtime reads the namespace's).
func joinUserNS(root, path string, maps []specs.LinuxIDMapping) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Root.Path = root
		joinPath(s, specs.UserNamespace, path)
		s.Linux.UIDMappings, s.Linux.GIDMappings = maps, maps
	}
}

// joinedProbe is usernsProbe and the namespaces' links, KEY=VALUE.
const joinedProbe = usernsProbe + `
echo userns=$(readlink /proc/self/ns/user)
echo utsns=$(readlink /proc/self/ns/uts)
echo hostname=$(hostname)
`

// TestRuncJoinUserNS: a container whose config gives a user namespace by
// path (containerd's way for a pod's containers, Podman's
// --userns=container:) runs in it: its process is that namespace's root
// with its maps (read from the namespace when the config gives none,
// taken when they are the same), the namespaces it makes are its own but
// owned by the joined one (the init sets the hostname in its new uts
// namespace, mounts /proc for its new pid namespace and sysfs for its
// network namespace, which the host's root could not from inside it),
// and what it makes belongs on the host to the mapped range. exec into it
// runs there too.
func TestRuncJoinUserNS(t *testing.T) {
	root := usernsRootfs(t)
	owner := usernsOwner(t, root)
	path := fmt.Sprintf("/proc/%d/ns/user", owner)
	ownerUser := nsLink(t, owner, "user")
	full := []specs.LinuxIDMapping{{ContainerID: 0, HostID: usernsBase, Size: usernsSize}}

	for _, tc := range []struct {
		name string
		maps []specs.LinuxIDMapping
	}{{"the namespace's maps", nil}, {"the same maps in the config", full}} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Remove(filepath.Join(root, "tmp", "made")); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			b := newBundle(t, "sh", "-c", joinedProbe)
			b.edit(t, joinUserNS(root, path, tc.maps))
			b.edit(t, func(s *specs.Spec) { s.Hostname = "joined-userns" })
			r := runc(t, b, "run", "--bundle", b.dir, uniqueName("userns-join"))
			r.wantExit(t, 0)
			kv := keyValues(r.stdout)
			if kv["utsns"] == "" || kv["utsns"] == nsLink(t, owner, "uts") {
				t.Errorf("uts namespace %q: want a new one, not the owner's", kv["utsns"])
			}
			wantProbe(t, r, kv, map[string]string{"userns": ownerUser, "hostname": "joined-userns"}, root)
		})
	}

	// A pod's container, as containerd makes one in a pod with a user
	// namespace: every namespace but mount the sandbox's, by path.
	t.Run("a pod's container", func(t *testing.T) {
		b := newBundle(t, "sh", "-c", "for n in user net ipc uts pid; do readlink /proc/self/ns/$n; done; ps -o pid,args")
		b.edit(t, joinUserNS(root, path, nil))
		b.edit(t, func(s *specs.Spec) {
			for typ, name := range map[specs.LinuxNamespaceType]string{
				specs.NetworkNamespace: "net", specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts", specs.PIDNamespace: "pid"} {
				joinPath(s, typ, fmt.Sprintf("/proc/%d/ns/%s", owner, name))
			}
		})
		r := runc(t, b, "run", "--bundle", b.dir, uniqueName("userns-pod"))
		r.wantExit(t, 0)
		lines := strings.Split(r.stdout, "\n")
		for i, name := range []string{"user", "net", "ipc", "uts", "pid"} {
			if want := nsLink(t, owner, name); i >= len(lines) || lines[i] != want {
				t.Errorf("%s namespace: want the owner's %s\n%s", name, want, r)
			}
		}
		if !strings.Contains(r.stdout, "1 sleep 1000") {
			t.Errorf("the container does not see the owner's init (sleep 1000) as pid 1\n%s", r)
		}
	})

	// Idmapped binds (containerd 2 gives a pod's volumes the pod's
	// maps): with the joined namespace's mapping, and with another one.
	t.Run("idmapped mounts", func(t *testing.T) {
		src := filepath.Dir(root) // the rootfs's parent: root's, searchable
		testenv.RequireIdmap(t, src)
		if err := os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		other := []specs.LinuxIDMapping{{ContainerID: 0, HostID: usernsBase + 1000, Size: usernsSize}}
		b := newBundle(t, "sh", "-c", "stat -c %u:%g /same/f /other/f /plain/f")
		b.edit(t, joinUserNS(root, path, nil))
		b.edit(t, func(s *specs.Spec) {
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: "/same", Type: "bind", Source: src, Options: []string{"rbind", "ro"}, UIDMappings: full, GIDMappings: full},
				specs.Mount{Destination: "/other", Type: "bind", Source: src, Options: []string{"rbind", "ro"}, UIDMappings: other, GIDMappings: other},
				specs.Mount{Destination: "/plain", Type: "bind", Source: src, Options: []string{"rbind", "ro"}})
		})
		r := runc(t, b, "run", "--bundle", b.dir, uniqueName("userns-join-idmap"))
		r.wantExit(t, 0)
		if got := strings.Fields(r.stdout); strings.Join(got, " ") != "0:0 1000:1000 65534:65534" {
			t.Errorf("owners through the joined namespace's mapping, another mapping, a plain bind = %q, want 0:0 1000:1000 65534:65534\n%s", got, r)
		}
	})

	// The runtime's own user namespace by path: nothing to join (setns
	// would refuse it), the container is in it as without one.
	t.Run("the runtime's own", func(t *testing.T) {
		b := newBundle(t, "sh", "-c", "id -u; readlink /proc/self/ns/user")
		b.edit(t, func(s *specs.Spec) { joinPath(s, specs.UserNamespace, "/proc/self/ns/user") })
		r := runc(t, b, "run", "--bundle", b.dir, uniqueName("userns-own"))
		r.wantExit(t, 0)
		if got := strings.Fields(r.stdout); strings.Join(got, " ") != "0 "+hostNamespace(t, "user") {
			t.Errorf("id and user namespace = %q, want 0 and this process's %s", got, hostNamespace(t, "user"))
		}
	})

	t.Run("create, start and exec", func(t *testing.T) {
		b := newBundle(t, "sleep", "1002")
		b.edit(t, joinUserNS(root, path, nil))
		id := uniqueName("userns-join")
		runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
		runc(t, b, "start", id).wantExit(t, 0)
		st := b.state(t, id)
		if got := nsLink(t, st.Pid, "user"); got != ownerUser {
			t.Errorf("the init's user namespace is %s, want the owner's %s", got, ownerUser)
		}
		if ids := statusField(t, st.Pid, "Uid"); len(ids) == 0 || ids[0] != fmt.Sprint(usernsBase) {
			t.Errorf("the init's host uids are %q, want %d", ids, usernsBase)
		}
		r := runc(t, b, "exec", id, "sh", "-c", "id -u; readlink /proc/self/ns/user")
		r.wantExit(t, 0)
		if got := strings.Fields(r.stdout); strings.Join(got, " ") != "0 "+ownerUser {
			t.Errorf("exec: id and user namespace = %q, want 0 and %s", got, ownerUser)
		}
		runc(t, b, "kill", id, "KILL").wantExit(t, 0)
		b.waitStatus(t, id, specs.StateStopped)
		runc(t, b, "delete", id).wantExit(t, 0)
	})
}

// TestRuncJoinUserNSSetgroupsDenied: a user namespace whose setgroups
// file says deny (as one whose maps an unprivileged process wrote) can be
// joined: the process keeps the groups it has instead of calling the
// setgroups that the kernel refuses there; a config that asks for
// additional groups in it is refused before anything starts.
func TestRuncJoinUserNSSetgroupsDenied(t *testing.T) {
	root := usernsRootfs(t)
	holder, _ := userNSHolder(t, false)
	path := fmt.Sprintf("/proc/%d/ns/user", holder.Process.Pid)
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/setgroups", holder.Process.Pid)); err != nil || strings.TrimSpace(string(b)) != "deny" {
		t.Fatalf("the holder's setgroups: %q, %v; want deny", b, err)
	}

	b := newBundle(t, "sh", "-c", "id -u; readlink /proc/self/ns/user")
	b.edit(t, joinUserNS(root, path, nil))
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("userns-deny"))
	r.wantExit(t, 0)
	if got := strings.Fields(r.stdout); strings.Join(got, " ") != "0 "+nsLink(t, holder.Process.Pid, "user") {
		t.Errorf("id and user namespace = %q, want 0 and the holder's", got)
	}

	b = newBundle(t, "true")
	b.edit(t, joinUserNS(root, path, nil))
	b.edit(t, func(s *specs.Spec) { s.Process.User.AdditionalGids = []uint32{5} })
	r = runc(t, b, "run", "--bundle", b.dir, uniqueName("userns-deny"))
	if want := "process.user.additionalGids: the user namespace joined by path"; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("want exit 1 naming %q\n%s", want, r)
	}

	// exec into such a container: the same, decided from the init's
	// setgroups file.
	b = newBundle(t, "sleep", "1003")
	b.edit(t, joinUserNS(root, path, nil))
	id := uniqueName("userns-deny")
	runc(t, b, "run", "--detach", "--bundle", b.dir, id).wantExit(t, 0)
	r = runc(t, b, "exec", id, "id", "-u")
	r.wantExit(t, 0)
	if got := strings.TrimSpace(r.stdout); got != "0" {
		t.Errorf("exec: id -u = %q, want 0", got)
	}
	r = runc(t, b, "exec", "--additional-gids", "5", id, "true")
	if want := "process.user.additionalGids [5]: the container's user namespace denies setgroups"; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("exec with a group: want exit 1 naming %q\n%s", want, r)
	}
	runc(t, b, "kill", id, "KILL").wantExit(t, 0)
	b.waitStatus(t, id, specs.StateStopped)
	runc(t, b, "delete", id).wantExit(t, 0)
}

// TestRuncJoinUserNSRefused: a user namespace by path that the runtime
// can't honour is refused, naming what is wrong, and nothing is left.
func TestRuncJoinUserNSRefused(t *testing.T) {
	root := usernsRootfs(t)
	owner := usernsOwner(t, root)
	path := fmt.Sprintf("/proc/%d/ns/user", owner)
	other := []specs.LinuxIDMapping{{ContainerID: 0, HostID: usernsBase + usernsSize, Size: usernsSize}}
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
		want string
	}{
		{"maps other than the namespace's", joinUserNS(root, path, other),
			fmt.Sprintf("linux.uidMappings 0 %d %d: not the maps of the user namespace joined by path (%s): 0 %d %d", usernsBase+usernsSize, usernsSize, path, usernsBase, usernsSize)},
		{"a namespace of another type", joinUserNS(root, fmt.Sprintf("/proc/%d/ns/net", owner), nil),
			"is a network namespace, not a user namespace"},
		{"not a namespace file", joinUserNS(root, "/proc/self/status", nil),
			"/proc/self/status is not a namespace file"},
		// Its own user namespace is no join for the runtime: refused as
		// no user namespace with maps of its own would be.
		{"the runtime's own, other maps", joinUserNS(root, "/proc/self/ns/user", other),
			"linux.uidMappings 0 165536 65536: not the maps of the user namespace joined by path (/proc/self/ns/user): 0 0 4294967295"},
		{"the runtime's own, with an idmapped mount", func(s *specs.Spec) {
			joinPath(s, specs.UserNamespace, "/proc/self/ns/user")
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "bind", Source: root, Options: []string{"rbind", "idmap"}})
		}, "an idmapped mount needs a user namespace other than the runtime's own, which /proc/self/ns/user names"},
		{"a relative path", joinUserNS(root, "proc/1/ns/user", nil),
			`namespace user: path "proc/1/ns/user" is not absolute`},
	} {
		t.Run(tc.name, func(t *testing.T) { wantRefused(t, tc.edit, tc.want) })
	}
}

// TestRuncJoinPinnedUserNS: a user namespace that only a bind mount of
// its file keeps (as CRI-O and Podman pin a pod's), with no process in
// it to read its maps from, is joined with the config's maps; without
// them the config is refused, naming why. Where its setgroups file says
// deny, the init keeps its groups (the runtime asks the init, once it is
// in the namespace), and additional groups are refused, naming why. All
// in a mount namespace of the test's own (unshare -m), which holds the
// bind mount.
func TestRuncJoinPinnedUserNS(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare command (util-linux)")
	}
	root := usernsRootfs(t)
	full := []specs.LinuxIDMapping{{ContainerID: 0, HostID: usernsBase, Size: usernsSize}}
	for _, setgroups := range []bool{true, false} {
		t.Run(fmt.Sprintf("setgroups=%v", setgroups), func(t *testing.T) {
			holder, reap := userNSHolder(t, setgroups)
			link := nsLink(t, holder.Process.Pid, "user")
			pin := filepath.Join(t.TempDir(), "userns")
			if err := os.WriteFile(pin, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			withMaps, without, groups := newBundle(t, "sh", "-c", "id -u; readlink /proc/self/ns/user"), newBundle(t, "true"), newBundle(t, "true")
			withMaps.edit(t, joinUserNS(root, pin, full))
			without.edit(t, joinUserNS(root, pin, nil))
			groups.edit(t, joinUserNS(root, pin, full))
			groups.edit(t, func(s *specs.Spec) { s.Process.User.AdditionalGids = []uint32{5} })

			// The script pins the namespace, says so, and waits for a
			// line on stdin: the test has then killed and reaped the
			// holder. Then each bundle's run: ROOT DIR ID NAME.
			script := `
runc=$1 pid=$2 pin=$3; shift 3
mount --bind /proc/"$pid"/ns/user "$pin" || exit 99
echo pinned
read go
while [ $# -gt 0 ]; do "$runc" --root "$1" run --bundle "$2" "$3"; echo "$4: $?"; shift 4; done
`
			args := []string{"-m", "--propagation", "private", "sh", "-c", script, "sh", env.runc, strconv.Itoa(holder.Process.Pid), pin}
			for _, r := range []struct {
				b    *ociBundle
				name string
			}{{withMaps, "with maps"}, {without, "without maps"}, {groups, "with groups"}} {
				args = append(args, r.b.root, r.b.dir, uniqueName("userns-pinned"), r.name)
			}
			cmd := exec.Command("unshare", args...)
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdout, cmd.Stderr = w, w
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			defer func() { in.Close(); _ = cmd.Wait() }()
			buf := make([]byte, 7)
			if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "pinned\n" {
				t.Fatalf("the script did not pin the namespace: %q, %v", buf, err)
			}
			reap()
			if _, err := in.Write([]byte("go\n")); err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(&out, r); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if !strings.Contains(got, "0\n"+link+"\nwith maps: 0\n") {
				t.Errorf("with maps: want root in %s, exit 0\n%s", link, got)
			}
			if !strings.Contains(got, "no process is in it to read its uid_map and gid_map from: give linux.uidMappings and linux.gidMappings") ||
				!strings.Contains(got, "without maps: 1\n") {
				t.Errorf("without maps: want exit 1 saying no process is in it\n%s", got)
			}
			const refused = "process.user.additionalGids [5]: the container's user namespace denies setgroups"
			switch {
			case setgroups && !strings.Contains(got, "with groups: 0\n"):
				t.Errorf("with groups, setgroups allowed: want exit 0\n%s", got)
			case !setgroups && (!strings.Contains(got, refused) || !strings.Contains(got, "with groups: 1\n")):
				t.Errorf("with groups, setgroups denied: want exit 1 naming %q\n%s", refused, got)
			}
		})
	}
}
