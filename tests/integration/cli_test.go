package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
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
		"--cgroup-parent", "--network", "--init", "--log-level", "--cidfile"} {
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

// TestInitBinary: the runtime starts minimal-docker-init from beside its
// own binary; without one there it runs its own hidden init command, and
// the container runs the same; an init binary that others could write is
// refused, naming it, with nothing left behind.
func TestInitBinary(t *testing.T) {
	testenv.RequireRoot(t)
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
		r.wantStderr(t, "init binary: "+filepath.Join(filepath.Dir(env.bin), "minimal-docker-init")+" (")
	})
	t.Run("absent", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "minimal-docker")
		copyFile(t, env.bin, bin, 0o755)
		r := runDebug(t, bin)
		r.wantExit(t, 0)
		r.wantStderr(t, "init binary: "+bin+" (")
	})
	t.Run("writable by others", func(t *testing.T) {
		dir := t.TempDir()
		bin := filepath.Join(dir, "minimal-docker")
		copyFile(t, env.bin, bin, 0o755)
		bad := filepath.Join(dir, "minimal-docker-init")
		copyFile(t, env.bin, bad, 0o757)
		r := runDebug(t, bin)
		r.wantExit(t, 125)
		r.wantStderr(t, bad, "writable by group or others")
	})
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
