package integration

import (
	"syscall"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestInitReapsOrphanedZombie: with --init, an orphan that exits is reaped
// by PID 1 (the init), so no zombie stays.
func TestInitReapsOrphanedZombie(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, []string{"--init"}, "sh", "-c", "probe orphan && probe zombies")
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) != 3 || lines[1] != "reaped" || lines[2] != "0" {
		t.Errorf("want an orphan line, then \"reaped\" and 0 zombies\n%s", r)
	}
}

// TestWithoutInitOrphanStaysZombie shows why --init exists: the probe as
// PID 1 never waits for the orphan it inherits, so the orphan stays a
// zombie.
func TestWithoutInitOrphanStaysZombie(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, nil, "probe", "orphan")
	r.wantExit(t, 0)
	if lines := r.lines(); len(lines) != 2 || lines[1] != "zombie" {
		t.Errorf("want an orphan line, then \"zombie\"\n%s", r)
	}
}

// TestInitRunsCommandAsChild: with --init the command is not PID 1 but the
// init's child.
func TestInitRunsCommandAsChild(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, []string{"--init"}, "probe", "self")
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) < 2 || lines[0] == "pid 1" || lines[1] != "ppid 1" {
		t.Errorf("want the command with a pid other than 1 and parent 1\n%s", r)
	}
}

// TestInitPassesExitStatus: the init exits as its command did.
func TestInitPassesExitStatus(t *testing.T) {
	testenv.RequireRoot(t)
	tests := []struct {
		name   string
		script string
		code   int
	}{
		{"success", "true", 0},
		{"status 5", "exit 5", 5},
		{"killed by SIGTERM", "kill -TERM $$", 128 + int(syscall.SIGTERM)},
		{"killed by SIGKILL", "kill -KILL $$", 128 + int(syscall.SIGKILL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, []string{"--init"}, "sh", "-c", tt.script).wantExit(t, tt.code)
		})
	}
}
