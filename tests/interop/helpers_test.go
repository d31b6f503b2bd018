package interop

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
	"github.com/minimal-docker/minimal-docker/tests/internal/dockerlike"
)

// ---- running commands (tests/internal/dockerlike) ----

// cmdResult is what a finished command left.
type cmdResult = dockerlike.Result

func labelFor(prog string, args []string) string { return dockerlike.LabelFor(prog, args) }

func nonEmptyLines(s string) []string { return dockerlike.NonEmptyLines(s) }

// runCmd runs argv to completion, with the environment cmdEnv and stdin
// from /dev/null, bounded by env.timeout.
func runCmd(cmdEnv []string, argv ...string) cmdResult {
	return runLabeled(labelFor(argv[0], argv[1:]), cmdEnv, argv...)
}

// runLabeled is runCmd with the label for messages given.
func runLabeled(label string, cmdEnv []string, argv ...string) cmdResult {
	return runner(cmdEnv).Run(label, argv...)
}

// runner runs commands as root with the environment cmdEnv.
func runner(cmdEnv []string) dockerlike.Runner {
	return dockerlike.Runner{Env: cmdEnv, Timeout: env.timeout}
}

// engineEnvVars are variables that would point an engine's client
// somewhere else than the test says.
var engineEnvVars = []string{
	"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH",
	"CONTAINERD_ADDRESS", "CONTAINERD_NAMESPACE", "CONTAINERD_SNAPSHOTTER",
	"CONTAINER_HOST", "CONTAINER_CONNECTION", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF",
	"CONTAINERS_REGISTRIES_CONF", "REGISTRY_AUTH_FILE", "TMPDIR", "NOTIFY_SOCKET",
}

// cleanEnv is this process's environment without engineEnvVars, plus extra
// ("KEY=VALUE").
func cleanEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, v := range engineEnvVars {
			if k == v {
				drop = true
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// ---- engine daemons ----

// daemon is an engine process (containerd, dockerd) started by a test.
type daemon struct {
	*testenv.Background
	name    string
	logPath string
}

// startDaemon starts argv with its output appended to logPath.
func startDaemon(name, logPath string, cmdEnv []string, argv ...string) (*daemon, error) {
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = cmdEnv
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group (a ^C to go test reaches us, and we stop it in
	// order); SIGTERM if the test binary dies without its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	bg, err := testenv.StartBackground(cmd)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &daemon{Background: bg, name: name, logPath: logPath}, nil
}

// waitReady polls ready (bounded by env.timeout) until it succeeds; it
// fails early if the daemon exits.
func (d *daemon) waitReady(ready func() cmdResult) error {
	deadline := time.Now().Add(env.timeout)
	for {
		r := ready()
		if r.Code == 0 {
			return nil
		}
		if d.Exited() {
			return fmt.Errorf("%s exited (%v) before it answered; its log ends:\n%s", d.name, d.Cmd.ProcessState, d.logTail(30))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %v: %s\nits log ends:\n%s", d.name, env.timeout, r.Why(), d.logTail(30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the daemon by its PID: SIGTERM, then SIGKILL if it has not
// exited within grace. It reports whether it had to kill it.
func (d *daemon) stop(grace time.Duration) error {
	if d.Exited() {
		return nil
	}
	d.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.Done:
		return nil
	case <-time.After(grace):
	}
	d.Cmd.Process.Kill()
	select {
	case <-d.Done:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGTERM and SIGKILL", d.name, d.Pid())
	}
	return fmt.Errorf("%s (pid %d) did not exit within %v of SIGTERM: killed", d.name, d.Pid(), grace)
}

// logTail is the last n lines of the daemon's log.
func (d *daemon) logTail(n int) string {
	lines := readLines(d.logPath)
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return testenv.Indent(strings.Join(lines, "\n"))
}

// logGrep is the lines of the daemon's log at one of levels ("error",
// "warning") that contain every one of subs, at most max of them (the
// last).
func (d *daemon) logGrep(max int, levels []string, subs ...string) string {
	var hits []string
	for _, l := range readLines(d.logPath) {
		leveled := false
		for _, lv := range levels {
			leveled = leveled || strings.Contains(l, "level="+lv)
		}
		if !leveled {
			continue
		}
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			hits = append(hits, l)
		}
	}
	if len(hits) > max {
		hits = hits[len(hits)-max:]
	}
	return strings.Join(hits, "\n")
}

func readLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return []string{err.Error()}
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// ---- checks and the results table (tests/internal/dockerlike) ----

// suite runs the checks of one engine with one runtime, in order
// (dockerlike.Suite), with the runtime's details.
type suite struct {
	*dockerlike.Suite
	rt runtimeUnderTest
}

func newSuite(t *testing.T, engine string, rt runtimeUnderTest) *suite {
	t.Logf("engine %s, runtime %s (%s), cgroup mode %v", engine, rt.name, rt.path, env.hier.Mode)
	return &suite{Suite: dockerlike.NewSuite(t, engine, rt.name, runner(nil)), rt: rt}
}

// check is dockerlike.Suite.Check.
func (s *suite) check(name string, needs []string, fn func(t *testing.T) error) bool {
	return s.Check(name, needs, fn)
}

// run runs a command for a check with the environment cmdEnv
// (dockerlike.Suite.RunWith).
func (s *suite) run(label string, cmdEnv []string, argv ...string) cmdResult {
	s.T.Helper()
	return s.RunWith(runner(cmdEnv), label, argv...)
}

// poll calls f (bounded by env.timeout) until it returns nil; it returns
// f's last error.
func poll(f func() error) error { return dockerlike.Poll(env.timeout, f) }

// pollFor is poll bounded by d.
func pollFor(d time.Duration, f func() error) error { return dockerlike.Poll(d, f) }

// printResults writes the table of every check, in the order they ran.
func printResults(w io.Writer, total time.Duration) {
	var names []string
	for _, rt := range env.runtimes {
		names = append(names, rt.name)
	}
	dockerlike.PrintResults(w, "tests/interop", total, names)
}

// errList collects the problems a check found, to report them all at once.
type errList = dockerlike.ErrList

// teardownOnce wraps an engine's teardown so that its no-leftovers check
// and the test's cleanup share it: it runs once, whichever comes first.
func teardownOnce(t *testing.T, f func(*testing.T) error) func(*testing.T) error {
	var torn bool
	teardown := func(t *testing.T) error {
		if torn {
			return nil
		}
		torn = true
		return f(t)
	}
	t.Cleanup(func() {
		if err := teardown(t); err != nil {
			t.Error(err)
		}
	})
	return teardown
}
