package initproc

import (
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/hooks"
)

// The init's part of the hooks (package hooks). After the mounts, before
// pivot_root, it stops while the runtime runs the prestart and
// createRuntime hooks in the runtime's namespaces (runtime-hooks), then
// runs the createContainer hooks itself, in the container's namespaces
// while the host's root is still its root (their paths resolve in the
// runtime's filesystem, as the spec asks). After start, before giving up
// root's powers and exec, it runs the startContainer hooks inside the
// container (after pivot_root: their paths resolve in the container).

func hasRuntimeHooks(s *state) bool {
	return hooks.Has(s.spec.Hooks, hooks.Prestart, hooks.CreateRuntime)
}

func hasCreateContainerHooks(s *state) bool {
	return hooks.Has(s.spec.Hooks, hooks.CreateContainer)
}

// runtimeHooks tells the parent to run its hooks now and waits until it
// has (if one fails the parent kills this process).
func runtimeHooks(s *state) error {
	if err := s.conn.SendHooks(); err != nil {
		return err
	}
	return s.conn.WaitResume()
}

func createContainerHooks(s *state) error {
	return hooks.Run(s.spec.Hooks, hooks.CreateContainer, s.hookState(specs.StateCreating))
}

// startContainerHooks runs the startContainer hooks; a failure is the
// typed error of the step "startContainer-hooks".
func startContainerHooks(s *state) error {
	if !hooks.Has(s.spec.Hooks, hooks.StartContainer) {
		return nil
	}
	if err := hooks.Run(s.spec.Hooks, hooks.StartContainer, s.hookState(specs.StateCreated)); err != nil {
		return handshake.StepError("startContainer-hooks", err)
	}
	return nil
}

// hookState is the container's state for a hook the init runs: the
// parent's, with the init's pid as seen here (1 in a new pid namespace, as
// runc gives it) and the status.
func (s *state) hookState(status specs.ContainerState) *specs.State {
	st := specs.State{Version: specs.Version}
	if s.cfg.State != nil {
		st = *s.cfg.State
	}
	st.Pid = os.Getpid()
	st.Status = status
	return &st
}

// startMsg is what the init writes to the exec fifo once `start` opened
// it: "0" when it goes on to exec, or "1" and the error when a
// startContainer hook failed (start reports it). One write of at most
// PIPE_BUF bytes, so that start reads it whole.
//
// After the "0" the init holds its end open (state.started): it is
// close-on-exec, so start, which reads to the end, sees the end only once
// the user's program has been exec'd (or the init died), and runs the
// poststart hooks after that, as the spec orders. The tiny init closes it
// once its child has exec'd. Should the init fail in between, it writes
// the error after the "0" before it exits (startFailed).
func startMsg(err error) []byte {
	if err == nil {
		return []byte{'0'}
	}
	msg := append([]byte{'1'}, err.Error()...)
	return msg[:min(len(msg), pipeBuf)]
}

const pipeBuf = 4096

// startFailed tells start why the init failed after its "0" (startMsg),
// when err is not nil; either way it closes the fifo's end.
func startFailed(s *state, err error) {
	if s.started == nil {
		return
	}
	if err != nil {
		msg := []byte(err.Error())
		_, _ = s.started.Write(msg[:min(len(msg), pipeBuf-1)])
	}
	s.started.Close()
	s.started = nil
}
