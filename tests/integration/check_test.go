package integration

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// checkAreas are the report's lines a user reads first, one for each
// area the issue lists.
var checkAreas = []string{
	"kernel", "namespace pid", "namespace user", "unprivileged user namespaces",
	"/etc/subuid", "/etc/subgid", "newuidmap", "cgroup mode", "cgroup controllers",
	"overlay in a user namespace", "seccomp", "CNI plugins", "slirp4netns/pasta",
}

// wantAreas fails the test unless the report has a line for each area.
func wantAreas(t *testing.T, out string) {
	t.Helper()
	for _, a := range checkAreas {
		if !strings.Contains(out, " "+a+" ") {
			t.Errorf("the report has no line for %q:\n%s", a, out)
		}
	}
}

// wantEmptyDir fails the test unless dir holds nothing: the check's
// probes leave nothing in the temporary directory they use.
func wantEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind in TMPDIR: %s", filepath.Join(dir, e.Name()))
	}
}

// TestCheckRoot: as root, on this machine (set up as .ci/run sets it up),
// check says ready and exits 0, and run then works; the probes (a user
// namespace, overlay mounts in a mount namespace of their own) leave no
// mount, cgroup or temporary file behind.
func TestCheckRoot(t *testing.T) {
	tmp := t.TempDir()
	p := startProc(t, false, func(c *exec.Cmd) { c.Env = append(os.Environ(), "TMPDIR="+tmp) }, []string{"check"})
	r := p.wait(t)
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "minimal-docker check for root (uid 0), root") ||
		!strings.Contains(r.stdout, "ready: minimal-docker run works for root") {
		t.Errorf("the report does not say root is ready\n%s", r)
	}
	wantAreas(t, r.stdout)
	for _, name := range []string{"overlay", "overlay in a user namespace"} {
		if !regexp.MustCompile(`(?m)^ok +` + name + ` +mounts$`).MatchString(r.stdout) {
			t.Errorf("the report does not say %q mounts (this kernel's overlay does)\n%s", name, r)
		}
	}
	wantEmptyDir(t, tmp)
	// What check promised.
	run(t, nil, "true").wantExit(t, 0)
}

// TestCheckRootMissing: a missing piece makes check exit 1 (not 125: the
// check itself worked), marked MISSING with what it means and how to fix
// it. Here iptables-restore, which the default bridge network runs, is
// out of PATH.
func TestCheckRootMissing(t *testing.T) {
	p := startProc(t, false, func(c *exec.Cmd) { c.Env = append(os.Environ(), "PATH=/nonexistent") }, []string{"check"})
	r := p.wait(t)
	r.wantExit(t, 1)
	for _, want := range []string{
		"MISSING iptables",
		"means: run's default network, a bridge, can't be made",
		"fix:   apt-get install iptables",
		"not ready: 1 missing",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the report lacks %q\n%s", want, r)
		}
	}
}

// rootlessCheck runs `minimal-docker check` as the CI user (testenv.RootlessUser.Command),
// from copies of the binaries it can reach, with PATH as given ("" keeps
// the user's), and TMPDIR a directory of the user's that must stay empty.
func rootlessCheck(t *testing.T, path string) result {
	t.Helper()
	u := testenv.RequireRootlessUser(t)
	track(t)
	shared := testenv.SharedDir(t)
	bin, err := testenv.CopyExecutable(shared, env.bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.CopyExecutable(shared, filepath.Join(filepath.Dir(env.bin), "minimal-docker-helper")); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(shared, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tmp, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), env.timeout)
	defer cancel()
	cmd := u.CommandContext(ctx, bin, "check")
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	if path != "" {
		cmd.Env = append(cmd.Env, "PATH="+path)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := result{args: cmd.Args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("check as the CI user: %v\n%s", err, r)
	}
	wantEmptyDir(t, tmp)
	return r
}

// TestCheckRootless: as the CI user (made by scripts/host-setup.sh), check
// sees its subordinate ranges, makes a user namespace and mounts an
// overlay in one, needs no CNI, and says ready.
func TestCheckRootless(t *testing.T) {
	r := rootlessCheck(t, "")
	r.wantExit(t, 0)
	wantAreas(t, r.stdout)
	for _, want := range []string{
		"minimal-docker check for " + testenv.RootlessUserName + " (uid ",
		"), rootless",
		"unprivileged user namespaces  allowed: a user namespace was made",
		"/etc/subuid                   200000-265535 (65536 ids; a container's root is uid 200000 on the host)",
		"/etc/subgid                   200000-265535 (65536 ids; a container's root is gid 200000 on the host)",
		"(setuid root)",
		"(not used by rootless containers",
		"ready: minimal-docker run works for " + testenv.RootlessUserName,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the report lacks %q\n%s", want, r)
		}
	}
}

// TestCheckRootlessMissing: without pasta and slirp4netns (out of PATH) a
// rootless container has no network: MISSING, exit 1, with the fix.
func TestCheckRootlessMissing(t *testing.T) {
	r := rootlessCheck(t, "/nonexistent")
	r.wantExit(t, 1)
	for _, want := range []string{
		"MISSING slirp4netns/pasta",
		"fix:   apt-get install passt (pasta) or slirp4netns",
		"note    newuidmap",
		"not ready:",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the report lacks %q\n%s", want, r)
		}
	}
}
