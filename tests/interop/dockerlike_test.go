package interop

import (
	"fmt"
	"testing"
)

// dockerLike is an engine with Docker's command line (dockerd through
// docker, Podman): the checks whose commands and expectations are the same
// for both are written once, here.
type dockerLike interface {
	// cli runs the engine's command line with args.
	cli(args ...string) cmdResult
	// runArgs is `run` with the engine's fixed flags, then args.
	runArgs(args ...string) []string
	// withLog adds the engine's log, when it has one, to err.
	withLog(err error) error
	// wantStatus waits until the container name has status.
	wantStatus(name, status string) error
	// id is the full ID of the container name.
	id(name string) string
	// runtimeState is where the runtime keeps a container's state, and
	// whether it is there.
	runtimeState(id string) (path string, there bool)
	// containerCgroup is a container's cgroup path.
	containerCgroup(id string) string
}

// runEchoChecks: `run --rm echo hello`, with the engine's defaults and
// with seccomp=unconfined (not in the list: it tells the seccomp
// gap from the others).
func runEchoChecks(s *suite, e dockerLike) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"run-echo", nil},
		{"run-echo-seccomp-unconfined", []string{"--security-opt", "seccomp=unconfined"}},
	} {
		s.check(tc.name, []string{"load"}, func(*testing.T) error {
			r := e.cli(e.runArgs(append(append([]string{"--rm"}, tc.flags...), "echo", "hello")...)...)
			if r.code != 0 {
				return e.withLog(r.failure())
			}
			if r.out() != "hello" {
				return fmt.Errorf("%s run echo hello printed %q, want hello\n%s", s.engine, r.stdout, r)
			}
			return nil
		})
	}
}

// detachedChecks: exec, pause and unpause, kill and wait, rm on the
// container "detached" (check run-detached made it), and what rm must
// leave behind: nothing.
func detachedChecks(s *suite, e dockerLike) {
	s.check("exec", []string{"run-detached"}, func(*testing.T) error {
		r := e.cli("exec", "detached", "echo", "hi")
		if r.code != 0 {
			return e.withLog(r.failure())
		}
		if r.out() != "hi" {
			return fmt.Errorf("%s exec echo hi printed %q, want hi\n%s", s.engine, r.stdout, r)
		}
		return nil
	})
	s.check("pause-unpause", []string{"run-detached"}, func(*testing.T) error {
		if r := e.cli("pause", "detached"); r.code != 0 {
			return e.withLog(r.failure())
		}
		if err := e.wantStatus("detached", "paused"); err != nil {
			return err
		}
		if r := e.cli("unpause", "detached"); r.code != 0 {
			return e.withLog(r.failure())
		}
		return e.wantStatus("detached", "running")
	})
	s.check("kill-wait", []string{"run-detached"}, func(*testing.T) error {
		if r := e.cli("kill", "detached"); r.code != 0 {
			return e.withLog(r.failure())
		}
		r := e.cli("wait", "detached")
		if r.code != 0 {
			return r.failure()
		}
		if r.out() != "137" {
			return fmt.Errorf("%s wait after kill printed %q, want 137\n%s", s.engine, r.out(), r)
		}
		return nil
	})
	s.check("rm", []string{"kill-wait"}, func(*testing.T) error {
		if r := e.cli("rm", "detached"); r.code != 0 {
			return e.withLog(r.failure())
		}
		var errs errList
		if r := e.cli("ps", "-a", "-q"); r.code != 0 || r.out() != "" {
			errs.add("%s ps -a after rm: %s", s.engine, r)
		}
		id := e.id("detached")
		if path, there := e.runtimeState(id); there {
			errs.add("runtime state %s left after %s rm", path, s.engine)
		}
		if err := cgroupGone(e.containerCgroup(id)); err != nil {
			errs.add("%v", err)
		}
		return errs.err()
	})
}
