package initproc

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
)

func TestCheckSysctl(t *testing.T) {
	all := []specs.LinuxNamespace{{Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}}
	joined := []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/proc/1/ns/net"}}
	for _, tc := range []struct {
		key  string
		ns   []specs.LinuxNamespace
		path string // "" when refused
		err  string
	}{
		{"net.ipv4.ip_forward", all, "/proc/sys/net/ipv4/ip_forward", ""},
		{"net/ipv4/conf/eth0.100/forwarding", all, "/proc/sys/net/ipv4/conf/eth0.100/forwarding", ""},
		{"kernel.shmmax", all, "/proc/sys/kernel/shmmax", ""},
		{"kernel.sem", all, "/proc/sys/kernel/sem", ""},
		{"fs.mqueue.msg_max", all, "/proc/sys/fs/mqueue/msg_max", ""},
		{"kernel.domainname", all, "/proc/sys/kernel/domainname", ""},
		{"net.ipv4.ip_forward", nil, "", "no new one"},
		{"net.ipv4.ip_forward", joined, "", "no new one"},
		{"kernel.shmmax", []specs.LinuxNamespace{{Type: specs.NetworkNamespace}}, "", "ipc namespace"},
		{"vm.swappiness", all, "", "not a namespaced sysctl"},
		{"kernel.semx", all, "", "not a namespaced sysctl"},
		{"kernel.shmmax.x", all, "", "not a namespaced sysctl"},
		{"net/../vm/swappiness", all, "", "not a sysctl name"},
		{"net..ipv4", all, "", "not a sysctl name"},
		{"net.ipv4/../../vm", all, "", "not a sysctl name"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			path, err := checkSysctl(tc.key, tc.ns)
			if tc.err == "" {
				if err != nil || path != tc.path {
					t.Fatalf("checkSysctl = %q, %v; want %q", path, err, tc.path)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("checkSysctl = %q, %v; want an error naming %q with %q", path, err, tc.key, tc.err)
			}
		})
	}
}

func TestParseRlimits(t *testing.T) {
	rl, err := parseRlimits([]specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rl) != 2 || rl[0].resource != unix.RLIMIT_NOFILE || rl[0].lim != (unix.Rlimit{Cur: 1024, Max: 2048}) || rl[1].resource != unix.RLIMIT_CORE {
		t.Errorf("parseRlimits = %+v", rl)
	}
	for _, tc := range []struct {
		name string
		rl   []specs.POSIXRlimit
		want string
	}{
		{"unknown", []specs.POSIXRlimit{{Type: "RLIMIT_NOPE"}}, `"RLIMIT_NOPE"`},
		{"lower case", []specs.POSIXRlimit{{Type: "rlimit_nofile"}}, `"rlimit_nofile"`},
		{"duplicate", []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 1}, {Type: "RLIMIT_NOFILE", Soft: 2, Hard: 2}}, "RLIMIT_NOFILE is given more than once"},
		{"soft above hard", []specs.POSIXRlimit{{Type: "RLIMIT_NPROC", Soft: 10, Hard: 5}}, "RLIMIT_NPROC: soft limit 10 is above hard limit 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseRlimits(tc.rl); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestFinalPlanStepsOrder(t *testing.T) {
	// The order is the point: the bounding set needs CAP_SETPCAP (before
	// setuid), capset after setuid, no_new_privs then the seccomp filter
	// last; without no_new_privs the filter needs CAP_SYS_ADMIN, so first.
	for _, tc := range []struct {
		nnp  bool
		want string
	}{
		{true, "bounding-set user capabilities umask no_new_privs seccomp"},
		{false, "seccomp bounding-set user capabilities umask"},
	} {
		s := &state{
			cfg: &handshake.Config{},
			spec: &specs.Spec{
				Process: &specs.Process{NoNewPrivileges: tc.nnp, Capabilities: &specs.LinuxCapabilities{}},
				Linux:   &specs.Linux{Seccomp: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}},
			},
		}
		var names []string
		for _, st := range FinalPlanSteps {
			if st.applies(s) {
				names = append(names, st.name)
			}
		}
		if got := strings.Join(names, " "); got != tc.want {
			t.Errorf("no_new_privs %v: FinalPlanSteps = %s, want %s", tc.nnp, got, tc.want)
		}
	}
}

// TestCheck: what the steps would refuse is refused before the container
// exists, naming the field, and only where the step applies.
func TestCheck(t *testing.T) {
	umask, ok := uint32(0o7777), uint32(0o077)
	adj := 1001
	withMounts := []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace}}
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
		want string // "" when accepted
	}{
		{"valid", func(s *specs.Spec) {
			s.Process.User = specs.User{UID: 1000, Umask: &ok, AdditionalGids: []uint32{5}}
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, ""},
		{"oomScoreAdj", func(s *specs.Spec) { s.Process.OOMScoreAdj = &adj }, "process.oomScoreAdj 1001: want -1000 to 1000"},
		{"umask", func(s *specs.Spec) { s.Process.User.Umask = &umask }, "process.user.umask 07777"},
		{"groups", func(s *specs.Spec) { s.Process.User.AdditionalGids = make([]uint32, ngroupsMax+1) }, "process.user.additionalGids: 65537 groups"},
		{"capability", func(s *specs.Spec) {
			s.Process.Capabilities = &specs.LinuxCapabilities{Ambient: []string{"CAP_NOPE"}}
		}, `process.capabilities.ambient: unknown capability "CAP_NOPE"`},
		{"propagation", func(s *specs.Spec) { s.Linux.RootfsPropagation = "sideways" }, `linux.rootfsPropagation "sideways"`},
		{"device", func(s *specs.Spec) { s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z"}} }, `linux.devices /dev/x: unknown type "z"`},
		{"console size", func(s *specs.Spec) {
			s.Process.Terminal = true
			s.Process.ConsoleSize = &specs.Box{Height: 70000, Width: 80}
		}, "process.consoleSize 70000x80"},
		{"console size without a terminal", func(s *specs.Spec) { s.Process.ConsoleSize = &specs.Box{Height: 70000, Width: 80} }, ""},
		{"sysctl", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} }, "not a namespaced sysctl"},
		{"masked path", func(s *specs.Spec) { s.Linux.MaskedPaths = []string{"proc/kcore"} }, "linux.maskedPaths proc/kcore: not an absolute path"},
		{"readonly path", func(s *specs.Spec) { s.Linux.ReadonlyPaths = []string{"sys"} }, "linux.readonlyPaths sys: not an absolute path"},
		{"rlimit", func(s *specs.Spec) { s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOPE"}} }, `process.rlimits: unknown type "RLIMIT_NOPE"`},
		// Without a mount namespace nothing is mounted: spec.Check refuses
		// these fields then, not the steps.
		{"no mount namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = nil
			s.Linux.RootfsPropagation = "sideways"
			s.Linux.MaskedPaths = []string{"proc/kcore"}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &specs.Spec{Process: &specs.Process{Args: []string{"true"}, Cwd: "/"}, Linux: &specs.Linux{Namespaces: withMounts}}
			tc.edit(s)
			err := Check(s)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
