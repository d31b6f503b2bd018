package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestVersion(t *testing.T) {
	testenv.RequireRoot(t)
	r := md(t, "--version")
	r.wantExit(t, 0)
	if strings.TrimSpace(r.stdout) == "" {
		t.Errorf("--version printed nothing\n%s", r)
	}
}

// TestRunHelpListsFlags: every run flag is documented.
func TestRunHelpListsFlags(t *testing.T) {
	testenv.RequireRoot(t)
	r := md(t, "run", "--help")
	r.wantExit(t, 0)
	for _, f := range []string{"--hostname", "--env", "--workdir", "--memory", "--pids-limit", "--cpus",
		"--cpuset-cpus", "--cpuset-mems", "--cgroup-parent", "--network", "--init", "--log-level", "--cidfile", "--allow-host-rootfs"} {
		if !strings.Contains(r.stdout, f) {
			t.Errorf("run --help does not mention %s\n%s", f, r)
		}
	}
}

// TestLogLevelDebugNamesSteps: --log-level debug prints the setup steps.
func TestLogLevelDebugNamesSteps(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, []string{"--log-level", "debug"}, "true")
	r.wantExit(t, 0)
	for _, step := range []string{"hostname", "pivot_root"} {
		if !strings.Contains(r.stderr, step) {
			t.Errorf("debug log does not name the %s step\n%s", step, r)
		}
	}
	if r.stdout != "" {
		t.Errorf("debug log went to stdout\n%s", r)
	}
}

// TestInitBinary: the runtime starts minimal-docker-helper (the plan's
// init) from beside its own binary; one that others could write is
// refused, naming it, with nothing left behind.
func TestInitBinary(t *testing.T) {
	testenv.RequireRoot(t)
	const initName = "minimal-docker-helper"
	// runDebug: for checking the debug log's "init binary" line after a run of
	// `true` by the runtime at bin.
	runDebug := func(t *testing.T, bin string) result {
		t.Helper()
		p := startProc(t, false, func(c *exec.Cmd) { c.Path = bin }, runArgs([]string{"--log-level", "debug"}, "true"))
		return p.wait(t)
	}
	t.Run("beside", func(t *testing.T) {
		r := runDebug(t, env.bin)
		r.wantExit(t, 0)
		r.wantStderr(t, "init binary: "+filepath.Join(filepath.Dir(env.bin), initName)+" (")
	})
	t.Run("writable by others", func(t *testing.T) {
		dir := t.TempDir()
		bin := filepath.Join(dir, "minimal-docker")
		copyFile(t, env.bin, bin, 0o755)
		bad := filepath.Join(dir, initName)
		copyFile(t, filepath.Join(filepath.Dir(env.bin), initName), bad, 0o757)
		r := runDebug(t, bin)
		r.wantExit(t, 125)
		r.wantStderr(t, bad, "writable by group or others")
	})
}

// TestHelperBinary: without minimal-docker-helper beside the runtime — the
// container's init — no container runs, with or without a seccomp
// profile, and exec fails (125; minimal-runc: 1, as runc), naming where
// the helper was looked for, and the container is left as it was.
func TestHelperBinary(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	for _, name := range []string{"minimal-docker", "minimal-runc"} {
		copyFile(t, filepath.Join(filepath.Dir(env.bin), name), filepath.Join(dir, name), 0o755)
	}
	want := filepath.Join(dir, "minimal-docker-helper")
	runWith := func(t *testing.T, flags ...string) result {
		t.Helper()
		p := startProc(t, false, func(c *exec.Cmd) { c.Path = filepath.Join(dir, "minimal-docker") }, runArgs(flags, "true"))
		return p.wait(t)
	}
	t.Run("seccomp", func(t *testing.T) {
		r := runWith(t)
		r.wantExit(t, 125)
		r.wantStderr(t, want, "install minimal-docker-helper")
	})
	t.Run("unconfined", func(t *testing.T) {
		r := runWith(t, "--security-opt", "seccomp=unconfined")
		r.wantExit(t, 125)
		r.wantStderr(t, want, "install minimal-docker-helper")
	})
	// exec: minimal-runc's runtime errors exit 1, as runc's. One container
	// with a profile (as minimal-runc spec writes), one without.
	for _, seccomp := range []bool{true, false} {
		t.Run(fmt.Sprintf("exec seccomp %v", seccomp), func(t *testing.T) {
			b := newBundle(t, "sleep", "1000")
			if !seccomp {
				b.edit(t, func(s *specs.Spec) { s.Linux.Seccomp = nil })
			}
			runc(t, b, "run", "-d", "--bundle", b.dir, "nohelper").wantExit(t, 0)
			ctx, cancel := context.WithTimeout(context.Background(), env.timeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(dir, "minimal-runc"), "--root", b.root, "exec", "nohelper", "true")
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), want) {
				t.Errorf("exec without the helper: %v, %s; want exit 1 naming %s", err, out, want)
			}
			if st := b.state(t, "nohelper"); st.Status != specs.StateRunning {
				t.Errorf("container is %s after the failed exec, want running", st.Status)
			}
		})
	}
}

// copyFile copies src to dst with exactly mode.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}
