package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// containerd is one containerd started by a test, with everything under
// dir, driven through ctr in one namespace.
type containerd struct {
	s        *suite
	dir      string
	sock     string
	ns       string // containerd namespace; ctr's default cgroup parent is /NS
	runcRoot string // --runc-root: the runtime's state is in runcRoot/NS
	fifoDir  string
	d        *daemon
}

// The IDs of the containers the containerd tests make.
const (
	echoID   = "c-echo"
	exitID   = "c-exit3"
	detached = "c-detached"
)

// TestContainerd drives each runtime through containerd 1.6 and ctr, as
// `ctr run --runc-binary RUNTIME` does.
func TestContainerd(t *testing.T) {
	requireInterop(t)
	requireTools(t, "containerd", "ctr", "containerd-shim-runc-v2", "umoci", "skopeo")
	for _, rt := range env.runtimes {
		t.Run(rt.name, func(t *testing.T) { testContainerd(t, rt) })
	}
}

func testContainerd(t *testing.T, rt runtimeUnderTest) {
	s := newSuite(t, "containerd", rt)
	dir := instanceDir(t, "ctd", rt)
	c := &containerd{
		s:        s,
		dir:      dir,
		sock:     filepath.Join(dir, "containerd.sock"),
		ns:       uniqueName("ctd", rt),
		runcRoot: filepath.Join(dir, "runc"),
		fifoDir:  filepath.Join(dir, "fifo"),
	}
	l := &leftovers{dir: dir, parents: []string{"/" + c.ns}, residue: []string{"/" + c.ns},
		names: []string{echoID, exitID, detached}}
	l.before = takeSnapshot(t, l.parents)
	teardown := teardownOnce(t, func(t *testing.T) error { return c.teardown(t, l) })

	s.check("start", nil, func(t *testing.T) error { return c.start() })
	s.check("import", []string{"start"}, func(t *testing.T) error {
		archive, err := imageArchive(t)
		if err != nil {
			return err
		}
		if r := c.ctr("images", "import", archive); r.Code != 0 {
			return r.Failure()
		}
		r := c.ctr("images", "ls", "-q")
		if !strings.Contains(r.Stdout, imageFullRef) {
			return fmt.Errorf("ctr images ls does not list %s after the import\n%s", imageFullRef, r)
		}
		return nil
	})
	s.check("run-echo", []string{"import"}, func(t *testing.T) error {
		r := c.ctr(c.runArgs("--rm", echoID, "echo", "hello")...)
		if r.Code != 0 {
			return c.withLog(r.Failure(), echoID)
		}
		if r.Out() != "hello" {
			return fmt.Errorf("ctr run echo hello printed %q, want hello\n%s", r.Stdout, r)
		}
		return nil
	})
	s.check("exit-status", []string{"import"}, func(t *testing.T) error {
		r := c.ctr(c.runArgs("--rm", exitID, "sh", "-c", "exit 3")...)
		if r.Code != 3 {
			return c.withLog(fmt.Errorf("exit status %d, want 3: %s\n%s", r.Code, r.Why(), r), exitID)
		}
		return nil
	})
	var taskPID int
	s.check("run-detached", []string{"import"}, func(t *testing.T) error {
		r := c.ctr(c.runArgs("-d", detached, "sleep", "1000")...)
		if r.Code != 0 {
			return c.withLog(r.Failure(), detached)
		}
		var err error
		taskPID, err = c.waitTask(detached, "RUNNING")
		return err
	})
	s.check("runtime-state", []string{"run-detached"}, func(t *testing.T) error {
		return c.runtimeAgrees(detached, "running", taskPID)
	})
	s.check("exec", []string{"run-detached"}, func(t *testing.T) error {
		r := c.ctr("task", "exec", "--fifo-dir", c.fifoDir, "--exec-id", "exec1", detached, "echo", "hi")
		if r.Code != 0 {
			return c.withLog(r.Failure(), detached)
		}
		if r.Out() != "hi" {
			return fmt.Errorf("ctr task exec echo hi printed %q, want hi\n%s", r.Stdout, r)
		}
		return nil
	})
	s.check("pause-resume", []string{"run-detached"}, func(t *testing.T) error {
		if r := c.ctr("task", "pause", detached); r.Code != 0 {
			return c.withLog(r.Failure(), detached)
		}
		if _, err := c.waitTask(detached, "PAUSED"); err != nil {
			return err
		}
		if err := c.runtimeAgrees(detached, "paused", taskPID); err != nil {
			return err
		}
		if r := c.ctr("task", "resume", detached); r.Code != 0 {
			return c.withLog(r.Failure(), detached)
		}
		_, err := c.waitTask(detached, "RUNNING")
		return err
	})
	s.check("kill", []string{"run-detached"}, func(t *testing.T) error {
		if r := c.ctr("task", "kill", "-s", "SIGKILL", detached); r.Code != 0 {
			return c.withLog(r.Failure(), detached)
		}
		_, err := c.waitTask(detached, "STOPPED")
		return err
	})
	s.check("delete", []string{"kill"}, func(t *testing.T) error {
		if r := c.ctr("task", "delete", detached); r.Code != 0 {
			return c.withLog(r.Failure(), detached)
		}
		if r := c.ctr("container", "delete", detached); r.Code != 0 {
			return r.Failure()
		}
		var errs errList
		if r := c.ctr("container", "ls", "-q"); r.Out() != "" {
			errs.Add("ctr container ls still lists %q", r.Out())
		}
		if r := c.runtime("state", detached); r.Code == 0 {
			errs.Add("%s state %s succeeds after the delete:\n%s", rt.name, detached, r)
		}
		if err := cgroupGone("/" + c.ns + "/" + detached); err != nil {
			errs.Add("%v", err)
		}
		if entries, _ := os.ReadDir(filepath.Join(c.runcRoot, c.ns)); len(entries) > 0 {
			errs.Add("runtime state left in %s: %v", filepath.Join(c.runcRoot, c.ns), entries)
		}
		return errs.Err()
	})
	s.check(checkNoLeftovers, nil, teardown)
}

// start starts containerd and waits until it answers.
func (c *containerd) start() error {
	// The CRI plugin disabled (no Kubernetes here; its systemd-style
	// cgroupsPath and oomScoreAdj -998 are not exercised).
	cfg, err := testenv.WriteContainerdConfig(c.dir, c.sock, true)
	if err != nil {
		return err
	}
	d, err := startDaemon("containerd", filepath.Join(c.dir, "containerd.log"), cleanEnv(),
		tool("containerd"), "--config", cfg)
	if err != nil {
		return err
	}
	c.d = d
	c.s.T.Logf("containerd pid %d, config %s, log %s", d.Pid(), cfg, d.logPath)
	return d.waitReady(func() cmdResult { return runCmd(cleanEnv(), tool("ctr"), "-a", c.sock, "version") })
}

// ctr runs ctr against this containerd in its namespace.
func (c *containerd) ctr(args ...string) cmdResult {
	return c.s.run(labelFor("ctr", args), cleanEnv(), append([]string{tool("ctr"), "-a", c.sock, "-n", c.ns}, args...)...)
}

// runArgs is `run FLAG --runc-binary RUNTIME ... IMAGE ID ARGS...`.
func (c *containerd) runArgs(flag, id string, args ...string) []string {
	argv := []string{"run", flag, "--runc-binary", c.s.rt.path, "--runc-root", c.runcRoot,
		"--fifo-dir", c.fifoDir, imageFullRef, id}
	return append(argv, args...)
}

// runtime runs the runtime under test on the shim's state root.
func (c *containerd) runtime(args ...string) cmdResult {
	return c.s.run(labelFor(c.s.rt.path, args), cleanEnv(), append([]string{c.s.rt.path, "--root", filepath.Join(c.runcRoot, c.ns)}, args...)...)
}

// runtimeAgrees checks the runtime's own `state` for id against status and
// the task's PID.
func (c *containerd) runtimeAgrees(id, status string, pid int) error {
	r := c.runtime("state", id)
	if r.Code != 0 {
		return r.Failure()
	}
	var st struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Pid    int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		return fmt.Errorf("%s state is not JSON: %v\n%s", c.s.rt.name, err, r)
	}
	if st.ID != id || st.Status != status || st.Pid != pid {
		return fmt.Errorf("%s state says id %q status %q pid %d; containerd says %q, %s, pid %d\n%s",
			c.s.rt.name, st.ID, st.Status, st.Pid, id, status, pid, r)
	}
	return nil
}

// waitTask polls `ctr task ls` until id has status; it returns its PID.
func (c *containerd) waitTask(id, status string) (int, error) {
	var pid int
	var last string
	err := poll(func() error {
		r := runCmd(cleanEnv(), tool("ctr"), "-a", c.sock, "-n", c.ns, "task", "ls")
		last = r.Stdout
		for _, line := range nonEmptyLines(r.Stdout) {
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == id {
				fmt.Sscan(f[1], &pid)
				if f[2] == status {
					return nil
				}
				return fmt.Errorf("task %s is %s, want %s", id, f[2], status)
			}
		}
		return fmt.Errorf("task %s is not listed, want it %s", id, status)
	})
	if err != nil {
		return 0, c.withLog(fmt.Errorf("%v (after %v)\nctr task ls:\n%s", err, env.timeout, testenv.Indent(last)), id)
	}
	return pid, nil
}

// withLog appends the warnings and errors containerd logged about id (the
// shim's, which carry the runtime's own message).
func (c *containerd) withLog(err error, id string) error {
	if c.d == nil {
		return err
	}
	if lines := c.d.logGrep(15, []string{"error", "warning"}, id); lines != "" {
		return fmt.Errorf("%w\ncontainerd's log about %s:\n%s", err, id, testenv.Indent(lines))
	}
	return err
}

// teardown deletes every container in the namespace, stops containerd by
// its PID, and checks for leftovers.
func (c *containerd) teardown(t *testing.T, l *leftovers) error {
	var errs errList
	if c.s.Stalled() != "" {
		t.Logf("teardown: not removing containers through containerd, which hung (%s)", c.s.Stalled())
	} else if c.d != nil && !c.d.Exited() {
		r := runCmd(cleanEnv(), tool("ctr"), "-a", c.sock, "-n", c.ns, "container", "ls", "-q")
		for _, id := range nonEmptyLines(r.Stdout) {
			base := []string{tool("ctr"), "-a", c.sock, "-n", c.ns}
			runCmd(cleanEnv(), append(base, "task", "kill", "-s", "SIGKILL", id)...)
			time.Sleep(200 * time.Millisecond)
			runCmd(cleanEnv(), append(base, "task", "delete", "-f", id)...)
			if r := runCmd(cleanEnv(), append(base, "container", "delete", id)...); r.Code != 0 {
				t.Logf("teardown: %v", r.Failure())
			}
		}
		runCmd(cleanEnv(), tool("ctr"), "-a", c.sock, "-n", c.ns, "images", "rm", imageFullRef)
		runCmd(cleanEnv(), tool("ctr"), "-a", c.sock, "namespaces", "rm", c.ns)
	}
	if c.d != nil {
		if err := c.d.stop(20 * time.Second); err != nil {
			errs.Add("%v", err)
		}
	}
	if err := l.check(t); err != nil {
		errs = append(errs, err)
	}
	return errs.Err()
}
