package integration

// pause and unpause of detached containers: the freezer stops a counter,
// ps and inspect say paused, Docker's refusals, and stop, kill and rm -f
// of a paused container end it (they thaw it) and leave nothing.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
