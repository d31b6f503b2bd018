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

// TestStartAttach: start -a attaches before the container starts, so a
// command that ends at once still shows all its output (stdout and stderr
// apart) and start exits with its code; -i passes this stdin; -a with two
// containers is Docker's error.
func TestStartAttach(t *testing.T) {
	root := t.TempDir()
	create := func(args ...string) string {
		r := mdi(t, root, append([]string{"create"}, args...)...)
		r.wantExit(t, 0)
		id := strings.TrimSpace(r.stdout)
		t.Cleanup(func() { mdi(t, root, "rm", "-f", id) })
		return id
	}
	create("--name", "quick", env.rootfs, "sh", "-c", "echo out; echo err >&2; exit 5")
	r := mdi(t, root, "start", "-a", "quick")
	if r.code != 5 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("start -a: want exit 5, out on stdout, err on stderr\n%s", r)
	}
	if got := psStatus(t, root, "quick"); !strings.HasPrefix(got, "quick Exited (5) ") {
		t.Errorf("ps -a: %q, want quick Exited (5)", got)
	}
	// Again: an exited container attached to as it starts once more.
	if r := mdi(t, root, "start", "-a", "quick"); r.code != 5 || r.stdout != "out\n" {
		t.Errorf("start -a of the exited container: want its output again and 5\n%s", r)
	}

	create("-i", "--name", "reader", env.rootfs, "sh", "-c", "read x; echo got $x; exit 2")
	p := startWithStdin(t, "--root", root, "start", "-a", "-i", "reader")
	if _, err := p.stdin.Write([]byte("typed\n")); err != nil {
		t.Fatal(err)
	}
	p.stdin.Close()
	if r := p.wait(t); r.code != 2 || r.stdout != "got typed\n" {
		t.Errorf("start -ai: want the typed line back and exit 2\n%s", r)
	}

	r = mdi(t, root, "start", "-a", "quick", "reader")
	r.wantExit(t, 1)
	r.wantStderr(t, "you cannot start and attach multiple containers at once")
}
