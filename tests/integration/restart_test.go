package integration

// restart, and the restart policies (--restart) that a detached
// container's monitor applies when its process ends: a command that
// fails twice (a counter on a bind mount), always, and a stop, kill or
// rm -f that the policy does not undo.

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

// failTwice is a command that counts its runs in /c/n and exits 1 on
// its first two, then 0.
const failTwice = `n=$(cat /c/n 2>/dev/null || echo 0); n=$((n+1)); echo $n >/c/n; echo run $n; [ $n -ge 3 ]`

// counter is a host directory for failTwice's counter, and its count.
func counter(t *testing.T) (dir string, runs func() string) {
	dir = t.TempDir()
	return dir, func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "n"))
		return strings.TrimSpace(string(b))
	}
}

// TestRestartVerb: restart stops a running container and starts it: a
// new process, a later start, Up; the name printed as given; a stopped
// one is started.
func TestRestartVerb(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "--name", "again", env.rootfs, "sleep", "1000")
	before := inspectContainer(t, root, "again")
	r := mdi(t, root, "restart", "-t", "1", "again")
	r.wantExit(t, 0)
	if r.stdout != "again\n" {
		t.Errorf("restart printed %q, want the name as given", r.stdout)
	}
	after := inspectContainer(t, root, "again")
	if after.State.Status != store.Running || after.State.Pid == before.State.Pid || !after.State.StartedAt.After(before.State.StartedAt) ||
		after.State.FinishedAt.IsZero() {
		t.Errorf("after restart: %+v; want running, a new pid, a later start and the stop's finish time", after.State)
	}
	if alive(store.Process{Pid: before.State.Pid, StartTime: before.State.PidStartTime}) || alive(before.State.Monitor()) {
		t.Errorf("the first run's process or monitor still lives")
	}
	mdi(t, root, "stop", "-t", "1", "again").wantExit(t, 0)
	mdi(t, root, "container", "restart", "again").wantExit(t, 0)
	if got := psStatus(t, root, "again"); !strings.HasPrefix(got, "again Up ") {
		t.Errorf("ps after restart of a stopped container: %q, want Up", got)
	}
	r = mdi(t, root, "restart", "nosuch")
	r.wantExit(t, 1)
	r.wantStderr(t, "No such container: nosuch")
}

// TestRestartPolicyOnFailure: on-failure restarts a command that fails
// twice until it succeeds (RestartCount 2, Exited (0), each run's output
// in the log); on-failure:1 gives up after one restart (Exited (1)); no
// does not restart.
func TestRestartPolicyOnFailure(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		policy       string
		runs, code   string
		restartCount int
	}{
		{"on-failure", "3", "0", 2},
		{"on-failure:1", "2", "1", 1},
		{"no", "1", "1", 0},
	} {
		t.Run(c.policy, func(t *testing.T) {
			dir, runs := counter(t)
			name := "p" + strings.ReplaceAll(c.policy, ":", "")
			detached(t, root, "--name", name, "--restart", c.policy, "-v", dir+":/c", env.rootfs, "sh", "-c", failTwice)
			r := mdi(t, root, "wait", name)
			if r.code != 0 || r.stdout != c.code+"\n" {
				t.Errorf("wait: want %s\n%s", c.code, r)
			}
			got := inspectContainer(t, root, name)
			if got.State.Status != store.Exited || got.State.ExitCode != atoi(t, c.code) || got.RestartCount != c.restartCount ||
				runs() != c.runs || got.HostConfig.RestartPolicy.Name != strings.Split(c.policy, ":")[0] {
				t.Errorf("after the end: %+v RestartCount %d runs %s Policy %+v; want exited (%s), %d restarts, %s runs",
					got.State, got.RestartCount, runs(), got.HostConfig.RestartPolicy, c.code, c.restartCount, c.runs)
			}
			if ps := psStatus(t, root, name); !strings.HasPrefix(ps, name+" Exited ("+c.code+") ") {
				t.Errorf("ps -a: %q", ps)
			}
			var want strings.Builder
			for i := 1; i <= atoi(t, c.runs); i++ {
				want.WriteString("run " + string(rune('0'+i)) + "\n")
			}
			if r := mdi(t, root, "logs", name); r.stdout != want.String() {
				t.Errorf("logs: %q, want every run's output %q", r.stdout, want.String())
			}
			waitFor(t, "the monitor's end", func() bool { return !alive(got.State.Monitor()) })
			mdi(t, root, "rm", name).wantExit(t, 0)
			wantNothingLeft(t, root, got)
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TestRestartPolicyAlways: always restarts a command that exits 0, with a
// new pid each time; stop, kill and rm -f are not undone by the policy
// (the monitor ends, the container stays Exited); start runs it again
// with its RestartCount back to 0.
func TestRestartPolicyAlways(t *testing.T) {
	root := t.TempDir()
	for _, stop := range [][]string{{"stop", "-t", "1"}, {"kill"}, {"rm", "-f"}} {
		t.Run(stop[0], func(t *testing.T) {
			dir := t.TempDir()
			name := "always-" + stop[0]
			detached(t, root, "--name", name, "--restart", "always", "-v", dir+":/c", env.rootfs,
				"sh", "-c", `echo x >>/c/runs; [ $(wc -l </c/runs) -ge 3 ] && exec sleep 1000; true`)
			waitFor(t, "two restarts", func() bool {
				c := inspectContainer(t, root, name)
				return c.RestartCount == 2 && c.State.Status == store.Running
			})
			c := inspectContainer(t, root, name)
			if c.HostConfig.RestartPolicy.Name != "always" || c.State.Pid <= 0 || !alive(store.Process{Pid: c.State.Pid, StartTime: c.State.PidStartTime}) {
				t.Fatalf("restarted: %+v Policy %+v; want the live restarted process", c.State, c.HostConfig.RestartPolicy)
			}
			mdi(t, root, append(stop, name)...).wantExit(t, 0)
			waitFor(t, "the monitor's end", func() bool { return !alive(c.State.Monitor()) })
			if stop[0] == "rm" {
				wantNothingLeft(t, root, c)
				return
			}
			after := inspectContainer(t, root, name)
			if after.State.Status != store.Exited || after.State.ExitCode != 137 || after.RestartCount != 2 {
				t.Errorf("after %s: %+v RestartCount %d; want exited (137), not restarted", stop[0], after.State, after.RestartCount)
			}
			mdi(t, root, "start", name).wantExit(t, 0)
			again := inspectContainer(t, root, name)
			if again.State.Status != store.Running || again.RestartCount != 0 {
				t.Errorf("start after %s: %+v RestartCount %d; want running, 0", stop[0], again.State, again.RestartCount)
			}
		})
	}
}

// TestRestartPolicyFlags: --restart is checked with Docker's words (125),
// leaving nothing; a foreground run refuses it.
func TestRestartPolicyFlags(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-d", "--restart", "sometimes", env.rootfs, "true"}, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
		{[]string{"run", "-d", "--restart", "always:3", env.rootfs, "true"}, "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
		{[]string{"run", "-d", "--restart", "on-failure:x", env.rootfs, "true"}, "invalid restart policy format: maximum retry count must be an integer"},
		{[]string{"run", "-d", "--restart", "on-failure:-1", env.rootfs, "true"}, "invalid restart policy: maximum retry count cannot be negative"},
		{[]string{"run", "-d", "--restart", ":3", env.rootfs, "true"}, "invalid restart policy format: no policy provided before colon"},
		{[]string{"run", "-d", "--rm", "--restart", "always", env.rootfs, "true"}, "Conflicting options: --restart and --rm"},
		{[]string{"run", "--restart", "always", env.rootfs, "true"}, "--restart: only with -d"},
	} {
		t.Run(strings.Join(c.args[:len(c.args)-2], " "), func(t *testing.T) {
			r := mdi(t, root, c.args...)
			r.wantExit(t, 125)
			r.wantStderr(t, c.want)
			if n := len(mdi(t, root, "ps", "-a", "-q").lines()); n != 0 {
				t.Errorf("ps -a lists %d containers", n)
			}
		})
	}
}

// TestRestartPolicyKillSignal: kill with a signal that is neither KILL
// nor the stop signal leaves the policy in place, as Docker's: a process
// that ends on SIGHUP is restarted; unless-stopped restarts as always.
func TestRestartPolicyKillSignal(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "--name", "hup", "--restart", "unless-stopped", env.rootfs, "sh", "-c", "trap 'exit 0' HUP; echo ready; sleep 1000 & wait")
	waitFor(t, "the trap set", func() bool { return mdi(t, root, "logs", "hup").stdout == "ready\n" })
	first := inspectContainer(t, root, "hup")
	mdi(t, root, "kill", "-s", "HUP", "hup").wantExit(t, 0)
	waitFor(t, "the restart after SIGHUP", func() bool {
		c := inspectContainer(t, root, "hup")
		return c.RestartCount == 1 && c.State.Status == store.Running && c.State.Pid != first.State.Pid
	})
	if got := psStatus(t, root, "hup"); !strings.HasPrefix(got, "hup Up ") {
		t.Errorf("ps after the restart: %q, want Up", got)
	}
	mdi(t, root, "kill", "hup").wantExit(t, 0)
	after := inspectContainer(t, root, "hup")
	waitFor(t, "the monitor's end", func() bool { return !alive(after.State.Monitor()) })
	if got := inspectContainer(t, root, "hup"); got.State.Status != store.Exited || got.RestartCount != 1 {
		t.Errorf("after kill (KILL): %+v RestartCount %d, want exited, not restarted", got.State, got.RestartCount)
	}
}

// TestRestartPolicyBackoff: a command that always fails is restarted
// after a growing back-off, during which ps shows it Restarting and rm
// without -f refuses it; a stop
// then ends it for good (no process to signal: its monitor sees the stop
// mark), and with its monitor killed (kill -9) during a back-off it reads
// as exited with its last code, and rm -f leaves nothing.
func TestRestartPolicyBackoff(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"stopped", "orphan"} {
		detached(t, root, "--name", name, "--restart", "always", env.rootfs, "sh", "-c", "exit 3")
	}
	for _, name := range []string{"stopped", "orphan"} {
		// From the third restart on, the back-off (400 ms, then 800...)
		// outlasts the commands below.
		var c store.Container
		waitFor(t, name+" restarting a third time, in inspect and ps", func() bool {
			c = inspectContainer(t, root, name)
			return c.State.Status == store.Restarting && c.RestartCount >= 3 &&
				strings.HasPrefix(psStatus(t, root, name), name+" Restarting (3) ")
		})
		if !c.State.Running || c.State.Pid != 0 || c.State.ExitCode != 3 {
			t.Errorf("%s in its back-off: %+v RestartCount %d", name, c.State, c.RestartCount)
		}
		if name == "stopped" {
			// rm without -f refuses it in Docker's words, during a back-off
			// long enough (from the fifth restart: 1.6 s) to outlast rm.
			waitFor(t, name+" restarting a fifth time", func() bool {
				c = inspectContainer(t, root, name)
				return c.State.Status == store.Restarting && c.RestartCount >= 5
			})
			r := mdi(t, root, "rm", name)
			r.wantExit(t, 1)
			r.wantStderr(t, `cannot remove container "/stopped": container is restarting: stop the container before removing or force remove`)
			mdi(t, root, "stop", name).wantExit(t, 0)
		} else if err := syscall.Kill(c.State.MonitorPid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 the monitor %d: %v", c.State.MonitorPid, err)
		}
		waitFor(t, name+"'s monitor's end", func() bool { return !alive(c.State.Monitor()) })
		if got := psStatus(t, root, name); !strings.HasPrefix(got, name+" Exited (3) ") {
			t.Errorf("ps -a: %q, want Exited (3)", got)
		}
		mdi(t, root, "rm", "-f", name).wantExit(t, 0)
		wantNothingLeft(t, root, c)
	}
}

// TestRestartPolicyTTY: a container with a pty and stdin (-dit) that the
// policy restarts gets a new pty and a new stdin at each run (the monitor
// makes them again), and each run's output reaches the log.
func TestRestartPolicyTTY(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "-it", "--name", "ttyp", "--restart", "on-failure:2", env.rootfs,
		"sh", "-c", "test -t 0 && test -t 1 && echo on-a-tty; exit 1")
	if r := mdi(t, root, "wait", "ttyp"); r.stdout != "1\n" {
		t.Fatalf("wait: want 1\n%s", r)
	}
	got := inspectContainer(t, root, "ttyp")
	if got.RestartCount != 2 {
		t.Errorf("RestartCount %d, want 2", got.RestartCount)
	}
	r := mdi(t, root, "logs", "ttyp")
	if n := strings.Count(r.stdout, "on-a-tty"); n != 3 {
		t.Errorf("logs: %d runs on a tty, want 3\n%s", n, r)
	}
}
