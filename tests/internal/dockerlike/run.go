// Package dockerlike holds what the suites that drive an engine with
// Docker's command line share (tests/interop as root, tests/rootless as
// the CI user): the commands' results (Result, Run), the checks of one
// engine with one runtime, in order, each a subtest that fails as "not
// reached" when one it needs failed (Suite), the table of every check
// (PrintResults), and the checks themselves, written once for Docker and
// Podman, root and rootless (Engine, RunEchoChecks, DetachedChecks,
// PodmanChecks).
package dockerlike

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// Result is what a finished command left.
type Result struct {
	Label    string // what the command is, for messages: "ctr run", "podman exec"
	Argv     []string
	Stdout   string
	Stderr   string
	Code     int    // exit status; -1 if it did not start or died of a signal
	State    string // how it ended ("exit status 1", "signal: killed")
	TimedOut bool
	StartErr error
	Timeout  time.Duration // the bound it ran with
}

func (r Result) String() string {
	s := fmt.Sprintf("$ %s\nexit code: %d (%s)\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.Argv, " "), r.Code, r.State, testenv.Indent(r.Stdout), testenv.Indent(r.Stderr))
	if r.StartErr != nil {
		s += "\nerror: " + r.StartErr.Error()
	}
	if r.TimedOut {
		s += fmt.Sprintf("\nkilled after %v", r.Timeout)
	}
	return s
}

// Out is stdout without surrounding white space.
func (r Result) Out() string { return strings.TrimSpace(r.Stdout) }

// whyMarkers mark the line in which an engine's client reports a failure
// (with the runtime's message in it).
var whyMarkers = []string{"OCI runtime", "Error response from daemon", "Error: ", "ctr: "}

// Why is the line that tells best why the command failed: the last line of
// its error output with one of whyMarkers, else the last that speaks of an
// error, else its last line.
func (r Result) Why() string {
	switch {
	case r.StartErr != nil:
		return r.StartErr.Error()
	case r.TimedOut:
		return fmt.Sprintf("no answer after %v (killed)", r.Timeout)
	}
	lines := NonEmptyLines(r.Stderr)
	for i := len(lines) - 1; i >= 0; i-- {
		for _, m := range whyMarkers {
			if strings.Contains(lines[i], m) {
				return lines[i]
			}
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(strings.ToLower(lines[i]), "error") || strings.Contains(lines[i], "failed") {
			return lines[i]
		}
	}
	if len(lines) > 0 {
		return lines[len(lines)-1]
	}
	if out := NonEmptyLines(r.Stdout); len(out) > 0 {
		return out[len(out)-1]
	}
	return "(no output)"
}

// Failure is the error for a command that did not do what it should: what
// it is and its exit status, the reason in one line, then everything it
// said.
func (r Result) Failure() error {
	return fmt.Errorf("%s: exit %d: %s\n%s", r.Label, r.Code, r.Why(), r)
}

// LabelFor names a command by its program's base name and the first words
// of args (the subcommand): "ctr task exec", "podman run".
func LabelFor(prog string, args []string) string {
	words := []string{filepath.Base(prog)}
	for _, a := range args {
		if len(words) == 3 || strings.HasPrefix(a, "-") || strings.Contains(a, "/") {
			break
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// NonEmptyLines is the lines of s, trimmed, without the empty ones.
func NonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Runner runs commands: with the environment Env, as the user Attr says
// (nil: as this process), stdin from /dev/null, each bounded by Timeout.
type Runner struct {
	Env     []string
	Attr    *syscall.SysProcAttr
	Timeout time.Duration
}

// Run runs argv to completion; label names it in messages. The command
// is killed (by its PID) when it has not exited within Timeout.
func (c Runner) Run(label string, argv ...string) Result {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = c.Env
	cmd.SysProcAttr = c.Attr
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A process the command leaves behind may hold the pipes open: stop
	// waiting for them this long after the command itself exited.
	cmd.WaitDelay = 5 * time.Second
	r := Result{Label: label, Argv: argv, Code: -1, Timeout: c.Timeout}
	if err := cmd.Start(); err != nil {
		r.StartErr = err
		return r
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(c.Timeout):
		r.TimedOut = true
		_ = cmd.Process.Kill()
		<-done
	}
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	r.Code = cmd.ProcessState.ExitCode()
	r.State = cmd.ProcessState.String()
	return r
}

// Poll calls f (bounded by d) until it returns nil; it returns f's last
// error.
func Poll(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// RunArgv is a run command line: prefix (`run` and the engine's own
// flags), then the check's flags from args (those before its first
// argument without a leading dash; --name and --security-opt take the
// next one as their value), image, and the rest of args (the command).
// Each engine's RunArgs is RunArgv with its prefix and image.
func RunArgv(prefix []string, image string, args []string) []string {
	argv := append([]string(nil), prefix...)
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		argv = append(argv, args[i])
		if (args[i] == "--name" || args[i] == "--security-opt") && i+1 < len(args) {
			i++
			argv = append(argv, args[i])
		}
		i++
	}
	argv = append(argv, image)
	return append(argv, args[i:]...)
}
