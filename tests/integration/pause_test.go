package integration

// pause and unpause of detached containers: the freezer stops a counter,
// ps and inspect say paused, Docker's refusals, and stop, kill and rm -f
// of a paused container end it (they thaw it) and leave nothing.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

// counterScript counts in /tmp/count (a tmpfs of the container's) as fast
// as it can.
const counterScript = `n=0; while true; do n=$((n+1)); echo $n > /tmp/count.new; mv /tmp/count.new /tmp/count; done`

// readCount is the counter container pid's /tmp/count, read through its
// root (-1 until there is one).
func readCount(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "root", "tmp", "count"))
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

func TestPauseUnpause(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "--name", "counter", "--tmpfs", "/tmp", env.rootfs, "sh", "-c", counterScript)
	c := inspectContainer(t, root, "counter")
	waitFor(t, "a count", func() bool { return readCount(c.State.Pid) > 0 })

	r := mdi(t, root, "pause", "counter")
	if r.code != 0 || r.stdout != "counter\n" {
		t.Fatalf("pause: want exit 0 and the name\n%s", r)
	}
	if got := psStatus(t, root, "counter"); !strings.HasPrefix(got, "counter Up ") || !strings.HasSuffix(got, " (Paused)") {
		t.Errorf("ps: %q, want counter Up ... (Paused)", got)
	}
	if p := inspectContainer(t, root, "counter"); !p.State.Paused || p.State.Status != store.Paused || !p.State.Running {
		t.Errorf("inspect after pause: State %+v, want running, paused", p.State)
	}
	frozen := readCount(c.State.Pid)
	time.Sleep(500 * time.Millisecond) // a running counter would count on meanwhile
	if now := readCount(c.State.Pid); now != frozen {
		t.Errorf("the count went on while paused: %d, then %d", frozen, now)
	}
	r = mdi(t, root, "pause", "counter")
	r.wantExit(t, 1)
	r.wantStderr(t, "is already paused")
	r = mdi(t, root, "exec", "counter", "true")
	r.wantExit(t, 1)
	r.wantStderr(t, "is paused, unpause the container before exec")

	mdi(t, root, "unpause", "counter").wantExit(t, 0)
	if p := inspectContainer(t, root, "counter"); p.State.Paused || p.State.Status != store.Running {
		t.Errorf("inspect after unpause: State %+v, want running", p.State)
	}
	waitFor(t, "the count going on after unpause", func() bool { return readCount(c.State.Pid) > frozen })
	r = mdi(t, root, "unpause", "counter")
	r.wantExit(t, 1)
	r.wantStderr(t, "is not paused")

	// rm of a paused container: refused without -f; with it, nothing left.
	mdi(t, root, "pause", "counter").wantExit(t, 0)
	r = mdi(t, root, "rm", "counter")
	r.wantExit(t, 1)
	r.wantStderr(t, "container is paused")
	mdi(t, root, "rm", "-f", "counter").wantExit(t, 0)
	wantNothingLeft(t, root, c)
	if !isV2() { // on v2 the one directory is checked above
		if d := containerCgroupDir(t, "freezer", "", c.ID); dirExists(d) {
			t.Errorf("freezer cgroup left after rm -f of a paused container: %s", d)
		}
	}
}

// TestPauseStopKill: stop of a paused container sends its stop signal and
// thaws it, so that a handler runs (143 here); kill's SIGKILL ends one
// (137); pause of a stopped container is refused.
func TestPauseStopKill(t *testing.T) {
	root := t.TempDir()
	trap := `trap 'exit 143' TERM; sleep 1000 & wait`
	detached(t, root, "--name", "ps1", env.rootfs, "sh", "-c", trap)
	detached(t, root, "--name", "pk1", env.rootfs, "sleep", "1000")
	mdi(t, root, "pause", "ps1", "pk1").wantExit(t, 0)

	mdi(t, root, "stop", "-t", "60", "ps1").wantExit(t, 0)
	if got := psStatus(t, root, "ps1"); !strings.HasPrefix(got, "ps1 Exited (143) ") {
		t.Errorf("ps after stop of a paused container: %q, want Exited (143): the handler ran", got)
	}
	mdi(t, root, "kill", "pk1").wantExit(t, 0)
	if got := psStatus(t, root, "pk1"); !strings.HasPrefix(got, "pk1 Exited (137) ") {
		t.Errorf("ps after kill of a paused container: %q, want Exited (137)", got)
	}
	for _, verb := range []string{"pause", "unpause"} {
		r := mdi(t, root, verb, "pk1")
		r.wantExit(t, 1)
		r.wantStderr(t, "is not")
	}
}

// TestKillExitRace: kill and unpause of a container whose init has
// exited, its exit not yet recorded (the record still says running, as
// it does between an init's end and its monitor's exit record): kill
// succeeds (137), as Docker's, both the signal that the runtime refuses
// and, for a paused container, the thaw after it (the failure seen under
// load: "resume ...: it is stopped, not paused"); kill -s TERM likewise;
// unpause is Docker's refusal of a container that is not paused. The
// race is held open, not timed: the containers' monitors are stopped
// (SIGSTOP), so that they neither reap the init nor record its exit until
// the test lets them go on; the init is ended by the runtime's own kill
// (SIGKILL, then the thaw), as a kill that came first would.
func TestKillExitRace(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "--name", "pk2", env.rootfs, "sleep", "1000")
	detached(t, root, "--name", "pt2", env.rootfs, "sleep", "1000")
	mdi(t, root, "pause", "pk2").wantExit(t, 0)
	release := map[string]func(){}
	for _, name := range []string{"pk2", "pt2"} {
		c := inspectContainer(t, root, name)
		release[name] = holdMonitor(t, c)
		out, err := exec.Command(env.runc, "--root", filepath.Join(root, "runtime"), "kill", c.ID, "9").CombinedOutput()
		if err != nil {
			t.Fatalf("minimal-runc kill %s 9: %v\n%s", name, err, out)
		}
		init := store.Process{Pid: c.State.Pid, StartTime: c.State.PidStartTime}
		waitFor(t, name+"'s init to exit", func() bool { return !alive(init) })
		if c := inspectContainer(t, root, name); !c.State.Running {
			t.Fatalf("%s's exit recorded with its monitor stopped: %+v", name, c.State)
		}
	}

	r := mdi(t, root, "unpause", "pk2")
	r.wantExit(t, 1)
	id := inspectContainer(t, root, "pk2").ID
	r.wantStderr(t, "Container "+id+" is not paused")

	// kill waits for the exit record: the monitor goes on once kill has
	// thawed the container (the record unpaused) or has failed.
	kill := start(t, "--root", root, "kill", "pk2")
	waitFor(t, "kill to thaw pk2 or end", func() bool {
		return kill.Exited() || !inspectContainer(t, root, "pk2").State.Paused
	})
	release["pk2"]()
	r = kill.wait(t)
	r.wantExit(t, 0)
	if got := psStatus(t, root, "pk2"); !strings.HasPrefix(got, "pk2 Exited (137) ") {
		t.Errorf("ps after kill: %q, want Exited (137)", got)
	}

	r = mdi(t, root, "kill", "-s", "TERM", "pt2")
	r.wantExit(t, 0)
	release["pt2"]()
	waitFor(t, "pt2's exit record", func() bool { return strings.HasPrefix(psStatus(t, root, "pt2"), "pt2 Exited (137) ") })
}

// holdMonitor stops container c's monitor (SIGSTOP, through a pidfd: the
// process, not whatever has its pid later), and waits until it is
// stopped; the returned func lets it go on (SIGCONT), as the test's end
// does.
func holdMonitor(t *testing.T, c store.Container) func() {
	t.Helper()
	m := c.State.Monitor()
	pidfd, err := unix.PidfdOpen(m.Pid, 0)
	if err != nil || !alive(m) {
		t.Fatalf("%s's monitor %d: %v (alive: %v)", c.Name, m.Pid, err, alive(m))
	}
	if err := unix.PidfdSendSignal(pidfd, unix.SIGSTOP, nil, 0); err != nil {
		unix.Close(pidfd)
		t.Fatalf("stop %s's monitor %d: %v", c.Name, m.Pid, err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			_ = unix.PidfdSendSignal(pidfd, unix.SIGCONT, nil, 0)
			unix.Close(pidfd)
		})
	}
	t.Cleanup(release)
	waitFor(t, c.Name+"'s monitor to stop", func() bool {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(m.Pid), "stat"))
		i := strings.LastIndexByte(string(b), ')')
		return err == nil && i > 0 && strings.HasPrefix(string(b[i:]), ") T")
	})
	return release
}
