package dockerlike

import (
	"fmt"
	"testing"
)

// Engine is an engine with Docker's command line (dockerd through docker,
// Podman, root or rootless): the checks whose commands and expectations
// are the same for all of them are written once, here.
type Engine interface {
	// CLI runs the engine's command line with args.
	CLI(args ...string) Result
	// RunArgs is `run` with the engine's fixed flags, then args (flags up
	// to the first argument without a leading dash, then the command).
	RunArgs(args ...string) []string
	// WithLog adds the engine's log, when it has one, to err.
	WithLog(err error) error
	// WantStatus waits until the container name has status.
	WantStatus(name, status string) error
	// ID is the full ID of the container name.
	ID(name string) string
	// RuntimeState is where the runtime keeps a container's state, and
	// whether it is there.
	RuntimeState(id string) (path string, there bool)
	// CgroupGone says why the container id's cgroup is still there (nil:
	// gone, or the engine makes none).
	CgroupGone(id string) error
}

// RunEchoChecks: `run --rm echo hello`, with the engine's defaults and
// with seccomp=unconfined (not in the list: it tells the seccomp
// gap from the others).
func RunEchoChecks(s *Suite, e Engine) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"run-echo", nil},
		{"run-echo-seccomp-unconfined", []string{"--security-opt", "seccomp=unconfined"}},
	} {
		s.Check(tc.name, []string{"load"}, func(*testing.T) error {
			r := e.CLI(e.RunArgs(append(append([]string{"--rm"}, tc.flags...), "echo", "hello")...)...)
			if r.Code != 0 {
				return e.WithLog(r.Failure())
			}
			if r.Out() != "hello" {
				return fmt.Errorf("%s run echo hello printed %q, want hello\n%s", s.Engine, r.Stdout, r)
			}
			return nil
		})
	}
}

// DetachedChecks: exec, pause and unpause, kill and wait, rm on the
// container "detached" (check run-detached made it), and what rm must
// leave behind: nothing. skipPause, when not "", is why pause-unpause
// can't hold here (it skips, saying so).
func DetachedChecks(s *Suite, e Engine, skipPause string) {
	s.Check("exec", []string{"run-detached"}, func(*testing.T) error {
		r := e.CLI("exec", "detached", "echo", "hi")
		if r.Code != 0 {
			return e.WithLog(r.Failure())
		}
		if r.Out() != "hi" {
			return fmt.Errorf("%s exec echo hi printed %q, want hi\n%s", s.Engine, r.Stdout, r)
		}
		return nil
	})
	s.Check("pause-unpause", []string{"run-detached"}, func(t *testing.T) error {
		if skipPause != "" {
			t.Skip(skipPause)
		}
		if r := e.CLI("pause", "detached"); r.Code != 0 {
			return e.WithLog(r.Failure())
		}
		if err := e.WantStatus("detached", "paused"); err != nil {
			return err
		}
		if r := e.CLI("unpause", "detached"); r.Code != 0 {
			return e.WithLog(r.Failure())
		}
		return e.WantStatus("detached", "running")
	})
	s.Check("kill-wait", []string{"run-detached"}, func(*testing.T) error {
		if r := e.CLI("kill", "detached"); r.Code != 0 {
			return e.WithLog(r.Failure())
		}
		r := e.CLI("wait", "detached")
		if r.Code != 0 {
			return r.Failure()
		}
		if r.Out() != "137" {
			return fmt.Errorf("%s wait after kill printed %q, want 137\n%s", s.Engine, r.Out(), r)
		}
		return nil
	})
	s.Check("rm", []string{"kill-wait"}, func(*testing.T) error {
		if r := e.CLI("rm", "detached"); r.Code != 0 {
			return e.WithLog(r.Failure())
		}
		var errs ErrList
		if r := e.CLI("ps", "-a", "-q"); r.Code != 0 || r.Out() != "" {
			errs.Add("%s ps -a after rm: %s", s.Engine, r)
		}
		id := e.ID("detached")
		if path, there := e.RuntimeState(id); there {
			errs.Add("runtime state %s left after %s rm", path, s.Engine)
		}
		if err := e.CgroupGone(id); err != nil {
			errs.Add("%v", err)
		}
		return errs.Err()
	})
}

// Podman is Podman, root or rootless, with a runtime of its --runtime.
type Podman interface {
	Engine
	// Load puts the busybox image that RunArgs runs into its store.
	Load(t *testing.T) error
	// RuntimePath is its --runtime, as inspect shows it.
	RuntimePath() string
	// SetID records the full ID of the container name.
	SetID(name, id string)
}

// PodmanChecks are the checks of Podman with a runtime, after "configure"
// (which the caller runs: it differs root and rootless) and before
// CheckNoLeftovers: load, run echo (RunEchoChecks), the exit status,
// inspect naming the runtime, run -d and DetachedChecks. skipPause: see
// DetachedChecks.
func PodmanChecks(s *Suite, p Podman, skipPause string) {
	s.Check("load", []string{"configure"}, p.Load)
	RunEchoChecks(s, p)
	s.Check("exit-status", []string{"load"}, func(t *testing.T) error {
		r := p.CLI(p.RunArgs("--name", "exit3", "sh", "-c", "exit 3")...)
		if r.Code != 3 {
			return fmt.Errorf("exit status %d, want 3: %s\n%s", r.Code, r.Why(), r)
		}
		return nil
	})
	// Podman keeps the container of a failed run too: inspect it either way.
	s.Check("inspect-runtime", []string{"load"}, func(t *testing.T) error {
		r := p.CLI("inspect", "--format", "{{.OCIRuntime}}", "exit3")
		if r.Code != 0 {
			return r.Failure()
		}
		if r.Out() != p.RuntimePath() {
			return fmt.Errorf("podman inspect shows OCIRuntime %q, want %q\n%s", r.Out(), p.RuntimePath(), r)
		}
		if r := p.CLI("rm", "exit3"); r.Code != 0 {
			return r.Failure()
		}
		return nil
	})
	s.Check("run-detached", []string{"load"}, func(t *testing.T) error {
		r := p.CLI(p.RunArgs("-d", "--name", "detached", "sleep", "1000")...)
		if r.Code != 0 {
			return r.Failure()
		}
		p.SetID("detached", r.Out())
		return p.WantStatus("detached", "running")
	})
	DetachedChecks(s, p, skipPause)
}
