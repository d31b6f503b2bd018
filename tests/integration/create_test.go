package integration

// create, then start: a container made without running (Created in ps,
// no process), started by start, stopped and started again with its
// times and pid renewed.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

// created runs `create ARGS...` under root, wants the full id printed,
// and removes the container (rm -f) when the test ends, even when it
// fails.
func created(t *testing.T, root string, args ...string) string {
	t.Helper()
	r := mdi(t, root, append([]string{"create"}, args...)...)
	r.wantExit(t, 0)
	id := strings.TrimSpace(r.stdout)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("create printed %q, want the container's full id\n%s", id, r)
	}
	t.Cleanup(func() {
		if r := mdi(t, root, "rm", "-f", id); r.code != 0 && !strings.Contains(r.stderr, "No such container") {
			t.Errorf("cleanup: %s", r)
		}
	})
	return id
}

// TestCreateStart: create makes a container that does not run (Created,
// no pid, no StartedAt, not in ps without -a); start runs it (Up, its
// output in its log), a second start leaves it as it is, and a start
// after a stop runs it again, with a new pid and a later StartedAt.
func TestCreateStart(t *testing.T) {
	root := t.TempDir()
	id := created(t, root, "--name", "later", "--label", "k=v", env.rootfs, "sh", "-c", "echo started; sleep 1000")

	if got := psStatus(t, root, "later"); got != "later Created" {
		t.Errorf("ps -a after create: %q, want later Created", got)
	}
	if r := mdi(t, root, "ps", "-q"); r.code != 0 || r.stdout != "" {
		t.Errorf("ps (running only) lists a created container\n%s", r)
	}
	c := inspectContainer(t, root, "later")
	if c.ID != id || c.State.Status != store.Created || c.State.Running || c.State.Pid != 0 || !c.State.StartedAt.IsZero() ||
		c.Config.Labels["k"] != "v" || c.Path != "sh" {
		t.Fatalf("inspect after create: Id %s State %+v Labels %v Path %q; want created, no process", c.ID, c.State, c.Config.Labels, c.Path)
	}

	r := mdi(t, root, "start", "later")
	r.wantExit(t, 0)
	if r.stdout != "later\n" {
		t.Errorf("start printed %q, want the name as given", r.stdout)
	}
	first := inspectContainer(t, root, id)
	if first.State.Status != store.Running || first.State.Pid <= 0 || first.State.StartedAt.IsZero() || !alive(first.State.Monitor()) {
		t.Fatalf("inspect after start: %+v, want running with a pid, a start time and a live monitor", first.State)
	}
	if got := psStatus(t, root, "later"); !strings.HasPrefix(got, "later Up ") {
		t.Errorf("ps after start: %q, want Up", got)
	}
	waitFor(t, "the container's output in its log", func() bool {
		r := mdi(t, root, "logs", "later")
		return r.code == 0 && r.stdout == "started\n"
	})

	// start of a running container: nothing changes.
	mdi(t, root, "start", id[:12]).wantExit(t, 0)
	if again := inspectContainer(t, root, id); again.State.Pid != first.State.Pid || !again.State.StartedAt.Equal(first.State.StartedAt) {
		t.Errorf("start of a running container changed it: %+v, was %+v", again.State, first.State)
	}

	mdi(t, root, "stop", "-t", "1", "later").wantExit(t, 0)
	stopped := inspectContainer(t, root, id)
	if stopped.State.Status != store.Exited || stopped.State.FinishedAt.Before(first.State.StartedAt) {
		t.Fatalf("after stop: %+v, want exited with its finish time", stopped.State)
	}
	mdi(t, root, "container", "start", "later").wantExit(t, 0)
	second := inspectContainer(t, root, id)
	if second.State.Status != store.Running || second.State.Pid == first.State.Pid ||
		!second.State.StartedAt.After(stopped.State.FinishedAt) || !second.State.FinishedAt.Equal(stopped.State.FinishedAt) {
		t.Errorf("after a second start: %+v; want running, a new pid, started after the last finish (%v), which is kept", second.State, stopped.State.FinishedAt)
	}
	waitFor(t, "the second run's output in the log", func() bool {
		return mdi(t, root, "logs", "later").stdout == "started\nstarted\n"
	})
	mdi(t, root, "rm", "-f", "later").wantExit(t, 0)
	wantNothingLeft(t, root, second)
}

// TestCreateFails: create takes run's flags, but -d, and checks them as
// run -d does: a bad one exits 125 and leaves nothing; a created
// container whose command is not found fails at start (exit 1, the
// runtime's word) and stays as it was, with the start's error and exit
// code in its State (Docker's State.Error), cleared by a start that
// succeeds (TestStartError).
func TestCreateFails(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"-d", []string{"create", "-d", env.rootfs, "true"}, "unknown shorthand flag: 'd'"},
		{"bad --restart", []string{"create", "--restart", "sometimes", env.rootfs, "true"}, "invalid restart policy: unknown policy 'sometimes'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mdi(t, root, c.args...)
			r.wantExit(t, 125)
			r.wantStderr(t, c.want)
			if n := len(mdi(t, root, "ps", "-a", "-q").lines()); n != 0 {
				t.Errorf("ps -a lists %d containers", n)
			}
		})
	}
	created(t, root, "--name", "nocmd", env.rootfs, "nosuchcmd")
	r := mdi(t, root, "start", "nocmd")
	r.wantExit(t, 1)
	r.wantStderr(t, "executable file not found")
	if got := psStatus(t, root, "nocmd"); got != "nocmd Created" {
		t.Errorf("ps -a after a failed start: %q, want nocmd Created", got)
	}
	c := inspectContainer(t, root, "nocmd")
	if !strings.Contains(c.State.Error, "executable file not found") || c.State.ExitCode != 127 || c.State.Status != store.Created {
		t.Errorf("inspect after a failed start: State %+v, want Docker's: Error the start's, ExitCode 127, still created", c.State)
	}
	r = mdi(t, root, "start", "nosuch")
	r.wantExit(t, 1)
	r.wantStderr(t, "No such container: nosuch")
}

// TestStartError: a failed start's error stays in the container's
// State.Error (and ExitCode: 127 for a command not found) until a start
// succeeds; here the command is copied into the stopped container.
func TestStartError(t *testing.T) {
	root := t.TempDir()
	mdi(t, root, "import", rootfsTarball(t, t.TempDir()), "test/bb").wantExit(t, 0)
	created(t, root, "--name", "later", "test/bb", "/run.sh")
	mdi(t, root, "start", "later").wantExit(t, 1)
	if c := inspectContainer(t, root, "later"); !strings.Contains(c.State.Error, "executable file not found") || c.State.ExitCode != 127 {
		t.Fatalf("inspect after a failed start: State %+v, want its error and 127", c.State)
	}
	script := filepath.Join(t.TempDir(), "run.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	mdi(t, root, "cp", script, "later:/run.sh").wantExit(t, 0)
	mdi(t, root, "start", "later").wantExit(t, 0)
	if c := inspectContainer(t, root, "later"); c.State.Error != "" || c.State.ExitCode != 0 || !c.State.Running {
		t.Errorf("inspect after a start that succeeded: State %+v, want running, no Error, ExitCode 0", c.State)
	}
	mdi(t, root, "stop", "-t", "1", "later").wantExit(t, 0)
}
