package integration

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// dockerDefaultCaps is the mask of Docker's 14 default capabilities as
// /proc/self/status prints it.
const dockerDefaultCaps = "00000000a80425fb"

// statusLines returns the named fields of the container's
// /proc/self/status for a run with flags.
func statusLines(t *testing.T, flags []string, fields ...string) map[string]string {
	t.Helper()
	r := run(t, flags, "cat", "/proc/self/status")
	r.wantExit(t, 0)
	out := map[string]string{}
	for _, l := range r.lines() {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	for _, f := range fields {
		if _, ok := out[f]; !ok {
			t.Fatalf("/proc/self/status has no %s\n%s", f, r)
		}
	}
	return out
}

// TestSecurityDefaults: a default container has exactly Docker's 14
// capabilities (none inheritable or ambient) and no_new_privs.
func TestSecurityDefaults(t *testing.T) {
	testenv.RequireRoot(t)
	st := statusLines(t, nil, "CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb", "NoNewPrivs")
	for _, f := range []string{"CapBnd", "CapEff", "CapPrm"} {
		if st[f] != dockerDefaultCaps {
			t.Errorf("%s = %s, want %s (Docker's 14)", f, st[f], dockerDefaultCaps)
		}
	}
	for _, f := range []string{"CapInh", "CapAmb"} {
		if st[f] != "0000000000000000" {
			t.Errorf("%s = %s, want empty", f, st[f])
		}
	}
	if st["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs = %s, want 1", st["NoNewPrivs"])
	}
}

// TestSecurityFlags: --cap-add, --cap-drop, --privileged and
// --security-opt no-new-privileges change what the process holds.
func TestSecurityFlags(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tc := range []struct {
		name  string
		flags []string
		field string
		want  string
	}{
		{"cap-drop ALL", []string{"--cap-drop", "ALL"}, "CapEff", "0000000000000000"},
		{"cap-drop ALL, cap-add CHOWN", []string{"--cap-drop", "ALL", "--cap-add", "chown"}, "CapBnd", "0000000000000001"},
		{"cap-drop CHOWN", []string{"--cap-drop", "CAP_CHOWN"}, "CapEff", "00000000a80425fa"},
		{"cap-add NET_ADMIN", []string{"--cap-add", "NET_ADMIN"}, "CapEff", "00000000a80435fb"},
		{"no-new-privileges=false", []string{"--security-opt", "no-new-privileges=false"}, "NoNewPrivs", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := statusLines(t, tc.flags, tc.field)[tc.field]; got != tc.want {
				t.Errorf("%s = %s, want %s", tc.field, got, tc.want)
			}
		})
	}
	t.Run("privileged", func(t *testing.T) {
		st := statusLines(t, []string{"--privileged"}, "CapEff")
		if st["CapEff"] == dockerDefaultCaps || st["CapEff"] == "0000000000000000" {
			t.Errorf("privileged CapEff = %s, want every capability the runtime holds", st["CapEff"])
		}
		r := run(t, []string{"--privileged"}, "sh", "-c", "grep -c /proc/kcore /proc/self/mountinfo; grep ' /proc/sys ' /proc/self/mountinfo | grep -c ' ro,'")
		if lines := r.lines(); len(lines) < 2 || lines[0] != "0" || lines[1] != "0" {
			t.Errorf("privileged: want no masked /proc/kcore and /proc/sys not read-only\n%s", r)
		}
	})
}

// TestMaskedAndReadonlyPathsByDefault: /proc/sys is read-only and the
// masked directories are empty.
func TestMaskedAndReadonlyPathsByDefault(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, nil, "sh", "-c", "cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname; echo rc=$?; ls /sys/firmware | wc -l")
	if !strings.Contains(r.stdout, "rc=1") || !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf("writing /proc/sys: want a read-only failure\n%s", r)
	}
	if lines := r.lines(); len(lines) != 2 || strings.TrimSpace(lines[1]) != "0" {
		t.Errorf("/sys/firmware is not empty\n%s", r)
	}
}

// TestUserReadOnlyTmpfs: -u with names from the rootfs, --read-only and
// --tmpfs.
func TestUserReadOnlyTmpfs(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, []string{"-u", "nobody"}, "id")
	r.wantExit(t, 0)
	if !strings.HasPrefix(r.stdout, "uid=65534(nobody) gid=65534") {
		t.Errorf("-u nobody: %s", r)
	}
	r = run(t, []string{"-u", "1234:5678"}, "id", "-u")
	if strings.TrimSpace(r.stdout) != "1234" {
		t.Errorf("-u 1234:5678: %s", r)
	}
	r = run(t, []string{"-u", "nosuchuser"}, "true")
	r.wantExit(t, 125)
	r.wantStderr(t, "--user", "nosuchuser")

	r = run(t, []string{"--read-only", "--tmpfs", "/tmp:size=1m"}, "sh", "-c", "touch /x 2>&1; touch /tmp/y && echo tmp-ok; grep ' /tmp ' /proc/self/mountinfo")
	if !strings.Contains(r.stdout, "Read-only file system") || !strings.Contains(r.stdout, "tmp-ok") || !strings.Contains(r.stdout, "size=1024k") {
		t.Errorf("--read-only --tmpfs: want / read-only, /tmp a 1m tmpfs\n%s", r)
	}
	for _, bad := range [][]string{{"--cap-add", "FLY"}, {"--tmpfs", "relative"}, {"--security-opt", "apparmor=x"}} {
		r := run(t, bad, "true")
		r.wantExit(t, 125)
		r.wantStderr(t, bad[0])
	}
}

// TestRuntimeBinarySealed: the tiny init (a long-lived copy of the
// runtime as PID 1) runs from a read-only detached mount of the binary
// (CVE-2019-5736; package sealed): with CAP_SYS_PTRACE, which lets the
// container reach /proc/1/exe, it names no host path ("/", the root of a
// mount attached nowhere) and can't be opened for writing; without that
// capability the init is not dumpable and /proc/1/exe and /proc/1/fd are
// out of reach. The binary on the host is unchanged.
func TestRuntimeBinarySealed(t *testing.T) {
	testenv.RequireRoot(t)
	before := fileSHA256(t, env.bin)
	r := run(t, []string{"--init", "--cap-add", "SYS_PTRACE"}, "sh", "-c", "readlink /proc/1/exe; : >> /proc/1/exe")
	if r.code == 0 || strings.TrimSpace(r.stdout) != "/" {
		t.Errorf("/proc/1/exe of the init: want it to be the detached mount's root / and not writable\n%s", r)
	}
	r = run(t, []string{"--init"}, "sh", "-c", ": >> /proc/1/exe; ls /proc/1/fd")
	if r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("/proc/1/exe and /proc/1/fd of a non-dumpable init: want EACCES\n%s", r)
	}
	if after := fileSHA256(t, env.bin); after != before {
		t.Fatalf("the runtime binary %s changed", env.bin)
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(data))
}
