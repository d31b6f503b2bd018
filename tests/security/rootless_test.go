package security

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// The suite again, rootless (issue 18): minimal-docker run by the CI's
// unprivileged user (testenv.RootlessUser), whose containers run in a user
// namespace mapping its subordinate ids.

// rootless is what a rootless run needs: the user, and the binaries and
// the per-test directories it can reach.
type rootless struct {
	user testenv.RootlessUser
	bin  string   // minimal-docker, copied where the user can run it
	env  []string // the user's environment, with its own data and runtime directories
}

// setupRootless copies the runtime where the user can run it, gives it
// data and runtime directories of its own (removed at the end, with
// whatever its containers left in them), and opens the suite's directory
// to it for the rootfs (search only: it lists nothing there; 0700 again
// at the end).
func setupRootless(t *testing.T) rootless {
	t.Helper()
	u := testenv.RequireRootlessUser(t)
	shared := testenv.SharedDir(t)
	r := rootless{user: u}
	for _, name := range []string{"minimal-docker", "minimal-docker-helper", "minimal-docker-monitor"} {
		p, err := testenv.CopyExecutable(shared, filepath.Join(filepath.Dir(env.bin), name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "minimal-docker" {
			r.bin = p
		}
	}
	data, run := filepath.Join(shared, "data"), filepath.Join(shared, "run")
	for _, d := range []string{data, run} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, u.UID, u.GID); err != nil {
			t.Fatal(err)
		}
	}
	r.env = append(u.Env(), "XDG_DATA_HOME="+data)
	for i, e := range r.env {
		if strings.HasPrefix(e, "XDG_RUNTIME_DIR=") {
			r.env[i] = "XDG_RUNTIME_DIR=" + run
		}
	}
	if err := os.Chmod(env.tmp, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Chmod(env.tmp, 0o700); err != nil {
			t.Errorf("close %s again: %v", env.tmp, err)
		}
	})
	return r
}

// runHelper is runHelper's rootless twin: /bin/escape NAME in
// `minimal-docker run --rm --network none ROOTFS`, run by the user (no
// network, as the root suite's containers: testenv.SuiteSetup).
func (r rootless) runHelper(name string) (outcome, error) {
	args := []string{"run", "--rm", "--network", "none"}
	for _, e := range helperEnv() {
		args = append(args, "-e", e)
	}
	args = append(args, env.rootfs, "/bin/escape", name)
	stdout, stderr, code, err := runCmd(func(ctx context.Context) *exec.Cmd {
		cmd := r.user.CommandContext(ctx, r.bin, args...)
		cmd.Env = r.env
		return cmd
	})
	o, found := parseOutcome(name, stdout)
	o.code = code
	o.output = fmt.Sprintf("(as %s) minimal-docker %s\nexit %d\nstdout:\n%s\nstderr:\n%s", r.user.Name, strings.Join(args, " "), code, stdout, stderr)
	if err != nil {
		return o, fmt.Errorf("%w\n%s", err, o.output)
	}
	if !found {
		o.token, o.detail = "runtime-failed", testenv.FirstLine(stderr)
	}
	return o, nil
}

// TestEscapesRootless runs every row that runs under the defaults (no
// flags of its own, no special rootfs or bundle) through a rootless
// minimal-docker. The host must not change, and no attempt may get
// through (the row's "through" outcomes, "ok" for most) unless the row
// says Docker allows it: blocked with whatever errno the user namespace
// gives (often EPERM where root's container met the device cgroup or
// seccomp first).
func TestEscapesRootless(t *testing.T) {
	requireSuite(t)
	r := setupRootless(t)
	ran := 0
	for _, row := range rows() {
		if row.run != nil || len(row.flags) > 0 {
			continue
		}
		ran++
		t.Run(row.name, func(t *testing.T) {
			if row.setup != nil {
				row.setup(t)
			}
			before := takeHostState(t, row.touches)
			o, err := r.runHelper(row.helperCase())
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range hostChanges(t, before, row.touches) {
				t.Errorf("THE HOST CHANGED: %s", d)
			}
			judgeRootless(t, o, row)
		})
	}
	if ran < 30 {
		t.Errorf("only %d rows run under the defaults", ran)
	}
}

// judgeRootless passes an attempt that did not get through: the row's
// wanted outcome, or any errno, or the kernel's own answer; a row that
// Docker allows passes as long as the helper ran (the host is checked
// apart).
func judgeRootless(t *testing.T, o outcome, r row) {
	t.Helper()
	switch o.token {
	case "refused":
		t.Fatalf("the helper refused the attempt: %s\n%s", o.detail, o.output)
	case "runtime-failed":
		t.Fatalf("the container did not run the helper: %s\n%s", o.detail, o.output)
	}
	if r.defence == "allowed" || matches(o, r.want) {
		t.Logf("as expected (%s): %s", r.defence, o)
		return
	}
	through := r.through
	if through == "" {
		through = "ok"
	}
	if matches(o, through) {
		t.Errorf("GOT THROUGH rootless: %s (as root: %q, defence %s)\n%s", o, r.want, r.defence, o.output)
		return
	}
	t.Logf("blocked rootless: %s (as root: %q by %s)", o, r.want, r.defence)
}
