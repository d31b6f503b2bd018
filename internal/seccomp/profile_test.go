package seccomp

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// dockerCaps is Docker's default capability set.
var dockerCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

// rulesFor lists the rules that name syscall.
func rulesFor(p *specs.LinuxSeccomp, syscall string) []specs.LinuxSyscall {
	var out []specs.LinuxSyscall
	for _, r := range p.Syscalls {
		if slices.Contains(r.Names, syscall) {
			out = append(out, r)
		}
	}
	return out
}

// allowedUnconditionally: some rule allows syscall with no argument test.
func allowedUnconditionally(p *specs.LinuxSeccomp, syscall string) bool {
	for _, r := range rulesFor(p, syscall) {
		if r.Action == specs.ActAllow && len(r.Args) == 0 {
			return true
		}
	}
	return false
}

func TestDefaultProfile(t *testing.T) {
	p := DefaultProfile(dockerCaps)
	if p.DefaultAction != specs.ActErrno {
		t.Errorf("defaultAction = %s, want SCMP_ACT_ERRNO", p.DefaultAction)
	}
	if _, err := check(p); err != nil {
		t.Fatalf("Docker's profile fails the check: %v", err)
	}
	for _, sc := range []string{"read", "write", "execve", "clone", "openat", "wait4", "setuid", "chown", "mknod"} {
		if len(rulesFor(p, sc)) == 0 {
			t.Errorf("%s is not allowed", sc)
		}
	}
	for _, sc := range []string{"mount", "umount2", "unshare", "setns", "bpf", "reboot", "kexec_load", "init_module",
		"settimeofday", "sethostname", "keyctl", "perf_event_open", "open_by_handle_at", "swapon", "acct"} {
		if allowedUnconditionally(p, sc) {
			t.Errorf("%s is allowed without CAP_SYS_ADMIN (or its own capability)", sc)
		}
	}
	// clone3 answers ENOSYS, so that libc falls back to clone.
	c3 := rulesFor(p, "clone3")
	if len(c3) != 1 || c3[0].Action != specs.ActErrno || c3[0].ErrnoRet == nil || *c3[0].ErrnoRet != uint(unix.ENOSYS) {
		t.Errorf("clone3 rules = %+v, want ERRNO ENOSYS", c3)
	}
	// clone is allowed only without namespace flags.
	for _, r := range rulesFor(p, "clone") {
		if r.Action == specs.ActAllow && (len(r.Args) == 0 || r.Args[0].Op != specs.OpMaskedEqual) {
			t.Errorf("clone rule %+v: want a MASKED_EQ test of its flags", r)
		}
	}
}

func TestDefaultProfileFollowsCapabilities(t *testing.T) {
	withAdmin := DefaultProfile(append(slices.Clone(dockerCaps), "sys_admin")) // any spelling
	for _, sc := range []string{"mount", "umount2", "unshare", "setns", "clone3"} {
		if !allowedUnconditionally(withAdmin, sc) {
			t.Errorf("with CAP_SYS_ADMIN, %s is not allowed", sc)
		}
	}
	if got := rulesFor(withAdmin, "clone3"); len(got) != 1 || got[0].Action != specs.ActAllow {
		t.Errorf("with CAP_SYS_ADMIN clone3 rules = %+v, want one ALLOW", got)
	}
	if allowedUnconditionally(withAdmin, "reboot") {
		t.Error("CAP_SYS_ADMIN alone allows reboot (CAP_SYS_BOOT guards it)")
	}
	boot := DefaultProfile([]string{"CAP_SYS_BOOT", "CAP_SYS_TIME", "CAP_SYS_PTRACE"})
	for _, sc := range []string{"reboot", "settimeofday", "clock_settime", "ptrace", "process_vm_readv"} {
		if !allowedUnconditionally(boot, sc) {
			t.Errorf("with its capability, %s is not allowed", sc)
		}
	}
	// Profiles for different capability sets are different cache keys.
	c := &Cache{compiler: compiler{version: "v"}}
	if c.Key(DefaultProfile(dockerCaps)) == c.Key(withAdmin) {
		t.Error("profiles for different capabilities share a key")
	}
}

func TestLoadDockerProfile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "profile.json")
	body := `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
  "syscalls": [
    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
    {"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
    {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}}
  ]
}`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadDockerProfile(path, []string{"CAP_CHOWN"})
	if err != nil {
		t.Fatal(err)
	}
	if p.DefaultAction != specs.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 {
		t.Errorf("default = %s %v", p.DefaultAction, p.DefaultErrnoRet)
	}
	if len(rulesFor(p, "mount")) != 0 || len(rulesFor(p, "chroot")) != 1 || len(rulesFor(p, "mkdir")) != 1 {
		t.Errorf("without CAP_SYS_ADMIN: rules %+v", p.Syscalls)
	}
	if _, err := check(p); err != nil {
		t.Errorf("check: %v", err)
	}
	p, err = LoadDockerProfile(path, []string{"SYS_ADMIN"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rulesFor(p, "mount")) != 1 || len(rulesFor(p, "chroot")) != 0 {
		t.Errorf("with CAP_SYS_ADMIN: rules %+v", p.Syscalls)
	}

	if err := os.WriteFile(path, []byte(`{"defaultAction": `), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDockerProfile(path, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad JSON: error %v, want one naming %s", err, path)
	}
	if _, err := LoadDockerProfile(filepath.Join(dir, "missing.json"), nil); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: error %v", err)
	}
}
