package hostcheck

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeHost is a host beneath a temporary directory; newFake makes one
// with everything run needs: Linux 6.1, every namespace type, cgroup v2 with the user's
// cgroup delegated, the CNI plugins, seccomp, newuidmap, pasta,
// fuse-overlayfs, alice's subordinate ranges; every probe succeeds.
type fakeHost struct {
	Host
	probes map[Probe]error
	paths  map[string]string // LookPath's answers
}

// userCgroup is the user's cgroup in the fake v2 tree.
const userCgroup = "/user.slice/user-1000.slice/user@1000.service/app.slice/shell.scope"

func newFake(t *testing.T, uid int) *fakeHost {
	t.Helper()
	root := t.TempDir()
	f := &fakeHost{probes: map[Probe]error{}, paths: map[string]string{}}
	f.Host = Host{
		Root: root, UID: uid, GID: uid, User: "alice",
		Helper: func() (string, error) { return "/usr/bin/minimal-docker-helper", nil },
	}
	if uid == 0 {
		f.User = "root"
	}
	f.LookPath = func(name string) (string, error) {
		if p, ok := f.paths[name]; ok {
			return p, nil
		}
		return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	f.Probe = func(p Probe) error { return f.probes[p] }
	f.write(t, "/proc/sys/kernel/osrelease", "6.1.0-13-amd64\n")
	for _, ns := range []string{"mnt", "uts", "ipc", "pid", "net", "cgroup", "user", "time"} {
		f.write(t, "/proc/self/ns/"+ns, "")
	}
	f.write(t, "/proc/sys/user/max_user_namespaces", "15000\n")
	f.write(t, "/proc/sys/kernel/seccomp/actions_avail", "kill_process kill_thread trap errno user_notif trace log allow\n")
	f.write(t, "/proc/filesystems", "nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\toverlay\n")
	f.write(t, "/proc/self/mountinfo", "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n")
	f.write(t, "/proc/self/cgroup", "0::"+userCgroup+"\n")
	f.write(t, "/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
	f.write(t, "/sys/fs/cgroup"+userCgroup+"/cgroup.controllers", "cpu memory pids\n")
	f.write(t, "/sys/fs/cgroup"+userCgroup+"/cgroup.procs", "")
	for _, p := range []string{"bridge", "host-local", "portmap"} {
		f.tool(t, "/usr/lib/cni/"+p)
	}
	f.write(t, "/etc/subuid", "alice:100000:65536\n")
	f.write(t, "/etc/subgid", "alice:100000:65536\n")
	f.write(t, "/dev/fuse", "")
	f.write(t, "/dev/net/tun", "")
	for _, p := range []string{"/dev/fuse", "/dev/net/tun"} {
		if err := os.Chmod(f.path(p), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"newuidmap", "newgidmap"} {
		p := "/usr/bin/" + name
		f.tool(t, p)
		if err := os.Chmod(f.path(p), os.ModeSetuid|0o755); err != nil {
			t.Fatal(err)
		}
		f.paths[name] = p
	}
	for _, name := range []string{"pasta", "fuse-overlayfs", "iptables-restore"} {
		f.tool(t, "/usr/bin/"+name)
		f.paths[name] = "/usr/bin/" + name
	}
	// The user's cgroup is the user's: systemd's delegation.
	if uid != 0 {
		f.chownTree(t, "/sys/fs/cgroup"+userCgroup, uid)
	}
	return f
}

func (f *fakeHost) write(t *testing.T, p, content string) {
	t.Helper()
	full := f.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeHost) tool(t *testing.T, p string) {
	t.Helper()
	f.write(t, p, "#!/bin/sh\n")
	if err := os.Chmod(f.path(p), 0o755); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeHost) remove(t *testing.T, p string) {
	t.Helper()
	if err := os.RemoveAll(f.path(p)); err != nil {
		t.Fatal(err)
	}
}

// chownTree gives the tree at p to uid.
func (f *fakeHost) chownTree(t *testing.T, p string, uid int) {
	t.Helper()
	err := filepath.Walk(f.path(p), func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, uid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// byName finds the finding called name.
func byName(t *testing.T, fs []Finding, name string) Finding {
	t.Helper()
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no finding %q in %+v", name, fs)
	return Finding{}
}

var errPerm = errors.New("operation not permitted")

// TestRun: each missing piece is found, named, said with what it means and
// how to fix it, and decides readiness for root and for a rootless user.
func TestRun(t *testing.T) {
	if os.Geteuid() != 0 {
		// The fake host's files have owners: newuidmap setuid root, the
		// rootless user's delegated cgroup.
		t.Skip("requires root: the fake host's files are chowned")
	}
	root, rootless := 0, 1000
	for _, tc := range []struct {
		name  string
		uid   int
		setup func(t *testing.T, f *fakeHost)
		want  map[string]Status // findings by name; those not named must be OK or NotNeeded
		found map[string]string // a part of Found, by finding name
		fix   map[string]string // a part of Fix, by finding name
		ready bool
	}{
		{name: "root, all there", uid: root, ready: true},
		{name: "rootless, all there", uid: rootless, ready: true, found: map[string]string{"image overlay": "the kernel's overlay: it mounts in the user namespace"}},
		{
			name: "rootless, fuse-overlayfs asked for", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) { f.MountProgram = "/opt/fuse-overlayfs" },
			found: map[string]string{"image overlay": "/opt/fuse-overlayfs: overlay.mount_program"},
		},
		{
			name: "uid 0 in a user namespace: as a rootless user", uid: root, ready: true,
			setup: func(t *testing.T, f *fakeHost) { f.InUserNS = true; f.chownTree(t, "/sys/fs/cgroup"+userCgroup, 0) },
			want:  map[string]Status{"CNI plugins": NotNeeded, "/etc/subuid": Note, "/etc/subgid": Note},
			found: map[string]string{"cgroup delegation": "is yours", "overlay": "not mounted outside a user namespace"},
		},
		{
			name: "an old kernel", uid: root, ready: false,
			setup: func(t *testing.T, f *fakeHost) { f.write(t, "/proc/sys/kernel/osrelease", "4.19.0-27-amd64\n") },
			want:  map[string]Status{"kernel": Missing},
			fix:   map[string]string{"kernel": "5.6"},
		},
		{
			name: "no pid namespace", uid: root, ready: false,
			setup: func(t *testing.T, f *fakeHost) { f.remove(t, "/proc/self/ns/pid") },
			want:  map[string]Status{"namespace pid": Missing},
			fix:   map[string]string{"namespace pid": "CONFIG_PID_NS"},
		},
		{
			name: "no time namespace: a feature less", uid: root, ready: true,
			setup: func(t *testing.T, f *fakeHost) { f.remove(t, "/proc/self/ns/time") },
			want:  map[string]Status{"namespace time": Note},
		},
		{
			name: "no user namespace, root", uid: root, ready: true,
			setup: func(t *testing.T, f *fakeHost) { f.remove(t, "/proc/self/ns/user") },
			want:  map[string]Status{"namespace user": Note},
		},
		{
			name: "no user namespace, rootless", uid: rootless, ready: false,
			setup: func(t *testing.T, f *fakeHost) {
				f.remove(t, "/proc/self/ns/user")
				f.probes[ProbeUserNS] = errPerm
				f.probes[ProbeOverlayUserNS] = errPerm
			},
			want: map[string]Status{"namespace user": Missing, "unprivileged user namespaces": Missing, "overlay in a user namespace": NotNeeded},
		},
		{
			name: "Debian's unprivileged_userns_clone=0, rootless", uid: rootless, ready: false,
			setup: func(t *testing.T, f *fakeHost) {
				f.write(t, "/proc/sys/kernel/unprivileged_userns_clone", "0\n")
				f.probes[ProbeUserNS] = errPerm
			},
			want:  map[string]Status{"unprivileged user namespaces": Missing},
			found: map[string]string{"unprivileged user namespaces": "forbidden by kernel.unprivileged_userns_clone"},
			fix:   map[string]string{"unprivileged user namespaces": "sysctl -w kernel.unprivileged_userns_clone=1"},
		},
		{
			name: "Debian's unprivileged_userns_clone=0, root", uid: root, ready: true,
			setup: func(t *testing.T, f *fakeHost) { f.write(t, "/proc/sys/kernel/unprivileged_userns_clone", "0\n") },
			want:  map[string]Status{"unprivileged user namespaces": Note},
			found: map[string]string{"unprivileged user namespaces": "kernel.unprivileged_userns_clone"},
		},
		{
			name: "Ubuntu's AppArmor restriction, rootless", uid: rootless, ready: false,
			setup: func(t *testing.T, f *fakeHost) {
				f.write(t, "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n")
				f.probes[ProbeUserNS] = errPerm
			},
			want:  map[string]Status{"unprivileged user namespaces": Missing},
			found: map[string]string{"unprivileged user namespaces": "kernel.apparmor_restrict_unprivileged_userns"},
			fix:   map[string]string{"unprivileged user namespaces": "userns,"},
		},
		{
			name: "AppArmor restriction, but a profile allows minimal-docker", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) {
				f.write(t, "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n")
			},
			want: map[string]Status{"unprivileged user namespaces": OK},
		},
		{
			name: "max_user_namespaces=0", uid: rootless, ready: false,
			setup: func(t *testing.T, f *fakeHost) {
				f.write(t, "/proc/sys/user/max_user_namespaces", "0\n")
				f.probes[ProbeUserNS] = errors.New("no space left on device")
			},
			want:  map[string]Status{"unprivileged user namespaces": Missing},
			found: map[string]string{"unprivileged user namespaces": "user.max_user_namespaces"},
			fix:   map[string]string{"unprivileged user namespaces": "user.max_user_namespaces=15000"},
		},
		{
			name: "user namespaces refused, no setting says why", uid: rootless, ready: false,
			setup: func(t *testing.T, f *fakeHost) { f.probes[ProbeUserNS] = errPerm },
			want:  map[string]Status{"unprivileged user namespaces": Missing},
			found: map[string]string{"unprivileged user namespaces": "refused: operation not permitted"},
		},
		{
			name: "no subordinate ranges: own id alone", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) {
				f.remove(t, "/etc/subuid")
				f.write(t, "/etc/subgid", "bob:100000:65536\n")
			},
			want: map[string]Status{"/etc/subuid": Note, "/etc/subgid": Note},
			fix:  map[string]string{"/etc/subuid": "usermod --add-subuids"},
		},
		{
			name: "ranges by uid, two of them", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) {
				f.write(t, "/etc/subuid", "#c\nbob:1:2\n"+strconv.Itoa(rootless)+":100000:1000\nalice:300000:64536\n")
			},
			found: map[string]string{"/etc/subuid": "100000-100999, 300000-364535 (65536 ids; a container's root is uid 100000 on the host)"},
		},
		{
			name: "a small range", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) { f.write(t, "/etc/subgid", "alice:100000:1000\n") },
			want:  map[string]Status{"/etc/subgid": Note},
		},
		{
			name: "a malformed /etc/subuid", uid: rootless, ready: false,
			setup: func(t *testing.T, f *fakeHost) { f.write(t, "/etc/subuid", "alice:100000\n") },
			want:  map[string]Status{"/etc/subuid": Missing},
		},
		{
			name: "newuidmap not setuid", uid: rootless, ready: false,
			setup: func(t *testing.T, f *fakeHost) {
				if err := os.Chmod(f.path("/usr/bin/newuidmap"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]Status{"newuidmap": Missing},
			fix:  map[string]string{"newuidmap": "chmod u+s"},
		},
		{
			name: "newuidmap not setuid, no ranges: not needed", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) {
				if err := os.Chmod(f.path("/usr/bin/newuidmap"), 0o755); err != nil {
					t.Fatal(err)
				}
				f.remove(t, "/etc/subuid")
				f.remove(t, "/etc/subgid")
			},
			want: map[string]Status{"newuidmap": Note, "/etc/subuid": Note, "/etc/subgid": Note},
		},
		{
			name: "no uidmap package, rootless", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) { delete(f.paths, "newuidmap"); delete(f.paths, "newgidmap") },
			want:  map[string]Status{"newuidmap": Note, "newgidmap": Note},
			fix:   map[string]string{"newuidmap": "apt-get install uidmap"},
		},
		{
			name: "no uidmap package, root", uid: root, ready: true,
			setup: func(t *testing.T, f *fakeHost) { delete(f.paths, "newuidmap"); delete(f.paths, "newgidmap") },
			want:  map[string]Status{"newuidmap": NotNeeded, "newgidmap": NotNeeded},
		},
		{
			name: "no cgroup mounted, root", uid: root, ready: false,
			setup: func(t *testing.T, f *fakeHost) { f.write(t, "/proc/self/mountinfo", "") },
			want:  map[string]Status{"cgroup mode": Missing},
		},
		{
			name: "cgroup v1, rootless: no delegation", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) {
				f.write(t, "/proc/self/mountinfo",
					"31 23 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"+
						"32 23 0:28 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids\n"+
						"33 23 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n")
				f.write(t, "/proc/self/cgroup", "3:cpu,cpuacct:/\n2:pids:/\n1:memory:/\n")
			},
			want:  map[string]Status{"cgroup delegation": Note},
			found: map[string]string{"cgroup mode": "v1", "cgroup controllers": "v1: cpu cpuacct memory pids"},
		},
		{
			name: "cgroup v2, the user's cgroup not delegated", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) { f.chownTree(t, "/sys/fs/cgroup"+userCgroup, 0) },
			want:  map[string]Status{"cgroup delegation": Note},
			fix:   map[string]string{"cgroup delegation": "Delegate=yes"},
		},
		{
			name: "cgroup v2, user@.service delegated: its top", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) {
				svc := "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service"
				f.write(t, svc+"/cgroup.procs", "")
				f.write(t, svc+"/app.slice/cgroup.procs", "")
				f.write(t, svc+"/cgroup.controllers", "cpu io memory pids\n")
				f.chownTree(t, svc, rootless)
			},
			found: map[string]string{"cgroup delegation": "user@1000.service is yours (controllers: cpu io memory pids); containers' cgroups go beneath it"},
		},
		{
			name: "cgroup v2 without the memory controller", uid: root, ready: true,
			setup: func(t *testing.T, f *fakeHost) { f.write(t, "/sys/fs/cgroup/cgroup.controllers", "cpu pids\n") },
			want:  map[string]Status{"cgroup controllers": Note},
		},
		{
			name: "no overlay, root: rootfs directories only", uid: root, ready: true,
			setup: func(t *testing.T, f *fakeHost) {
				f.probes[ProbeOverlay] = errors.New("no such device")
				f.probes[ProbeOverlayUserNS] = errors.New("no such device")
			},
			want: map[string]Status{"overlay": Note, "overlay in a user namespace": NotNeeded, "image overlay": Note},
		},
		{
			name: "no overlay in a user namespace, fuse-overlayfs stands in", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) { f.probes[ProbeOverlayUserNS] = errPerm },
			want:  map[string]Status{"overlay in a user namespace": NotNeeded, "fuse-overlayfs": OK},
			found: map[string]string{"image overlay": "fuse-overlayfs: the kernel's overlay can't be mounted in the user namespace: operation not permitted"},
		},
		{
			name: "no overlay in a user namespace, no fuse-overlayfs", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) {
				f.probes[ProbeOverlayUserNS] = errPerm
				delete(f.paths, "fuse-overlayfs")
			},
			want: map[string]Status{"overlay in a user namespace": Note, "fuse-overlayfs": Note, "image overlay": Note},
			fix:  map[string]string{"fuse-overlayfs": "apt-get install fuse-overlayfs", "image overlay": "fuse-overlayfs"},
		},
		{
			name: "no seccomp filters", uid: root, ready: false,
			setup: func(t *testing.T, f *fakeHost) { f.remove(t, "/proc/sys/kernel/seccomp") },
			want:  map[string]Status{"seccomp": Missing},
			fix:   map[string]string{"seccomp": "seccomp=unconfined"},
		},
		{
			name: "no CNI plugins, root", uid: root, ready: false,
			setup: func(t *testing.T, f *fakeHost) { f.remove(t, "/usr/lib/cni/portmap") },
			want:  map[string]Status{"CNI plugins": Missing},
			found: map[string]string{"CNI plugins": "no portmap"},
			fix:   map[string]string{"CNI plugins": "containernetworking-plugins"},
		},
		{
			name: "no CNI plugins, rootless", uid: rootless, ready: true,
			setup: func(t *testing.T, f *fakeHost) { f.remove(t, "/usr/lib/cni") },
			want:  map[string]Status{"CNI plugins": NotNeeded},
		},
		{
			name: "no pasta or slirp4netns, rootless", uid: rootless, ready: false,
			setup: func(t *testing.T, f *fakeHost) { delete(f.paths, "pasta") },
			want:  map[string]Status{"slirp4netns/pasta": Missing},
			fix:   map[string]string{"slirp4netns/pasta": "apt-get install passt"},
		},
		{
			name: "no /dev/net/tun, rootless", uid: rootless, ready: false,
			setup: func(t *testing.T, f *fakeHost) { f.remove(t, "/dev/net/tun") },
			want:  map[string]Status{"slirp4netns/pasta": Missing},
			found: map[string]string{"slirp4netns/pasta": "/dev/net/tun"},
		},
		{
			name: "no pasta or slirp4netns, root", uid: root, ready: true,
			setup: func(t *testing.T, f *fakeHost) { delete(f.paths, "pasta") },
			want:  map[string]Status{"slirp4netns/pasta": NotNeeded},
		},
		{
			name: "no helper", uid: root, ready: false,
			setup: func(t *testing.T, f *fakeHost) {
				f.Helper = func() (string, error) { return "", errors.New("/x/minimal-docker-helper: file does not exist") }
			},
			want: map[string]Status{"minimal-docker-helper": Missing},
		},
		{
			name: "a lean runtime without minimal-docker-image", uid: root, ready: true,
			setup: func(t *testing.T, f *fakeHost) {
				f.ImageBinary = func() (string, error) { return "", errors.New("/x/minimal-docker-image: file does not exist") }
			},
			want:  map[string]Status{"minimal-docker-image": Note},
			found: map[string]string{"minimal-docker-image": "/x/minimal-docker-image"},
		},
		{
			name: "a lean runtime with minimal-docker-image", uid: root, ready: true,
			setup: func(t *testing.T, f *fakeHost) {
				f.ImageBinary = func() (string, error) { return "/x/minimal-docker-image", nil }
			},
			found: map[string]string{"minimal-docker-image": "/x/minimal-docker-image"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.uid)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			found := Run(&f.Host)
			for _, x := range found {
				want, named := tc.want[x.Name]
				if !named {
					if x.Status != OK && x.Status != NotNeeded {
						t.Errorf("%s: %s (%s), want ok", x.Name, x.Status.label(), x.Found)
					}
					continue
				}
				if x.Status != want {
					t.Errorf("%s: %s (%s), want %s", x.Name, x.Status.label(), x.Found, want.label())
				}
				if (want == Missing || want == Note) && (x.Means == "" || x.Fix == "") {
					t.Errorf("%s: %s without what it means or how to fix it: %+v", x.Name, x.Status.label(), x)
				}
			}
			for name, sub := range tc.found {
				if x := byName(t, found, name); !strings.Contains(x.Found, sub) {
					t.Errorf("%s: found %q, want it to contain %q", name, x.Found, sub)
				}
			}
			for name, sub := range tc.fix {
				if x := byName(t, found, name); !strings.Contains(x.Fix, sub) {
					t.Errorf("%s: fix %q, want it to contain %q", name, x.Fix, sub)
				}
			}
			if got := Ready(found); got != tc.ready {
				t.Errorf("Ready = %v, want %v", got, tc.ready)
			}
		})
	}
}

func TestParseRelease(t *testing.T) {
	for _, tc := range []struct {
		in string
		v  [2]int
		ok bool
	}{
		{"6.1.0-13-amd64", [2]int{6, 1}, true},
		{"5.10.0", [2]int{5, 10}, true},
		{"6.18.44-fc-v1294", [2]int{6, 18}, true},
		{"weird", [2]int{}, false},
	} {
		v, ok := parseRelease(tc.in)
		if ok != tc.ok || ok && v != tc.v {
			t.Errorf("parseRelease(%q) = %v, %v; want %v, %v", tc.in, v, ok, tc.v, tc.ok)
		}
	}
}

func TestPrint(t *testing.T) {
	h := &Host{UID: 1000, User: "alice"}
	fs := []Finding{
		{Name: "kernel", Found: "Linux 6.1.0"},
		{Name: "slirp4netns/pasta", Status: Missing, Found: "neither", Means: "no way out", Fix: "apt-get install passt"},
		{Name: "/etc/subuid", Status: Note, Found: "no range", Means: "own id alone", Fix: "usermod"},
	}
	var b bytes.Buffer
	Print(&b, h, fs)
	out := b.String()
	for _, want := range []string{
		"for alice (uid 1000), rootless",
		"ok      kernel             Linux 6.1.0\n",
		"MISSING slirp4netns/pasta  neither\n",
		"means: no way out\n",
		"fix:   apt-get install passt\n",
		"note    /etc/subuid        no range\n",
		"not ready: 1 missing",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	Print(&b, &Host{InUserNS: true}, fs[:1])
	if !strings.Contains(b.String(), "for uid 0, in a user namespace, not the host's root") {
		t.Errorf("the report of uid 0 in a user namespace:\n%s", b.String())
	}
	b.Reset()
	Print(&b, h, fs[:1])
	if !strings.Contains(b.String(), "ready: minimal-docker run works for alice (uid 1000)") {
		t.Errorf("the report of a ready host:\n%s", b.String())
	}
}
