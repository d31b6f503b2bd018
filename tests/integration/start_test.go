package integration

// start of an image container: its writable layer is kept across a stop
// and a start, so that what it wrote survives, as Docker's.

import (
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

// TestStartKeepsWrites: a file an image container wrote before a stop is
// there after start (the same writable layer), and rm removes it all.
func TestStartKeepsWrites(t *testing.T) {
	root := t.TempDir()
	mdi(t, root, "import", rootfsTarball(t, t.TempDir()), "test/bb").wantExit(t, 0)
	detached(t, root, "--name", "keep", "test/bb", "sh", "-c", "echo run >>/runs; sleep 1000")
	waitFor(t, "the first run's write", func() bool {
		return mdi(t, root, "exec", "keep", "cat", "/runs").stdout == "run\n"
	})
	mdi(t, root, "stop", "-t", "1", "keep").wantExit(t, 0)
	r := mdi(t, root, "start", "keep")
	r.wantExit(t, 0)
	if r.stdout != "keep\n" {
		t.Errorf("start printed %q, want the name as given", r.stdout)
	}
	waitFor(t, "the second run's write beside the first's", func() bool {
		return mdi(t, root, "exec", "keep", "cat", "/runs").stdout == "run\nrun\n"
	})
	c := inspectContainer(t, root, "keep")
	if c.State.Status != store.Running || c.RestartCount != 0 {
		t.Errorf("after start: %+v RestartCount %d", c.State, c.RestartCount)
	}
	// start of several: each printed as given; a missing one fails after.
	mdi(t, root, "stop", "-t", "1", "keep").wantExit(t, 0)
	r = mdi(t, root, "start", "keep", "nosuch")
	if r.code != 1 || r.stdout != "keep\n" || !strings.Contains(r.stderr, "No such container: nosuch") {
		t.Errorf("start keep nosuch: want keep started, then exit 1\n%s", r)
	}
	c = inspectContainer(t, root, "keep")
	mdi(t, root, "rm", "-f", "keep").wantExit(t, 0)
	wantNothingLeft(t, root, c)
}
