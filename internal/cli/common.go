// Package cli holds what both front doors share: among it, the one
// mapping from a command's error to the process's exit status. The verbs
// live in cli/docker and cli/runc.
package cli

import (
	"errors"
	"fmt"

	"github.com/minimal-docker/minimal-docker/internal/exitcode"
)

// Version is the release, set at build time with -ldflags -X.
var Version = "0.1.0-dev"

// Status is the exit status of a container's process, for a command that
// ran one (run, exec), with the error that came with it, if any: the
// kernel OOM-killed the process, or something failed once it had ended.
type Status struct {
	Code int
	Err  error // nil: the status alone, without a message
}

func (s *Status) Error() string {
	if s.Err != nil {
		return s.Err.Error()
	}
	return fmt.Sprintf("exit status %d", s.Code)
}

func (s *Status) Unwrap() error { return s.Err }

// Exited is what a command that ran a container's process returns, from
// the process's exit status (0 when it never ran) and the error that came
// with it: nil for a clean exit 0; err alone when the status is 0 (then
// err decides the exit status); else a *Status.
func Exited(code int, err error) error {
	switch {
	case code == 0:
		return err
	case err == nil:
		return &Status{Code: code}
	}
	return &Status{Code: code, Err: err}
}

// ExitCode returns the process exit status for err, and whether a message
// should be printed: a *Status's code (printed when it has an error), else
// the runtime's status for err (exitcode.Of: 125, or 126 and 127 for a
// command that can't be executed or is not found).
func ExitCode(err error) (code int, print bool) {
	if err == nil {
		return 0, false
	}
	var st *Status
	if errors.As(err, &st) {
		return st.Code, st.Err != nil
	}
	return exitcode.Of(err), true
}
