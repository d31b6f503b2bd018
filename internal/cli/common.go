// Package cli holds what both front doors share: the hidden init command
// and the exit-status error. The verbs live in cli/docker and cli/runc.
package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/initproc"
)

// Version is the release, set at build time with -ldflags -X.
var Version = "0.1.0-dev"

// StatusOnly is an exit status to return without a message (the
// container's own exit status).
type StatusOnly struct{ Code int }

func (s *StatusOnly) Error() string { return fmt.Sprintf("exit status %d", s.Code) }

// ExitCode returns the process exit status for err, and whether a message
// should be printed.
func ExitCode(err error) (code int, print bool) {
	if err == nil {
		return 0, false
	}
	var so *StatusOnly
	if errors.As(err, &so) {
		return so.Code, false
	}
	var ee *container.ExitError
	if errors.As(err, &ee) {
		return ee.Code, true
	}
	return container.ExitRuntime, true
}

// Runtime wraps err as a runtime failure (exit status 125).
func Runtime(err error) error {
	if err == nil {
		return nil
	}
	return &container.ExitError{Code: container.ExitRuntime, Err: err}
}

// InitCommand is the hidden command the launcher re-executes as the
// container's init; it is not for people.
func InitCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "init",
		Short:              "container init (internal; started by the runtime)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(*cobra.Command, []string) error {
			if code := initproc.Main(); code != 0 {
				return &StatusOnly{Code: code}
			}
			return nil
		},
	}
}
