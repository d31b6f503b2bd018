// Package exitcode is the one mapping from an error to the exit status a
// binary of the runtime ends with, used at the edge of each: in Execute of
// minimal-docker and minimal-runc (package cli), and in the Main of the
// container's init and of a process exec'd into a container, whose
// failed setup the runtime reports (package handshake).
//
// The statuses are Docker's: 125 when the runtime itself failed, 126 when
// the container's command cannot be executed, 127 when it is not found.
// Errors carry no status inside: a command that is not found or not
// executable is an error wrapping rootfs.ErrNotFound or
// rootfs.ErrNotExecutable (the child's *handshake.Error unwraps to them),
// and every other error is the runtime's failure. minimal-runc ends with 1
// instead of 125, as runc does.
package exitcode

import (
	"errors"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// The exit statuses of a failed run (Docker's).
const (
	// Runtime: the runtime failed (also a bad flag or config).
	Runtime = 125
	// NotExecutable: the container's command cannot be executed.
	NotExecutable = 126
	// NotFound: the container's command is not found.
	NotFound = 127
)

// Of returns the exit status for err: 0 for nil, NotFound or NotExecutable
// for an error wrapping rootfs.ErrNotFound or rootfs.ErrNotExecutable,
// Runtime for any other.
func Of(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, rootfs.ErrNotFound):
		return NotFound
	case errors.Is(err, rootfs.ErrNotExecutable):
		return NotExecutable
	}
	return Runtime
}

// OfWait is the shell's view of a wait status: the exit status, or 128+N
// when the process was killed by signal N.
func OfWait(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
