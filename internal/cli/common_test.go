package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// TestExitCode: the one mapping from a command's error to the exit status:
// the container's own status, or Docker's statuses of a failed run.
func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		code  int
		print bool
	}{
		{"success", nil, 0, false},
		{"the container's status", Exited(3, nil), 3, false},
		{"an OOM kill", Exited(137, errors.New("container was killed: out of memory")), 137, true},
		{"exit 0, then a failure", Exited(0, errors.New("remove cgroup: busy")), 125, true},
		{"the runtime failed", errors.New("invalid --memory"), 125, true},
		{"not found", fmt.Errorf("%w (in rootfs /r)", fmt.Errorf("%w in $PATH: %q", rootfs.ErrNotFound, "x")), 127, true},
		{"not executable, from the child", fmt.Errorf("exec c1: %w", &handshake.Error{Step: "exec", Msg: "exec /x: permission denied", Cause: handshake.CauseNotExecutable}), 126, true},
		{"the child's other failure", &handshake.Error{Step: "mounts", Msg: "no"}, 125, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, print := ExitCode(tc.err)
			if code != tc.code || print != tc.print {
				t.Errorf("ExitCode(%v) = %d, %v; want %d, %v", tc.err, code, print, tc.code, tc.print)
			}
		})
	}
}
