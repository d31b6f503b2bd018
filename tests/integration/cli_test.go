package integration

import (
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
