package rootless

import (
	"archive/tar"
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

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
	"github.com/minimal-docker/minimal-docker/tests/internal/dockerlike"
)

// TestPodmanRootless: Podman run by the user with --runtime pointing to
// minimal-runc passes the Docker-like checks of the root lane
// (tests/interop's TestPodman: the same table, dockerlike.PodmanChecks),
// and runc as the control passes them too, as there: load (an import of
// the suite's busybox rootfs), run --rm echo (with seccomp=unconfined
// too), the exit status, inspect naming the runtime, run -d, exec,
// pause/unpause, kill and wait, rm; then nothing of the containers is
// left (no-leftovers: no process of the user or its range, no runtime
// state). pause-unpause skips, saying why, where the user has no
// delegated cgroup v2: rootless Podman runs its containers without
// cgroups there and refuses to pause them.
func TestPodmanRootless(t *testing.T) {
	testenv.RequireRoot(t)
	if env.skip != "" {
		t.Skip(env.skip)
	}
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skipf("no podman: %v", err)
	}
	control := os.Getenv("MD_CONTROL_RUNC")
	if control == "" {
		if control, err = exec.LookPath("runc"); err != nil {
			t.Skip("no runc on PATH for the control (apt-get install runc, or set MD_CONTROL_RUNC)")
		}
	}
	skipPause := pauseSkip()
	start := time.Now()
	runtimes := []string{"runc", "minimal-runc"}
	t.Cleanup(func() { dockerlike.PrintResults(os.Stdout, "tests/rootless", time.Since(start), runtimes) })
	for i, path := range []string{control, env.runc} {
		t.Run(runtimes[i], func(t *testing.T) {
			h := newHome(t)
			p := &rootlessPodman{h: h, podman: podman, runtime: path, ids: map[string]string{}}
			p.s = dockerlike.NewSuite(t, "podman", runtimes[i], dockerlike.Runner{Attr: testenv.AsUser(h.uid, h.gid), Timeout: env.timeout})
			p.s.Check("configure", nil, func(t *testing.T) error { return p.configure() })
			dockerlike.PodmanChecks(p.s, p, skipPause)
			// Runs whatever failed before (its Podman's pause process too).
			p.s.Check(dockerlike.CheckNoLeftovers, nil, p.teardown)
		})
	}
}

// pauseSkip is why pause-unpause can't hold rootless here ("" where it
// can): rootless Podman pauses only with a cgroup v2 delegated to the
// user (the cgroup the user's commands start in, this process's,
// owned by the user).
func pauseSkip() string {
	h, err := cgroups.FindHierarchies()
	if err != nil {
		return fmt.Sprintf("no cgroup hierarchies found (%v): rootless Podman can't pause", err)
	}
	if h.Mode != cgroups.V2 {
		return fmt.Sprintf("cgroup mode %v: rootless Podman pauses only on cgroup v2, with a cgroup delegated to the user", h.Mode)
	}
	self, err := cgroups.SelfPaths()
	if err != nil {
		return fmt.Sprintf("no cgroup of this process (%v): rootless Podman can't pause", err)
	}
	dir := filepath.Join(h.Unified, self[""])
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return fmt.Sprintf("the cgroup the user's commands start in: %v", err)
	}
	if st.Uid != uint32(env.uid) {
		return fmt.Sprintf("no cgroup delegated to %s (%s belongs to uid %d): rootless Podman runs its containers without cgroups and can't pause them",
			UserName, dir, st.Uid)
	}
	return ""
}

// rootlessPodman is Podman run by the user, its store, run root and
// configuration in the user's home, with one runtime (dockerlike.Podman).
type rootlessPodman struct {
	s       *dockerlike.Suite
	h       *home
	podman  string
	runtime string
	env     []string
	ids     map[string]string
	started time.Time
}

// image is the name the rootfs is imported as.
const image = "localhost/rootless-bb:1"

// configure writes storage.conf (vfs, beneath the home) and makes the
// environment of Podman's commands.
func (p *rootlessPodman) configure() error {
	conf := filepath.Join(p.h.dir, "storage.conf")
	storage := fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n",
		filepath.Join(p.h.dir, "pstore"), filepath.Join(p.h.dir, "run", "pstore"))
	if err := os.WriteFile(conf, []byte(storage), 0o644); err != nil {
		return err
	}
	p.env = append(slices.Clone(p.h.env), "CONTAINERS_STORAGE_CONF="+conf)
	p.s.Runner.Env = p.env
	p.started = time.Now()
	return nil
}

func (p *rootlessPodman) globalArgs() []string {
	return []string{p.podman, "--runtime", p.runtime, "--cgroup-manager", "cgroupfs", "--events-backend", "file"}
}

// CLI runs podman as the user.
func (p *rootlessPodman) CLI(args ...string) dockerlike.Result {
	return p.s.Run(dockerlike.LabelFor("podman", args), append(p.globalArgs(), args...)...)
}

// Load imports the suite's busybox rootfs (a tar the user reads).
func (p *rootlessPodman) Load(t *testing.T) error {
	archive := filepath.Join(p.h.dir, "rootfs.tar")
	writeRootfsTar(t, archive)
	if r := p.CLI("import", archive, image); r.Code != 0 {
		return r.Failure()
	}
	return nil
}

// RunArgs is `run --network none --pull never FLAGS... IMAGE ARGS...`
// (no --cgroup-parent: the user has no cgroup of its own to give).
func (p *rootlessPodman) RunArgs(args ...string) []string {
	return dockerlike.RunArgv([]string{"run", "--network", "none", "--pull", "never"}, image, args)
}

// WithLog: Podman has no daemon, hence no log to add.
func (p *rootlessPodman) WithLog(err error) error { return err }

func (p *rootlessPodman) ID(name string) string { return p.ids[name] }

func (p *rootlessPodman) SetID(name, id string) { p.ids[name] = id }

func (p *rootlessPodman) RuntimePath() string { return p.runtime }

// RuntimeState: rootless Podman gives the runtime the --root
// $XDG_RUNTIME_DIR/NAME (NAME the runtime's base name).
func (p *rootlessPodman) RuntimeState(id string) (string, bool) {
	path := filepath.Join(p.stateRoot(), id)
	_, err := os.Stat(path)
	return path, err == nil
}

func (p *rootlessPodman) stateRoot() string {
	return filepath.Join(p.h.dir, "run", filepath.Base(p.runtime))
}

// CgroupGone: without a delegated cgroup rootless Podman makes none; with
// one, what is left of the user's is found by the leftover check.
func (p *rootlessPodman) CgroupGone(string) error { return nil }

// WantStatus polls podman inspect until the container has status.
func (p *rootlessPodman) WantStatus(name, status string) error {
	var last dockerlike.Result
	err := dockerlike.Poll(env.timeout, func() error {
		last = p.s.Runner.Run("podman inspect", append(p.globalArgs(), "inspect", "--format", "{{.State.Status}}", name)...)
		if last.Out() != status {
			return fmt.Errorf("container %s is %q, want %q", name, last.Out(), status)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%v (after %v)\n%s", err, env.timeout, last)
	}
	return nil
}

// teardown removes every container, ends Podman's pause process, and
// fails for what is left: processes of the user or its range, the
// runtime's state of a container.
func (p *rootlessPodman) teardown(t *testing.T) error {
	var errs dockerlike.ErrList
	if p.env != nil && p.s.Stalled() == "" {
		if r := p.s.Runner.Run("podman rm", append(p.globalArgs(), "rm", "--all", "--force", "--time", "0")...); r.Code != 0 {
			errs.Add("%v", r.Failure())
		}
	}
	stopPause(t, p.h)
	if left := userProcs(); len(left) > 0 {
		var what []string
		for _, pid := range left {
			b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
			what = append(what, fmt.Sprintf("%d (%s)", pid, strings.Join(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), " ")))
		}
		errs.Add("processes of %s or its range left: %s", UserName, strings.Join(what, ", "))
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if ents, err := os.ReadDir(p.stateRoot()); err == nil && len(ents) > 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		errs.Add("runtime state left in %s: %v", p.stateRoot(), names)
	}
	return errs.Err()
}

// writeRootfsTar writes the suite's busybox rootfs as a tar at path,
// for the user to import.
func writeRootfsTar(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	if err := testenv.WriteTar(tw, env.base, ""); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, env.uid, env.gid); err != nil {
		t.Fatal(err)
	}
}

// stopPause kills the pause process that Podman rootless keeps (its
// user namespace's holder), by the pid in its file.
func stopPause(t *testing.T, h *home) {
	var matches []string
	_ = filepath.Walk(h.dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "pause.pid" {
			matches = append(matches, p)
		}
		return nil
	})
	if len(matches) == 0 {
		t.Logf("no pause.pid of Podman's under %s", h.dir)
	}
	for _, m := range matches {
		t.Logf("Podman's pause process: %s", m)
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
