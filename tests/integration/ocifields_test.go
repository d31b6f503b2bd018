package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The config.json fields the container's init honours (issue 4): each test
// edits a bundle's spec, runs it with `minimal-runc run` in the foreground
// and reads what the process inside prints; a field that can't be honoured
// must fail with an error naming it.

// ociRun runs args in a fresh bundle whose spec edit changed, in the
// foreground, and returns the result.
func ociRun(t *testing.T, edit func(*specs.Spec), args ...string) result {
	t.Helper()
	b := newBundle(t, args...)
	b.edit(t, edit)
	// A unique ID: the container's cgroup is named after it, and other
	// runs of this suite may share the host.
	return runc(t, b, "run", "--bundle", b.dir, uniqueName("oci"))
}

// wantOutput fails unless the run succeeded and printed want (lines,
// compared trimmed).
func (r result) wantOutput(t *testing.T, want ...string) {
	t.Helper()
	r.wantExit(t, 0)
	got := r.lines()
	for i := range got {
		got[i] = strings.TrimSpace(got[i])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output = %q, want %q\n%s", got, want, r)
	}
}

// wantRefused fails unless the run failed with an error containing each of
// subs (the field it names and why).
func (r result) wantRefused(t *testing.T, subs ...string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("the run succeeded, want a failure naming %q\n%s", subs, r)
	}
	r.wantStderr(t, subs...)
}

// ownStatus is this process's /proc/self/status.
func ownStatus(t *testing.T) map[string]string {
	t.Helper()
	return testenv.StatusFields(readFile(t, "/proc/self/status"))
}

// capMask renders a capability mask as /proc/PID/status does.
func capMask(bits ...uint) string {
	var m uint64
	for _, b := range bits {
		m |= 1 << b
	}
	return fmt.Sprintf("%016x", m)
}

// Capability numbers (capabilities(7)).
const (
	capChown          = 0
	capKill           = 5
	capNetBindService = 10
	capSysResource    = 24
)

// hasCap reports whether this (test) process has capability c effective.
func hasCap(t *testing.T, c uint) bool {
	t.Helper()
	v, err := strconv.ParseUint(ownStatus(t)["CapEff"], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v&(1<<c) != 0
}

func TestOCIUser(t *testing.T) {
	umask := uint32(0o077)
	r := ociRun(t, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{5, 6}, Umask: &umask}
	}, "sh", "-c", "id -u; id -g; id -G; umask; grep -E '^(Uid|Gid|Cap(Eff|Prm))' /proc/self/status")
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) != 8 {
		t.Fatalf("unexpected output\n%s", r)
	}
	if lines[0] != "1000" || lines[1] != "1000" {
		t.Errorf("uid, gid = %s, %s; want 1000, 1000", lines[0], lines[1])
	}
	groups := strings.Fields(lines[2])
	if strings.Join(groups, " ") != "1000 5 6" {
		t.Errorf("groups = %q, want 1000 5 6 (no group inherited from the runtime)", lines[2])
	}
	if lines[3] != "0077" {
		t.Errorf("umask = %s, want 0077", lines[3])
	}
	// Without process.capabilities a non-zero uid has none, as after any
	// setuid.
	st := testenv.StatusFields(strings.Join(lines[4:], "\n"))
	// Real, effective, saved and filesystem ids alike.
	if st["Uid"] != "1000\t1000\t1000\t1000" || st["Gid"] != "1000\t1000\t1000\t1000" {
		t.Errorf("Uid %q, Gid %q; want 1000 four times each", st["Uid"], st["Gid"])
	}
	if st["CapEff"] != capMask() || st["CapPrm"] != capMask() {
		t.Errorf("uid 1000 without process.capabilities: CapEff %s, CapPrm %s; want none", st["CapEff"], st["CapPrm"])
	}

	t.Run("root keeps the runtime's umask default and no groups", func(t *testing.T) {
		ociRun(t, func(s *specs.Spec) {}, "sh", "-c", "id -u; id -G; umask").wantOutput(t, "0", "0", "0022")
	})
	t.Run("create and start", func(t *testing.T) {
		// The user is set after start has released the init from the
		// exec fifo (which only root may open).
		b := newBundle(t, "sh", "-c", "echo uid=$(id -u) gid=$(id -g)")
		b.edit(t, func(s *specs.Spec) { s.Process.User = specs.User{UID: 1000, GID: 1001} })
		id := uniqueName("oci-user")
		runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
		runc(t, b, "start", id).wantExit(t, 0)
		waitFile(t, b.out, "uid=1000 gid=1001")
		b.waitStatus(t, id, specs.StateStopped)
		runc(t, b, "delete", id).wantExit(t, 0)
	})
	t.Run("with the tiny init", func(t *testing.T) {
		ociRun(t, func(s *specs.Spec) {
			s.Process.User = specs.User{UID: 1000, GID: 1000}
			s.Annotations = map[string]string{"org.minimal-docker.init": "true"}
		}, "sh", "-c", "id -u; cat /proc/1/status | grep '^Uid'").wantOutput(t, "1000", "Uid:\t1000\t1000\t1000\t1000")
	})
}

func TestOCICapabilities(t *testing.T) {
	three := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	threeMask := capMask(capChown, capKill, capNetBindService)
	nbs := []string{"CAP_NET_BIND_SERVICE"}
	for _, tc := range []struct {
		name string
		user specs.User
		caps *specs.LinuxCapabilities
		want map[string]string
	}{
		{
			// For uid 0 execve grants the bounding set (plus inheritable).
			name: "root",
			caps: &specs.LinuxCapabilities{Bounding: three, Effective: three, Permitted: three},
			want: map[string]string{"CapBnd": threeMask, "CapEff": threeMask, "CapPrm": threeMask, "CapInh": capMask(), "CapAmb": capMask()},
		},
		{
			// A non-zero uid keeps across execve only its ambient set.
			name: "uid 1000 with ambient",
			user: specs.User{UID: 1000, GID: 1000},
			caps: &specs.LinuxCapabilities{Bounding: nbs, Effective: nbs, Permitted: nbs, Inheritable: nbs, Ambient: nbs},
			want: map[string]string{"CapBnd": capMask(capNetBindService), "CapEff": capMask(capNetBindService), "CapPrm": capMask(capNetBindService), "CapInh": capMask(capNetBindService), "CapAmb": capMask(capNetBindService)},
		},
		{
			name: "uid 1000 without ambient",
			user: specs.User{UID: 1000, GID: 1000},
			caps: &specs.LinuxCapabilities{Bounding: nbs, Effective: nbs, Permitted: nbs},
			want: map[string]string{"CapBnd": capMask(capNetBindService), "CapEff": capMask(), "CapPrm": capMask(), "CapAmb": capMask()},
		},
		{
			name: "empty",
			caps: &specs.LinuxCapabilities{},
			want: map[string]string{"CapBnd": capMask(), "CapEff": capMask(), "CapPrm": capMask()},
		},
		{
			// Without process.capabilities nothing is changed: the
			// runtime's own sets (this test's).
			name: "absent",
			want: map[string]string{"CapBnd": ownStatus(t)["CapBnd"], "CapEff": ownStatus(t)["CapBnd"]},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ociRun(t, func(s *specs.Spec) {
				s.Process.User = tc.user
				s.Process.Capabilities = tc.caps
			}, "cat", "/proc/self/status")
			r.wantExit(t, 0)
			got := testenv.StatusFields(r.stdout)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %s, want %s\n%s", k, got[k], v, r)
				}
			}
		})
	}
	t.Run("a capability at work", func(t *testing.T) {
		// chown needs CAP_CHOWN: with it uid 0 may give a file away,
		// without it not.
		script := "touch /dev/shm/f && chown 1000 /dev/shm/f && echo chowned || echo refused"
		ociRun(t, func(s *specs.Spec) {
			s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: three, Effective: three, Permitted: three}
		}, "sh", "-c", script).wantOutput(t, "chowned")
		r := ociRun(t, func(s *specs.Spec) {
			k := []string{"CAP_KILL"}
			s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: k, Effective: k, Permitted: k}
		}, "sh", "-c", script)
		r.wantExit(t, 0)
		if !strings.Contains(r.stdout, "refused") {
			t.Errorf("chown without CAP_CHOWN succeeded\n%s", r)
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		ociRun(t, func(s *specs.Spec) {
			s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_NOPE"}}
		}, "true").wantRefused(t, "process.capabilities.bounding", `"CAP_NOPE"`)
	})
	t.Run("withheld by the host", func(t *testing.T) {
		if hasCap(t, capSysResource) {
			t.Skip("this host gives the runtime CAP_SYS_RESOURCE")
		}
		sr := []string{"CAP_SYS_RESOURCE"}
		ociRun(t, func(s *specs.Spec) {
			s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: sr, Effective: sr, Permitted: sr}
		}, "true").wantRefused(t, "process.capabilities.bounding", "CAP_SYS_RESOURCE", "withheld")
	})
	t.Run("ambient not inheritable is skipped, as runc does", func(t *testing.T) {
		r := ociRun(t, func(s *specs.Spec) {
			s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: nbs, Permitted: nbs, Effective: nbs, Ambient: nbs}
		}, "grep", "CapAmb", "/proc/self/status")
		r.wantExit(t, 0)
		if !strings.Contains(r.stdout, "CapAmb:\t0000000000000000") {
			t.Errorf("ambient raised without inheritable\n%s", r)
		}
	})
}

func TestOCINoNewPrivileges(t *testing.T) {
	for _, nnp := range []bool{true, false} {
		t.Run(strconv.FormatBool(nnp), func(t *testing.T) {
			r := ociRun(t, func(s *specs.Spec) { s.Process.NoNewPrivileges = nnp }, "cat", "/proc/self/status")
			r.wantExit(t, 0)
			want := map[bool]string{true: "1", false: "0"}[nnp]
			if got := testenv.StatusFields(r.stdout)["NoNewPrivs"]; got != want {
				t.Errorf("NoNewPrivs = %q, want %s", got, want)
			}
		})
	}
}

func TestOCIRlimits(t *testing.T) {
	ociRun(t, func(s *specs.Spec) {
		s.Process.Rlimits = []specs.POSIXRlimit{
			{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048},
			{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
			{Type: "RLIMIT_NPROC", Soft: 500, Hard: 600},
		}
	}, "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c; ulimit -u; ulimit -Hu").wantOutput(t, "1024", "2048", "0", "500", "600")

	t.Run("absent: the runtime's own hard limit", func(t *testing.T) {
		ociRun(t, func(s *specs.Spec) {}, "sh", "-c", "ulimit -Hn").wantOutput(t, nofileHard(t))
	})
	for _, tc := range []struct {
		name string
		rl   []specs.POSIXRlimit
		want []string
	}{
		{"unknown type", []specs.POSIXRlimit{{Type: "RLIMIT_NOPE", Soft: 1, Hard: 1}}, []string{"process.rlimits", `"RLIMIT_NOPE"`}},
		{"duplicate", []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 10}, {Type: "RLIMIT_NOFILE", Soft: 20, Hard: 20}}, []string{"process.rlimits", "RLIMIT_NOFILE", "more than once"}},
		{"soft above hard", []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 20, Hard: 10}}, []string{"process.rlimits RLIMIT_NOFILE", "soft limit 20 is above hard limit 10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ociRun(t, func(s *specs.Spec) { s.Process.Rlimits = tc.rl }, "true").wantRefused(t, tc.want...)
		})
	}
	t.Run("hard limit above the runtime's", func(t *testing.T) {
		if hasCap(t, capSysResource) {
			t.Skip("this host gives the runtime CAP_SYS_RESOURCE")
		}
		hard, err := strconv.ParseUint(nofileHard(t), 10, 64)
		if err != nil {
			t.Skipf("the hard nofile limit is %q", nofileHard(t))
		}
		ociRun(t, func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: hard + 1}}
		}, "true").wantRefused(t, "process.rlimits RLIMIT_NOFILE", "CAP_SYS_RESOURCE")
	})
}

// nofileHard is this process's hard RLIMIT_NOFILE, as /proc/self/limits
// shows it.
func nofileHard(t *testing.T) string {
	t.Helper()
	for _, line := range strings.Split(readFile(t, "/proc/self/limits"), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				return f[1]
			}
		}
	}
	t.Fatal("/proc/self/limits has no Max open files line")
	return ""
}

func TestOCIOOMScoreAdj(t *testing.T) {
	own := readFile(t, "/proc/self/oom_score_adj")
	adj := func(v int) func(*specs.Spec) {
		return func(s *specs.Spec) { s.Process.OOMScoreAdj = &v }
	}
	ociRun(t, adj(500), "cat", "/proc/self/oom_score_adj").wantOutput(t, "500")
	t.Run("absent: unchanged", func(t *testing.T) {
		ociRun(t, func(*specs.Spec) {}, "cat", "/proc/self/oom_score_adj").wantOutput(t, own)
	})
	t.Run("lowering needs CAP_SYS_RESOURCE", func(t *testing.T) {
		if hasCap(t, capSysResource) {
			t.Skip("this host gives the runtime CAP_SYS_RESOURCE")
		}
		ociRun(t, adj(-998), "true").wantRefused(t, "process.oomScoreAdj -998", "CAP_SYS_RESOURCE", "withholds")
	})
	t.Run("out of range", func(t *testing.T) {
		ociRun(t, adj(1001), "true").wantRefused(t, "process.oomScoreAdj 1001")
	})
	if got := readFile(t, "/proc/self/oom_score_adj"); got != own {
		t.Errorf("the runtime's caller's oom_score_adj changed: %s, was %s", got, own)
	}
}

func TestOCISysctl(t *testing.T) {
	// Only namespaced sysctls, in the container's own namespaces; the
	// host's values are compared before and after.
	hostFiles := []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmax", "/proc/sys/kernel/domainname", "/proc/sys/vm/swappiness"}
	before := map[string]string{}
	for _, f := range hostFiles {
		before[f] = readFile(t, f)
	}
	t.Cleanup(func() {
		for _, f := range hostFiles {
			if got := readFile(t, f); got != before[f] {
				t.Errorf("host %s changed: %q, was %q", f, got, before[f])
			}
		}
	})
	fwd := "1"
	if before["/proc/sys/net/ipv4/ip_forward"] == "1" {
		fwd = "0"
	}
	ociRun(t, func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{
			"net.ipv4.ip_forward": fwd,
			"kernel.shmmax":       "123456789",
			"kernel/domainname":   "sysctl.test",
		}
	}, "sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/kernel/domainname").
		wantOutput(t, fwd, "123456789", "sysctl.test")

	for _, tc := range []struct {
		name   string
		sysctl map[string]string
		edit   func(*specs.Spec)
		want   []string
	}{
		{"global", map[string]string{"vm.swappiness": "13"}, nil, []string{`linux.sysctl "vm.swappiness"`, "not a namespaced sysctl"}},
		{"path out of /proc/sys/net", map[string]string{"net/../vm/swappiness": "13"}, nil, []string{`"net/../vm/swappiness"`, "not a sysctl name"}},
		{"net without a network namespace", map[string]string{"net.ipv4.ip_forward": fwd}, func(s *specs.Spec) {
			s.Linux.Namespaces = without(s.Linux.Namespaces, specs.NetworkNamespace)
		}, []string{`linux.sysctl "net.ipv4.ip_forward"`, "network namespace", "would change the host"}},
		{"ipc without an ipc namespace", map[string]string{"kernel.shmmax": "4096"}, func(s *specs.Spec) {
			s.Linux.Namespaces = without(s.Linux.Namespaces, specs.IPCNamespace)
		}, []string{`linux.sysctl "kernel.shmmax"`, "ipc namespace"}},
		{"missing", map[string]string{"net.ipv4.no_such_setting": "1"}, nil, []string{`linux.sysctl "net.ipv4.no_such_setting"`, "no such sysctl"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ociRun(t, func(s *specs.Spec) {
				s.Linux.Sysctl = tc.sysctl
				if tc.edit != nil {
					tc.edit(s)
				}
			}, "true").wantRefused(t, tc.want...)
		})
	}
}

// without returns ns without the namespace of type typ.
func without(ns []specs.LinuxNamespace, typ specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, n := range ns {
		if n.Type != typ {
			out = append(out, n)
		}
	}
	return out
}

func TestOCIMaskedPaths(t *testing.T) {
	// A /proc file, a /proc directory, a rootfs directory, and a path
	// that does not exist (skipped).
	ociRun(t, func(s *specs.Spec) {
		s.Linux.MaskedPaths = []string{"/proc/timer_list", "/proc/acpi", "/usr/local/bin", "/proc/no-such-file"}
	}, "sh", "-c", `
		head -c 10 /proc/timer_list | wc -c
		stat -c %F /proc/timer_list
		ls -A /usr/local/bin | wc -l
		touch /usr/local/bin/x 2>/dev/null && echo written || echo refused
		ls -A /proc/acpi | wc -l
		head -c 5 /proc/version | wc -c
	`).wantOutput(t, "0", "character special file", "0", "refused", "0", "5")
	if _, err := os.Stat(filepath.Join(env.rootfs, "usr/local/bin/x")); err == nil {
		t.Error("a write through the masked directory reached the rootfs")
	}
	t.Run("relative path", func(t *testing.T) {
		ociRun(t, func(s *specs.Spec) { s.Linux.MaskedPaths = []string{"proc/timer_list"} }, "true").
			wantRefused(t, "linux.maskedPaths proc/timer_list", "not an absolute path")
	})
}

func TestOCIReadonlyPaths(t *testing.T) {
	// /dev is made read-only with what is mounted beneath it (/dev/shm);
	// device nodes stay usable.
	ociRun(t, func(s *specs.Spec) {
		s.Linux.ReadonlyPaths = []string{"/proc/sys", "/dev", "/no/such/dir"}
	}, "sh", "-c", `
		cat /proc/sys/kernel/ostype
		(echo 1 > /proc/sys/net/ipv4/ip_forward) 2>/dev/null && echo written || echo refused
		touch /dev/shm/x 2>/dev/null && echo written || echo refused
		touch /dev/x 2>/dev/null && echo written || echo refused
		echo hi > /dev/null && echo null-ok
		touch /tmp/x-readonly-paths-$$ && rm /tmp/x-readonly-paths-$$ && echo tmp-ok
	`).wantOutput(t, "Linux", "refused", "refused", "refused", "null-ok", "tmp-ok")
}

func TestOCIDevices(t *testing.T) {
	mode := os.FileMode(0o640)
	uid, gid := uint32(1000), uint32(5)
	null := os.FileMode(0o666)
	ociRun(t, func(s *specs.Spec) {
		s.Linux.Devices = []specs.LinuxDevice{
			{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: &uid, GID: &gid},
			{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200},
			{Path: "/dev/loop-test", Type: "b", Major: 7, Minor: 200},
			{Path: "/dev/fifo-test", Type: "p"},
			// A standard node listed again (engines do) is fine.
			{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: &null},
			// So is /dev/ptmx, which a privileged pod's spec lists (CRI):
			// the container's /dev/ptmx is a link to pts/ptmx, the devpts
			// node, which is that device.
			{Path: "/dev/ptmx", Type: "c", Major: 5, Minor: 2, FileMode: &null},
		}
		// The device cgroup must allow them, as engines add for the devices
		// they pass: init makes the nodes inside it.
		for _, d := range s.Linux.Devices[:3] {
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices,
				specs.LinuxDeviceCgroup{Allow: true, Type: d.Type, Major: &d.Major, Minor: &d.Minor, Access: "rwm"})
		}
	}, "stat", "-L", "-c", "%n %F %t:%T %a %u:%g", "/dev/fuse", "/dev/net/tun", "/dev/loop-test", "/dev/fifo-test", "/dev/null", "/dev/ptmx").wantOutput(t,
		"/dev/fuse character special file a:e5 640 1000:5",
		"/dev/net/tun character special file a:c8 666 0:0",
		"/dev/loop-test block special file 7:c8 666 0:0",
		"/dev/fifo-test fifo 0:0 666 0:0",
		"/dev/null character special file 1:3 666 0:0",
		"/dev/ptmx character special file 5:2 666 0:0",
	)
	for _, tc := range []struct {
		name string
		dev  specs.LinuxDevice
		want []string
	}{
		{"conflicts with a standard node", specs.LinuxDevice{Path: "/dev/null", Type: "c", Major: 1, Minor: 5}, []string{"linux.devices /dev/null", "not the requested device"}},
		{"unknown type", specs.LinuxDevice{Path: "/dev/x", Type: "z"}, []string{"linux.devices /dev/x", `unknown type "z"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ociRun(t, func(s *specs.Spec) { s.Linux.Devices = []specs.LinuxDevice{tc.dev} }, "true").wantRefused(t, tc.want...)
		})
	}
}

func TestOCIReadonlyRoot(t *testing.T) {
	name := fmt.Sprintf("readonly-root-%d", os.Getpid())
	t.Cleanup(func() { os.Remove(filepath.Join(env.rootfs, name)) })
	ociRun(t, func(s *specs.Spec) { s.Root.Readonly = true }, "sh", "-c",
		"touch /"+name+" 2>/dev/null && echo written || echo refused; touch /dev/shm/x && echo shm-ok").
		wantOutput(t, "refused", "shm-ok")
	if _, err := os.Stat(filepath.Join(env.rootfs, name)); err == nil {
		t.Error("the read-only root was written")
	}
}
