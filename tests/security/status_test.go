package security

import (
	"strings"
	"testing"
)

// dockerDefaultCaps is the mask of Docker's 14 default capabilities as
// /proc/self/status prints it.
const dockerDefaultCaps = "00000000a80425fb"

// TestDefaultStatus: `grep Cap /proc/self/status` in a default container
// shows exactly Docker's 14 capabilities (none inheritable or ambient),
// NoNewPrivs is 1 and Seccomp is 2 (a filter).
func TestDefaultStatus(t *testing.T) {
	requireSuite(t)
	grep := func(t *testing.T, pattern string) []string {
		t.Helper()
		stdout, stderr, code, err := runCommand(env.bin, "run", env.rootfs, "grep", pattern, "/proc/self/status")
		if err != nil || code != 0 {
			t.Fatalf("grep %s /proc/self/status: exit %d %v\n%s", pattern, code, err, stderr)
		}
		return strings.Split(strings.TrimSpace(stdout), "\n")
	}
	t.Run("grep Cap", func(t *testing.T) {
		want := []string{
			"CapInh:\t0000000000000000",
			"CapPrm:\t" + dockerDefaultCaps,
			"CapEff:\t" + dockerDefaultCaps,
			"CapBnd:\t" + dockerDefaultCaps,
			"CapAmb:\t0000000000000000",
		}
		got := grep(t, "Cap")
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("grep Cap /proc/self/status:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("NoNewPrivs", func(t *testing.T) {
		if got := grep(t, "NoNewPrivs"); len(got) != 1 || got[0] != "NoNewPrivs:\t1" {
			t.Errorf("grep NoNewPrivs /proc/self/status: %q, want NoNewPrivs:\\t1", got)
		}
	})
	t.Run("Seccomp", func(t *testing.T) {
		got := grep(t, "^Seccomp:")
		if len(got) == 1 && got[0] == "Seccomp:\t2" {
			return
		}
		if _, pending := env.pending["seccomp"]; pending && len(got) == 1 && got[0] == "Seccomp:\t0" {
			t.Skipf("waiting for seccomp: %q", got[0])
		}
		t.Errorf("grep ^Seccomp: /proc/self/status: %q, want Seccomp:\\t2 (a filter)", got)
	})
}
