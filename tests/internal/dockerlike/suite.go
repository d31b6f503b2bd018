package dockerlike

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// Suite runs the checks of one engine with one runtime, in order.
type Suite struct {
	T       *testing.T
	Engine  string          // "podman", "docker", "containerd"
	Runtime string          // the runtime's name in the results table: "runc", "minimal-runc"
	Runner                  // how its commands run
	cur     *testing.T      // the check running now, for its commands' logs
	failed  map[string]bool // checks that did not pass
	stalled string          // set when a command timed out: later checks are not run
}

// CheckNoLeftovers is the name of the last check of every suite: it runs
// even when a command stalled.
const CheckNoLeftovers = "no-leftovers"

// NewSuite starts the checks of engine with runtime in t.
func NewSuite(t *testing.T, engine, runtime string, r Runner) *Suite {
	return &Suite{T: t, Engine: engine, Runtime: runtime, Runner: r, failed: map[string]bool{}}
}

// Stalled is why the suite stopped running checks ("" while it runs them).
func (s *Suite) Stalled() string { return s.stalled }

// Check runs fn as the subtest name. It fails as "not reached" if a check
// in needs failed, or if an earlier command timed out (the engine may hang;
// waiting again for each check would only stretch the run). The outcome
// goes to the results table.
func (s *Suite) Check(name string, needs []string, fn func(t *testing.T) error) bool {
	var why string
	var status string
	start := time.Now()
	ok := s.T.Run(name, func(t *testing.T) {
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
		if s.stalled != "" && name != CheckNoLeftovers {
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
	recordResult(resultRow{engine: s.Engine, runtime: s.Runtime, check: name, status: status, why: why, took: time.Since(start)})
	return ok
}

// Run runs a command for a check with the suite's Runner, logs it in one
// line, and returns what it left; a timeout stalls the suite. label names
// it in messages.
func (s *Suite) Run(label string, argv ...string) Result {
	return s.RunWith(s.Runner, label, argv...)
}

// RunWith is Run with the environment and user of r.
func (s *Suite) RunWith(r Runner, label string, argv ...string) Result {
	t := s.T
	if s.cur != nil {
		t = s.cur
	}
	t.Helper()
	start := time.Now()
	res := r.Run(label, argv...)
	if res.TimedOut && s.stalled == "" {
		s.stalled = fmt.Sprintf("%s timed out after %v", label, r.Timeout)
	}
	t.Logf("$ %s  [exit %d, %.1fs]", strings.Join(argv, " "), res.Code, time.Since(start).Seconds())
	return res
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

// PrintResults writes the table of every check, in the order they ran,
// and the counts of each of runtimes; suite ("tests/interop") prefixes
// its lines.
func PrintResults(w io.Writer, suite string, total time.Duration, runtimes []string) {
	results.mu.Lock()
	defer results.mu.Unlock()
	if len(results.rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s: results (%v in all)\n", suite, total.Round(time.Second))
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
	for _, rt := range runtimes {
		fmt.Fprintf(w, "%s: %s: %d passed, %d failed, %d skipped\n", suite, rt,
			counts[rt+" PASS"], counts[rt+" FAIL"], counts[rt+" SKIP"])
	}
}

// ErrList collects the problems a check found, to report them all at once.
type ErrList []error

// Add adds a problem.
func (l *ErrList) Add(format string, args ...any) { *l = append(*l, fmt.Errorf(format, args...)) }

// Err is the problems joined, nil when there are none.
func (l ErrList) Err() error { return errors.Join(l...) }
