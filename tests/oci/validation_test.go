package oci

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
	"golang.org/x/sys/unix"
)

// TestValidation runs each validation file with runc, then with
// minimal-runc (a subtest per file: -run 'TestValidation/^linux_uid_mappings$'),
// and fails where minimal-runc does worse than runc (see the package doc).
func TestValidation(t *testing.T) {
	if env.skip != "" {
		t.Skip(env.skip)
	}
	testenv.RequireRoot(t)
	t.Cleanup(printResults)
	for _, file := range env.files {
		t.Run(file, func(t *testing.T) {
			got := map[string]outcome{}
			for _, rt := range env.runtimes {
				o := runFile(t, file, rt)
				record(file, rt.name, o)
				got[rt.name] = o
				if o.pass {
					t.Logf("%s: PASS", rt.name)
				} else {
					t.Logf("%s: FAIL: %s", rt.name, o.why)
				}
			}
			control, test := got["runc"], got["minimal-runc"]
			reason, known := knownDifferences[file]
			switch {
			case slices.Contains(mustPass, file) && !test.pass:
				t.Errorf("minimal-runc must pass %s (issue 18), and fails: %s", file, test.why)
			case known && test.pass:
				t.Errorf("minimal-runc passes %s, which knownDifferences lists (%s): remove the entry", file, reason)
			case known:
				t.Logf("a known difference: %s", reason)
			case control.pass && !test.pass:
				t.Errorf("runc passes %s, minimal-runc fails it: %s", file, test.why)
			}
		})
	}
}

// runFile runs the validation program file against rt, then removes what
// it left (the runtime's containers, the suite's cgroups and bundles),
// logging each thing found. The program's TAP goes to the log when it
// fails.
func runFile(t *testing.T, file string, rt runtimeUnderTest) outcome {
	t.Helper()
	bundles := filepath.Join(env.tmp, "bundles")
	if err := os.MkdirAll(bundles, 0o755); err != nil {
		t.Fatal(err)
	}
	defer cleanUp(t, rt, bundles)
	ctx, cancel := context.WithTimeout(context.Background(), env.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(env.programs, file))
	cmd.Dir = env.work
	cmd.Env = append(os.Environ(), "RUNTIME="+rt.wrapper, "TMPDIR="+bundles)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = env.timeout // a container left holding the output must not hang the test
	err := cmd.Run()
	var o outcome
	switch notOK := firstNotOK(out.String()); {
	case ctx.Err() != nil:
		o.why = fmt.Sprintf("not done after %v (killed)", env.timeout)
	case err != nil:
		o.why = fmt.Sprintf("%v: %s", err, lastWords(out.String()))
	case notOK != "":
		o.why = notOK
	default:
		o.pass = true
	}
	if !o.pass {
		t.Logf("%s with %s:\n%s", file, rt.name, testenv.Indent(out.String()))
	}
	return o
}

// firstNotOK is the first "not ok" line of a TAP stream, with the
// diagnostic line after it if there is one.
func firstNotOK(tap string) string {
	lines := strings.Split(tap, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "not ok") {
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "#") {
				return l + " " + lines[i+1]
			}
			return l
		}
	}
	return ""
}

// lastWords is the last line of a program's output that is not its
// exit status (util.Fatal prints the error last).
func lastWords(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if !strings.HasPrefix(lines[i], "exit status ") {
			return lines[i]
		}
	}
	return "(no output)"
}

// cleanUp removes what a program left: containers in the runtime's
// state (deleted through the runtime), cgroups the suite named (their
// processes killed by PID first), bundles. A program that fails skips
// its own clean-up, so these are logged, not failures.
func cleanUp(t *testing.T, rt runtimeUnderTest, bundles string) {
	t.Helper()
	ents, _ := os.ReadDir(rt.root)
	for _, e := range ents {
		t.Logf("%s: container %s left in its state: deleting it", rt.name, e.Name())
		if b, err := exec.Command(rt.path, "--root", rt.root, "delete", "--force", e.Name()).CombinedOutput(); err != nil {
			t.Errorf("%s delete --force %s: %v\n%s", rt.name, e.Name(), err, b)
		}
	}
	for _, base := range env.cgroups {
		dirs := testenv.WalkDirs(base)
		slices.Reverse(dirs) // deepest first
		for _, d := range dirs {
			if !isSuiteParent(d) {
				t.Logf("%s: cgroup %s left: removing it", rt.name, d)
			}
			if err := removeCgroup(d); err != nil {
				t.Errorf("%v", err)
			}
		}
	}
	// A container without a mount namespace of its own (linux_ns_itype
	// runs some) mounts its /proc, /dev, ... in this one, and the suite
	// leaves them: unmounted here, deepest first.
	mounted, err := testenv.MountedUnder(bundles)
	if err != nil {
		t.Errorf("the mounts beneath %s: %v", bundles, err)
		return // never remove through a mount
	}
	slices.Sort(mounted)
	slices.Reverse(mounted)
	for _, m := range mounted {
		t.Logf("%s: mount %s left: unmounting it", rt.name, m)
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", m, err)
			return
		}
	}
	left, _ := os.ReadDir(bundles)
	for _, e := range left {
		t.Logf("%s: bundle %s left: removing it", rt.name, e.Name())
	}
	if err := os.RemoveAll(bundles); err != nil {
		t.Errorf("remove %s: %v", bundles, err)
	}
}

// isSuiteParent: testdir and testdir/cgrouptest are the parents of the
// relative cgroupsPath that runtimes make and leave (runc does too);
// the container's own cgroup is beneath them.
func isSuiteParent(dir string) bool {
	return filepath.Base(dir) == "testdir" || strings.HasSuffix(dir, "/testdir/cgrouptest")
}

// removeCgroup kills the processes left in the cgroup dir (by PID) and
// removes it.
func removeCgroup(dir string) error {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	var err error
	for i := 0; i < 50; i++ {
		if err = os.Remove(dir); err == nil || os.IsNotExist(err) {
			return nil
		}
		time.Sleep(100 * time.Millisecond) // its processes on their way out
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}
