// Package hooks runs the hooks of a container's config (the runtime spec's
// config.md, "POSIX-platform Hooks"). A hook is a program: path, args and
// env as given (a hook without env inherits the runtime's environment, as
// with runc), the container's state (specs.State, as `minimal-runc state`
// prints it) as JSON on its stdin, and an optional timeout in seconds after
// which it is killed with its process group. Its stdout and stderr are kept
// (the first 4 KiB) for the error message.
//
// Where and when each kind runs is the callers' business, in the order of
// Kinds:
//
//	prestart, createRuntime  the runtime (package container), in the
//	                         runtime's namespaces, while the init waits
//	                         after its mounts, before pivot_root
//	createContainer          the init (package initproc), in the container's
//	                         namespaces, after the mounts, before pivot_root
//	startContainer           the init, inside the container (after
//	                         pivot_root), after start, before the exec
//	poststart                the runtime, after the user's process started
//	poststop                 the runtime, after the container is destroyed
//
// A failure of the first four fails the create or start (Run stops at the
// first failed hook); a failure of poststart or poststop is a warning, and
// the hooks after it still run (RunAll).
//
// This package is a leaf so that both the runtime (container) and the
// init (initproc) can run hooks.
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Kind names a list of hooks in config.json.
type Kind string

// The kinds of hooks, as config.json names them.
const (
	// Prestart is deprecated in the spec; it runs where createRuntime
	// runs, just before it (as runc does).
	Prestart        Kind = "prestart"
	CreateRuntime   Kind = "createRuntime"
	CreateContainer Kind = "createContainer"
	StartContainer  Kind = "startContainer"
	Poststart       Kind = "poststart"
	Poststop        Kind = "poststop"
)

// Kinds lists every kind in lifecycle order (features lists them).
var Kinds = []Kind{Prestart, CreateRuntime, CreateContainer, StartContainer, Poststart, Poststop}

// Of returns the hooks of kind k in h; none for a nil h.
func Of(h *specs.Hooks, k Kind) []specs.Hook {
	if h == nil {
		return nil
	}
	switch k {
	case Prestart:
		return h.Prestart // deprecated by the spec, still honoured
	case CreateRuntime:
		return h.CreateRuntime
	case CreateContainer:
		return h.CreateContainer
	case StartContainer:
		return h.StartContainer
	case Poststart:
		return h.Poststart
	case Poststop:
		return h.Poststop
	}
	return nil
}

// Has reports whether h holds a hook of any of the kinds.
func Has(h *specs.Hooks, kinds ...Kind) bool {
	for _, k := range kinds {
		if len(Of(h, k)) > 0 {
			return true
		}
	}
	return false
}

// Validate checks every hook before anything is created: the path is
// absolute (the spec requires it; nothing is looked up in a PATH) and a
// timeout, when set, is greater than zero.
func Validate(h *specs.Hooks) error {
	for _, k := range Kinds {
		for i, hk := range Of(h, k) {
			if err := check(hk); err != nil {
				return fmt.Errorf("hooks.%s[%d]: %w", k, i, err)
			}
		}
	}
	return nil
}

func check(h specs.Hook) error {
	if !filepath.IsAbs(h.Path) {
		return fmt.Errorf("path %q is not absolute", h.Path)
	}
	if h.Timeout != nil && *h.Timeout <= 0 {
		return fmt.Errorf("timeout %d: want a number of seconds greater than zero", *h.Timeout)
	}
	return nil
}

// Error is a failed hook: which one, why, and what it wrote.
type Error struct {
	Kind  Kind
	Index int // in its list
	Path  string
	Err   error
	// Output is the start of what the hook wrote to stdout and stderr.
	Output string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s hook #%d (%s): %v", e.Kind, e.Index, e.Path, e.Err)
	if out := strings.TrimSpace(e.Output); out != "" {
		msg += ": " + out
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ErrTimeout is wrapped by the Error of a hook killed at its timeout.
var ErrTimeout = errors.New("timed out")

// Run runs the hooks of kind k in h in order, each with st on its stdin,
// and stops at the first that fails, returning its *Error.
func Run(h *specs.Hooks, k Kind, st *specs.State) error {
	return run(h, k, st, true)
}

// RunAll runs every hook of kind k in h, also those after a failed one,
// and returns the failures joined (nil if none): for poststart and
// poststop, whose failures are warnings.
func RunAll(h *specs.Hooks, k Kind, st *specs.State) error {
	return run(h, k, st, false)
}

// run runs the hooks of kind k in h in order, each with st on its stdin:
// with stopAtFirst it returns the first failure, otherwise it runs them
// all and returns the failures joined.
func run(h *specs.Hooks, k Kind, st *specs.State, stopAtFirst bool) error {
	list := Of(h, k)
	if len(list) == 0 {
		return nil
	}
	state, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("%s hooks: state: %w", k, err)
	}
	var errs []error
	for i, hk := range list {
		if err := runOne(k, i, hk, state); err != nil {
			if stopAtFirst {
				return err
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// maxOutput bounds what is kept of a hook's output.
const maxOutput = 4096

// waitDelay bounds the wait for a hook's output once it has exited (a
// process it left behind may hold the pipe).
const waitDelay = time.Second

// runOne runs one hook in a process group of its own; at the timeout the
// whole group is killed.
func runOne(k Kind, i int, h specs.Hook, state []byte) error {
	fail := func(err error, out string) error {
		return &Error{Kind: k, Index: i, Path: h.Path, Err: err, Output: out}
	}
	if err := check(h); err != nil {
		return fail(err, "")
	}
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	out := &capped{max: maxOutput}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	}
	// A hook with env gets exactly that; one without inherits the
	// runtime's environment, as runc's hooks do (engines' hooks, such as
	// Docker's libnetwork-setkey, are written for that).
	if len(h.Env) > 0 {
		cmd.Env = append([]string{}, h.Env...)
	}
	cmd.Stdin = bytes.NewReader(state)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fail(fmt.Errorf("%w after %ds: killed", ErrTimeout, *h.Timeout), out.String())
	}
	if err != nil {
		return fail(err, out.String())
	}
	return nil
}

// capped keeps the first max bytes written to it and drops the rest.
type capped struct {
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *capped) String() string { return c.buf.String() }
