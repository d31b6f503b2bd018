package interop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// ---- running commands ----

// cmdResult is what a finished command left.
type cmdResult struct {
	label    string // what the command is, for messages: "ctr run", "podman exec"
	argv     []string
	stdout   string
	stderr   string
	code     int // exit status; -1 if it did not start or died of a signal
	timedOut bool
	startErr error
}

func (r cmdResult) String() string {
	s := fmt.Sprintf("$ %s\nexit code: %d\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.argv, " "), r.code, testenv.Indent(r.stdout), testenv.Indent(r.stderr))
	if r.startErr != nil {
		s += "\nerror: " + r.startErr.Error()
	}
	if r.timedOut {
		s += fmt.Sprintf("\nkilled after %v", env.timeout)
	}
	return s
}

// out is stdout without surrounding white space.
func (r cmdResult) out() string { return strings.TrimSpace(r.stdout) }

// whyMarkers mark the line in which an engine's client reports a failure
// (with the runtime's message in it).
var whyMarkers = []string{"OCI runtime", "Error response from daemon", "Error: ", "ctr: "}

// why is the line that tells best why the command failed: the last line of
// its error output with one of whyMarkers, else the last that speaks of an
// error, else its last line.
func (r cmdResult) why() string {
	switch {
	case r.startErr != nil:
		return r.startErr.Error()
	case r.timedOut:
		return fmt.Sprintf("no answer after %v (killed)", env.timeout)
	}
	lines := nonEmptyLines(r.stderr)
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
	if out := nonEmptyLines(r.stdout); len(out) > 0 {
		return out[len(out)-1]
	}
	return "(no output)"
}

// failure is the error for a command that did not do what it should: what
// it is and its exit status, the reason in one line, then everything it
// said.
func (r cmdResult) failure() error {
	return fmt.Errorf("%s: exit %d: %s\n%s", r.label, r.code, r.why(), r)
}

// labelFor names a command by its program's base name and the first words
// of args (the subcommand): "ctr task exec", "podman run".
func labelFor(prog string, args []string) string {
	words := []string{filepath.Base(prog)}
	for _, a := range args {
		if len(words) == 3 || strings.HasPrefix(a, "-") || strings.Contains(a, "/") {
			break
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// runCmd runs argv to completion, with the environment cmdEnv and stdin
// from /dev/null, bounded by env.timeout.
func runCmd(cmdEnv []string, argv ...string) cmdResult {
	return runLabeled(labelFor(argv[0], argv[1:]), cmdEnv, argv...)
}

// runLabeled is runCmd with the label for messages given.
func runLabeled(label string, cmdEnv []string, argv ...string) cmdResult {
	ctx, cancel := context.WithTimeout(context.Background(), env.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = cmdEnv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A process the command leaves behind may hold the pipes open: stop
	// waiting for them this long after the command itself exited.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := cmdResult{label: label, argv: argv, stdout: stdout.String(), stderr: stderr.String(), code: -1}
	if cmd.ProcessState != nil {
		r.code = cmd.ProcessState.ExitCode()
	} else if err != nil {
		r.startErr = err
	}
	r.timedOut = ctx.Err() != nil
	return r
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
		if r.code == 0 {
			return nil
		}
		if d.Exited() {
			return fmt.Errorf("%s exited (%v) before it answered; its log ends:\n%s", d.name, d.Cmd.ProcessState, d.logTail(30))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %v: %s\nits log ends:\n%s", d.name, env.timeout, r.why(), d.logTail(30))
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

// ---- checks and the results table ----

// suite runs the checks of one engine with one runtime, in order.
type suite struct {
	t       *testing.T
	engine  string
	rt      runtimeUnderTest
	cur     *testing.T      // the check running now, for its commands' logs
	failed  map[string]bool // checks that did not pass
	stalled string          // set when a command timed out: later checks are not run
}

func newSuite(t *testing.T, engine string, rt runtimeUnderTest) *suite {
	t.Logf("engine %s, runtime %s (%s), cgroup mode %v", engine, rt.name, rt.path, env.hier.Mode)
	return &suite{t: t, engine: engine, rt: rt, failed: map[string]bool{}}
}

// check runs fn as the subtest name. It fails as "not reached" if a check
// in needs failed, or if an earlier command timed out (the engine may hang;
// waiting again for each check would only stretch the run). The outcome
// goes to the results table.
func (s *suite) check(name string, needs []string, fn func(t *testing.T) error) bool {
	var why string
	var status string
	start := time.Now()
	ok := s.t.Run(name, func(t *testing.T) {
		s.cur = t
		defer func() {
			s.cur = nil
			switch {
			case t.Skipped():
				status = "SKIP"
			case t.Failed():
				status = "FAIL"
				if why == "" {
					why = "see the test log"
				}
			default:
				status = "PASS"
			}
		}()
		if s.stalled != "" && name != checkNoLeftovers {
			why = "not reached: " + s.stalled
			t.Fatal(why)
		}
		for _, n := range needs {
			if s.failed[n] {
				why = fmt.Sprintf("not reached: %s failed", n)
				t.Fatal(why)
			}
		}
		if err := fn(t); err != nil {
			why = testenv.FirstLine(err.Error())
			t.Fatal(err)
		}
	})
	if !ok {
		s.failed[name] = true
	}
	recordResult(resultRow{engine: s.engine, runtime: s.rt.name, check: name, status: status, why: why, took: time.Since(start)})
	return ok
}

// run runs a command for a check, logs it in one line, and returns what
// it left; a timeout stalls the suite. label names it in messages.
func (s *suite) run(label string, cmdEnv []string, argv ...string) cmdResult {
	t := s.t
	if s.cur != nil {
		t = s.cur
	}
	t.Helper()
	start := time.Now()
	r := runLabeled(label, cmdEnv, argv...)
	if r.timedOut && s.stalled == "" {
		s.stalled = fmt.Sprintf("%s timed out after %v", label, env.timeout)
	}
	t.Logf("$ %s  [exit %d, %.1fs]", strings.Join(argv, " "), r.code, time.Since(start).Seconds())
	return r
}

// poll calls f (bounded by env.timeout) until it returns nil; it returns
// f's last error.
func poll(f func() error) error { return pollFor(env.timeout, f) }

// pollFor is poll bounded by d.
func pollFor(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// resultRow is one line of the results table.
type resultRow struct {
	engine, runtime, check, status, why string
	took                                time.Duration
}

var results struct {
	mu   sync.Mutex
	rows []resultRow
}

func recordResult(r resultRow) {
	results.mu.Lock()
	defer results.mu.Unlock()
	results.rows = append(results.rows, r)
}

// printResults writes the table of every check, in the order they ran.
func printResults(w io.Writer, total time.Duration) {
	results.mu.Lock()
	defer results.mu.Unlock()
	if len(results.rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\ntests/interop: results (%v in all)\n", total.Round(time.Second))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ENGINE\tRUNTIME\tCHECK\tRESULT\tTIME\tWHY")
	counts := map[string]int{}
	for _, r := range results.rows {
		why := r.why
		if len(why) > 400 {
			why = why[:400] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1fs\t%s\n", r.engine, r.runtime, r.check, r.status, r.took.Seconds(), why)
		counts[r.runtime+" "+r.status]++
	}
	tw.Flush()
	for _, rt := range env.runtimes {
		fmt.Fprintf(w, "tests/interop: %s: %d passed, %d failed, %d skipped\n", rt.name,
			counts[rt.name+" PASS"], counts[rt.name+" FAIL"], counts[rt.name+" SKIP"])
	}
}

// errList collects the problems a check found, to report them all at once.
type errList []error

func (l *errList) add(format string, args ...any) { *l = append(*l, fmt.Errorf(format, args...)) }

func (l errList) err() error { return errors.Join(l...) }

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
