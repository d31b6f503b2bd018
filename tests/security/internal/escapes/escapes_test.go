package escapes

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// ownNS is ESCAPE_HOST_NS naming this process's own namespaces.
func ownNS(t *testing.T) string {
	t.Helper()
	var parts []string
	for _, kind := range guardedKinds {
		l, err := os.Readlink("/proc/self/ns/" + kind)
		if err != nil {
			t.Skipf("cannot read /proc/self/ns/%s: %v", kind, err)
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

// TestGuard: an attempt is refused in the host's namespaces, or when the
// host's are not named; it is allowed only when all three differ.
func TestGuard(t *testing.T) {
	t.Setenv("ESCAPE_HOST_NS", "")
	if err := notOnHost(); err == nil {
		t.Error("notOnHost() = nil without ESCAPE_HOST_NS")
	}
	own := ownNS(t)
	t.Setenv("ESCAPE_HOST_NS", own)
	if err := notOnHost(); err == nil {
		t.Errorf("notOnHost() = nil with ESCAPE_HOST_NS=%q, this process's own", own)
	}
	t.Setenv("ESCAPE_HOST_NS", "pid:[1] mnt:[2]")
	if err := notOnHost(); err == nil {
		t.Error("notOnHost() = nil with no uts namespace named")
	}
	t.Setenv("ESCAPE_HOST_NS", "pid:[1] mnt:[2] uts:[3]")
	if err := notOnHost(); err != nil {
		t.Errorf("notOnHost() with other namespaces: %v", err)
	}
}

// TestMainRefusesOnHost runs a harmless guarded case (it only reads /proc)
// in this process's namespaces: Main must refuse it with status 3.
func TestMainRefusesOnHost(t *testing.T) {
	t.Setenv("ESCAPE_HOST_NS", ownNS(t))
	if got := Main([]string{"escape", "proc-1-environ"}); got != 3 {
		t.Errorf("Main(proc-1-environ) in the host's namespaces = %d, want 3 (refused)", got)
	}
	if got := Main([]string{"escape", "no-such-case"}); got != 2 {
		t.Errorf("Main(no-such-case) = %d, want 2", got)
	}
}

// TestEveryAttemptIsGuarded: only the probes that change nothing run
// without the namespace check.
func TestEveryAttemptIsGuarded(t *testing.T) {
	unguarded := map[string]bool{"namespaces": true, "devices-list": true}
	for _, n := range Names() {
		if cases[n].guarded == unguarded[n] {
			t.Errorf("case %s: guarded=%v", n, cases[n].guarded)
		}
	}
	if len(Names()) < 40 {
		t.Errorf("%d cases, want at least 40", len(Names()))
	}
}

func TestResultString(t *testing.T) {
	for _, tt := range []struct {
		r    result
		want string
	}{
		{ok("x=1"), "ok x=1"},
		{ok(""), "ok"},
		{failed(unix.EPERM, ""), "errno=EPERM"},
		{failed(unix.EROFS, "at %s", "open"), "errno=EROFS at open"},
		{refuse("why"), "refused: why"},
	} {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.r, got, tt.want)
		}
	}
	if got := errnoByName("ENOSYS"); got != unix.ENOSYS {
		t.Errorf("errnoByName(ENOSYS) = %v", got)
	}
	if got := errnoOf(os.ErrNotExist); got != unix.EIO {
		t.Errorf("errnoOf(an error without errno) = %v, want EIO", got)
	}
}
