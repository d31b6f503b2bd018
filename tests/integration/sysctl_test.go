package integration

import (
	"os"
	"strings"
	"testing"
)

// TestRunSysctl: --sysctl sets namespaced kernel parameters in the
// container's own namespaces (net.* in its network namespace, kernel.shm*
// in its ipc one), not the host's; a detached container's inspect shows
// them (HostConfig.Sysctls). A parameter that is not namespaced, a net.*
// one with --network host or container:, and a malformed flag are
// refused (exit 125), and the host's values stay as they were.
func TestRunSysctl(t *testing.T) {
	hostValue := func(p string) string {
		t.Helper()
		b, err := os.ReadFile("/proc/sys/" + p)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	// If a bug let a refused write through, put the host's value back.
	keep := func(p string) {
		was := hostValue(p)
		t.Cleanup(func() {
			if now := hostValue(p); now != was {
				t.Errorf("the host's %s changed from %s to %s", p, was, now)
				_ = os.WriteFile("/proc/sys/"+p, []byte(was), 0o644)
			}
		})
	}
	for _, p := range []string{"net/ipv4/ip_unprivileged_port_start", "kernel/shmmax", "kernel/panic", "net/core/somaxconn"} {
		keep(p)
	}

	r := run(t, []string{"--rm", "--network", "none", "--sysctl", "net.ipv4.ip_unprivileged_port_start=80", "--sysctl", "kernel.shmmax=123456789"},
		"cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start", "/proc/sys/kernel/shmmax")
	r.wantExit(t, 0)
	if got := strings.Fields(r.stdout); strings.Join(got, " ") != "80 123456789" {
		t.Errorf("the container's values: %q, want 80 and 123456789", got)
	}

	root := t.TempDir()
	id := detached(t, root, "--network", "none", "--sysctl", "net.core.somaxconn=1001", env.rootfs, "sleep", "1000")
	if got := inspectContainer(t, root, id).HostConfig.Sysctls; len(got) != 1 || got["net.core.somaxconn"] != "1001" {
		t.Errorf("inspect's HostConfig.Sysctls = %v, want net.core.somaxconn=1001", got)
	}
	r = mdi(t, root, "exec", id, "cat", "/proc/sys/net/core/somaxconn")
	r.wantExit(t, 0)
	if got := strings.TrimSpace(r.stdout); got != "1001" {
		t.Errorf("exec: net.core.somaxconn = %q, want 1001", got)
	}

	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--network", "none", "--sysctl", "kernel.panic=7"}, `linux.sysctl "kernel.panic": not a namespaced sysctl`},
		{[]string{"--network", "host", "--sysctl", "net.core.somaxconn=7"}, `invalid --sysctl "net.core.somaxconn=7": not allowed in the host's network namespace (--network host)`},
		{[]string{"--network", "container:" + id, "--sysctl", "net.core.somaxconn=7"}, "not allowed in another container's network namespace"},
		{[]string{"--network", "none", "--sysctl", "kernel.shmmax"}, `invalid --sysctl "kernel.shmmax": want KEY=VALUE`},
	} {
		r := run(t, append([]string{"--rm"}, tc.flags...), "true")
		r.wantExit(t, 125)
		r.wantStderr(t, tc.want)
	}
}
