package rootless

import (
	"archive/tar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestPodmanRootless: Podman run by the user with --runtime pointing to
// minimal-runc passes the Docker-like checks of tests/interop (run --rm
// echo, with seccomp=unconfined too, the exit status, run -d, exec, kill
// and wait, rm; not pause: Podman refuses it rootless without a
// delegated cgroup), and nothing of the containers is left.
func TestPodmanRootless(t *testing.T) {
	h := newHome(t)
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skipf("no podman: %v", err)
	}
	conf := filepath.Join(h.dir, "storage.conf")
	storage := "[storage]\ndriver = \"vfs\"\ngraphroot = \"" + filepath.Join(h.dir, "pstore") + "\"\nrunroot = \"" + filepath.Join(h.dir, "run", "pstore") + "\"\n"
	if err := os.WriteFile(conf, []byte(storage), 0o644); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(h.dir, "rootfs.tar")
	writeRootfsTar(t, archive)
	extra := []string{"CONTAINERS_STORAGE_CONF=" + conf}
	p := func(args ...string) result {
		t.Helper()
		return h.runAs(t, extra, podman, append([]string{"--runtime", env.runc, "--cgroup-manager", "cgroupfs", "--events-backend", "file"}, args...)...)
	}
	t.Cleanup(func() { stopPause(t, h) })

	if r := p("import", archive, "localhost/rootless-bb:1"); r.code != 0 {
		t.Fatalf("podman import:\n%s", r)
	}
	for _, flags := range [][]string{nil, {"--security-opt", "seccomp=unconfined"}} {
		r := p(append(append([]string{"run", "--rm", "--network", "none"}, flags...), "localhost/rootless-bb:1", "echo", "hello")...)
		r.wantExit(t, 0)
		if strings.TrimSpace(r.stdout) != "hello" {
			t.Errorf("run echo hello %v: %q\n%s", flags, r.stdout, r)
		}
	}
	r := p("run", "--rm", "--network", "none", "localhost/rootless-bb:1", "sh", "-c", "exit 3")
	r.wantExit(t, 3)
	r = p("run", "-d", "--network", "none", "--name", "detached", "localhost/rootless-bb:1", "sleep", "1000")
	r.wantExit(t, 0)
	r = p("exec", "detached", "echo", "hi")
	r.wantExit(t, 0)
	if strings.TrimSpace(r.stdout) != "hi" {
		t.Errorf("exec echo hi: %q\n%s", r.stdout, r)
	}
	p("kill", "detached").wantExit(t, 0)
	r = p("wait", "detached")
	r.wantExit(t, 0)
	if strings.TrimSpace(r.stdout) != "137" {
		t.Errorf("wait after kill: %q, want 137\n%s", r.stdout, r)
	}
	p("rm", "detached").wantExit(t, 0)
	if r := p("ps", "-a", "-q"); r.code != 0 || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("ps -a -q after rm:\n%s", r)
	}
	// minimal-runc's state (rootless: $XDG_RUNTIME_DIR/minimal-runc, or
	// where Podman's --root put it) holds no container.
	for _, dir := range []string{filepath.Join(h.dir, "run", "minimal-runc")} {
		if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
			t.Errorf("%s left: %v", dir, ents)
		}
	}
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
