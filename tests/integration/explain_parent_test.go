package integration

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/explain"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// explained returns the --explain lines of stderr as who -> texts, and
// fails the test when the parent printed none.
func explained(t *testing.T, r result) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for _, l := range strings.Split(r.stderr, "\n") {
		if line, ok := explain.Parse(l); ok {
			got[line.Who] = append(got[line.Who], line.Text)
		}
	}
	if len(got[explain.Parent]) == 0 {
		t.Fatalf("no explain lines of the parent\n%s", r)
	}
	return got
}

// wantLine fails unless one of lines holds every one of subs.
func wantLine(t *testing.T, who string, lines []string, subs ...string) string {
	t.Helper()
	for _, l := range lines {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			return l
		}
	}
	t.Errorf("no %s line of --explain holds %q; the lines:\n%s", who, subs, strings.Join(lines, "\n"))
	return ""
}

// TestExplainRun: run --explain says, on stderr, with times, what the
// parent did (the clone and its namespaces, the cgroup and the move into
// it before the go-ahead, the exit, the cleanup) and, with the plan's
// init, each of the init's operations; the container's output and exit
// status are as without it. The cgroup it names is gone once it says so.
func TestExplainRun(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, []string{"--explain", "--network", "none"}, "sh", "-c", "echo out; exit 3")
	r.wantExit(t, 3)
	if r.stdout != "out\n" {
		t.Errorf("stdout %q, want %q", r.stdout, "out\n")
	}
	got := explained(t, r)
	p := got["parent"]
	wantLine(t, "parent", p, "clone(", "pid")
	wantLine(t, "parent", p, "namespace mount: new")
	wantLine(t, "parent", p, "namespace network: new")
	wantLine(t, "parent", p, "moved pid", "into cgroup", "before the go-ahead")
	wantLine(t, "parent", p, "seccomp filter", "instructions")
	wantLine(t, "parent", p, "exit status 3")
	removed := wantLine(t, "parent", p, "removed cgroup ")
	if dir, _, ok := strings.Cut(strings.TrimPrefix(removed, "removed cgroup "), " "); ok {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("--explain says cgroup %s was removed; stat: %v", dir, err)
		}
	}
	wantLine(t, "parent", p, "removed the container's state directory")
	wantLine(t, "parent", p, "sent the plan:", "ops", "bytes")
	i := got["init"]
	wantLine(t, "init", i, "mount")
	wantLine(t, "init", i, "pivot_root")
	wantLine(t, "init", i, "capset")
}

// TestExplainRunc: minimal-runc --explain (a global flag) for run,
// create and exec.
func TestExplainRunc(t *testing.T) {
	testenv.RequireRoot(t)
	b := newBundle(t, "sh", "-c", "exit 5")
	r := runc(t, b, "--explain", "run", "--bundle", b.dir, "xrun")
	r.wantExit(t, 5)
	p := explained(t, r)["parent"]
	wantLine(t, "parent", p, "moved pid", "into cgroup")
	wantLine(t, "parent", p, "exit status 5")

	b = newBundle(t, "sleep", "1000")
	r = runc(t, b, "--explain", "create", "--bundle", b.dir, "xc")
	r.wantExit(t, 0)
	p = explained(t, r)["parent"]
	wantLine(t, "parent", p, "moved pid", "into cgroup", "before the go-ahead")
	runc(t, b, "start", "xc").wantExit(t, 0)
	r = runc(t, b, "--explain", "exec", "xc", "sh", "-c", "exit 4")
	r.wantExit(t, 4)
	p = explained(t, r)["parent"]
	wantLine(t, "parent", p, "joined the namespaces of pid")
	wantLine(t, "parent", p, "exit status 4")
	wantLine(t, "init", explained(t, r)["init"], "capset")
	runc(t, b, "delete", "--force", "xc").wantExit(t, 0)
}

// TestExplainClosedPipe: run --explain with stderr a pipe nobody reads any
// more (`run --explain ... 2>&1 | head -1`) runs to the end: its writes
// fail (EPIPE) instead of SIGPIPE killing it halfway, it exits with the
// container's status, and leaves no file under its root and (track) no
// cgroup or mount behind.
func TestExplainClosedPipe(t *testing.T) {
	testenv.RequireRoot(t)
	root := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	p := startProc(t, false, func(cmd *exec.Cmd) { cmd.Stderr = w },
		[]string{"--root", root, "run", "--explain", "--network", "none", env.rootfs, "sh", "-c", "exit 3"})
	w.Close()
	p.wait(t).wantExit(t, 3)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("left behind under --root: %s", path)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}

// TestExplainSeccompForbidsReports: with a seccomp profile that kills on
// sendmsg (the init's reports), --explain does not make the container
// fail: the init drops what its filter would not let through (the parent
// gets no line for it) and the exit status is the container's. An execve
// that fails after a filter that kills on sendmsg and write (the init's
// error frame and its stderr line) still gives 127.
func TestExplainSeccompForbidsReports(t *testing.T) {
	testenv.RequireRoot(t)
	// A script whose interpreter is missing: the parent's check of the
	// command passes, the init's execve (after the filter) fails, ENOENT.
	script := uniqueName("/bad-interpreter-")
	if err := os.WriteFile(filepath.Join(env.rootfs, script), []byte("#!/nonexistent\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(filepath.Join(env.rootfs, script)) })
	for _, c := range []struct {
		syscalls string
		command  []string
		status   int
	}{
		{`"sendmsg"`, []string{"sh", "-c", "exit 3"}, 3},
		{`"sendmsg", "write"`, []string{script}, 127},
	} {
		profile := filepath.Join(t.TempDir(), "seccomp.json")
		err := os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
			{"names": [`+c.syscalls+`], "action": "SCMP_ACT_KILL"}]}`), 0o644)
		if err != nil {
			t.Fatal(err)
		}
		r := run(t, []string{"--explain", "--network", "none", "--security-opt", "seccomp=" + profile}, c.command...)
		r.wantExit(t, c.status)
		wantLine(t, explain.Parent, explained(t, r)[explain.Parent], "exit")
	}
}
