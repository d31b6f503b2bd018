package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/seccomp"
)

// linux.seccomp through minimal-runc bundles: the parent compiles the
// profile (or finds it in the cache), the init installs it right before
// execve, and exec'd processes get the same filter.

// errnoProfile allows everything except mkdir (EPERM, the default errno)
// and symlink (EROFS: a message busybox prints that /tmp would never
// cause). extra names an unknown syscall to make the profile, and so its
// cache key, unique ("" for none): unknown names are skipped.
func errnoProfile(extra string) *specs.LinuxSeccomp {
	erofs := uint(30)
	p := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},
			{Names: []string{"symlink", "symlinkat"}, Action: specs.ActErrno, ErrnoRet: &erofs},
		},
	}
	if extra != "" {
		p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{extra}, Action: specs.ActKill})
	}
	return p
}

// seccompScript prints the filter mode and what mkdir, symlink and an
// ordinary write do, in names of its own in the shared rootfs's /tmp, and
// removes whatever it made.
func seccompScript() string {
	n := "/tmp/" + uniqueName("sc")
	return fmt.Sprintf(`grep '^Seccomp:' /proc/self/status; `+
		`mkdir %[1]s.d 2>&1 || echo mkdir failed; `+
		`ln -s x %[1]s.l 2>&1 || echo ln failed; `+
		`echo hi > %[1]s.f && echo write ok; `+
		`rm -rf %[1]s.d %[1]s.l %[1]s.f`, n)
}

// wantFiltered checks seccompScript's output under errnoProfile.
func wantFiltered(t *testing.T, r result) {
	t.Helper()
	r.wantExit(t, 0)
	for _, want := range []string{"Seccomp:\t2", "Operation not permitted", "mkdir failed", "Read-only file system", "ln failed", "write ok"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q\n%s", want, r)
		}
	}
}

// TestSeccompErrno: ERRNO rules answer with their errno (EPERM by
// default), other calls go through, and the process is in filter mode.
func TestSeccompErrno(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
	}{
		{"no_new_privs", func(s *specs.Spec) { s.Process.NoNewPrivileges = true }},
		// Without no_new_privs the filter needs CAP_SYS_ADMIN: it is
		// installed before the user and capabilities change.
		{"without no_new_privs, as uid 1000", func(s *specs.Spec) {
			s.Process.NoNewPrivileges = false
			s.Process.User = specs.User{UID: 1000, GID: 1000}
		}},
		// The tiny init stays as PID 1 under the filter, every thread.
		{"tiny init", func(s *specs.Spec) {
			s.Annotations = map[string]string{"org.minimal-docker.init": "true"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ociRun(t, func(s *specs.Spec) {
				tc.edit(s)
				s.Linux.Seccomp = errnoProfile("")
			}, "sh", "-c", seccompScript()+"; grep '^NoNewPrivs:' /proc/self/status; grep '^Seccomp:' /proc/1/status | sed 's/^/pid1 /'")
			wantFiltered(t, r)
			if tc.name == "tiny init" && !strings.Contains(r.stdout, "pid1 Seccomp:\t2") {
				t.Errorf("the tiny init (PID 1) is not filtered\n%s", r)
			}
			if strings.HasPrefix(tc.name, "without") && !strings.Contains(r.stdout, "NoNewPrivs:\t0") {
				t.Errorf("no_new_privs is set\n%s", r)
			}
		})
	}
}

// TestSeccompDefaultProfile: Docker's default profile for the bundle's
// capabilities stops unshare (namespaces need CAP_SYS_ADMIN) while the
// shell, ls and ps work.
func TestSeccompDefaultProfile(t *testing.T) {
	r := ociRun(t, func(s *specs.Spec) {
		s.Linux.Seccomp = seccomp.DefaultProfile(s.Process.Capabilities.Bounding)
	}, "sh", "-c", `grep '^Seccomp:' /proc/self/status; ls / >/dev/null && echo ls ok; `+
		`ps | grep -q 'ps' && echo ps ok; unshare -U true 2>&1 || echo unshare failed; `+
		`unshare -m true 2>&1 || echo unshare -m failed`)
	r.wantExit(t, 0)
	for _, want := range []string{"Seccomp:\t2", "ls ok", "ps ok", "unshare failed", "unshare -m failed", "Operation not permitted"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q\n%s", want, r)
		}
	}
}

// TestSeccompExec: a process exec'd into the container runs under the
// container's filter.
func TestSeccompExec(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	b.edit(t, func(s *specs.Spec) { s.Linux.Seccomp = errnoProfile("") })
	id := uniqueName("scx")
	r := runc(t, b, "run", "-d", "--bundle", b.dir, id)
	r.wantExit(t, 0)
	wantFiltered(t, execIn(t, b, id, "sh", "-c", seccompScript()))
	runc(t, b, "delete", "--force", id).wantExit(t, 0)
}

// TestSeccompCache: the first run with a profile compiles it, the second
// finds it in the cache (--debug names the step).
func TestSeccompCache(t *testing.T) {
	p := errnoProfile(fmt.Sprintf("not_a_syscall_%d", time.Now().UnixNano()))
	steps := make([]string, 2)
	for i := range steps {
		b := newBundle(t, "true")
		b.edit(t, func(s *specs.Spec) { s.Linux.Seccomp = p })
		r := runc(t, b, "--debug", "run", "--bundle", b.dir, uniqueName("scc"))
		r.wantExit(t, 0)
		for _, step := range []string{"seccomp-compile", "seccomp-cached"} {
			if strings.Contains(r.stderr, "step "+step) {
				steps[i] = step
			}
		}
	}
	if steps[0] != "seccomp-compile" || steps[1] != "seccomp-cached" {
		t.Errorf("steps of two runs = %q, want seccomp-compile then seccomp-cached", steps)
	}
}

// TestSeccompRefused: a profile that can't be honoured fails before
// anything is made (the leftover check), naming what is wrong.
func TestSeccompRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*specs.LinuxSeccomp)
		want string
	}{
		{"unknown action", func(p *specs.LinuxSeccomp) { p.Syscalls[0].Action = "SCMP_ACT_SOMETIMES" }, "SCMP_ACT_SOMETIMES"},
		{"unknown operator", func(p *specs.LinuxSeccomp) {
			p.Syscalls[0].Args = []specs.LinuxSeccompArg{{Index: 0, Op: "SCMP_CMP_ROUGHLY"}}
		}, "SCMP_CMP_ROUGHLY"},
		{"unknown arch", func(p *specs.LinuxSeccomp) { p.Architectures = []specs.Arch{"SCMP_ARCH_PDP11"} }, "SCMP_ARCH_PDP11"},
		{"notify", func(p *specs.LinuxSeccomp) { p.Syscalls[0].Action = specs.ActNotify }, "SCMP_ACT_NOTIFY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := errnoProfile("")
			tc.edit(p)
			r := ociRun(t, func(s *specs.Spec) { s.Linux.Seccomp = p }, "true")
			r.wantRefused(t, "linux.seccomp", tc.want)
		})
	}
}
