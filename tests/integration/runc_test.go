package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ociBundle is a bundle made with `minimal-runc spec` whose root is the
// shared rootfs, with args and no terminal, and a private --root for state.
type ociBundle struct {
	dir, root string
	out       string // file that receives the containers' stdout and stderr
}

func newBundle(t *testing.T, args ...string) *ociBundle {
	t.Helper()
	track(t)
	b := &ociBundle{dir: t.TempDir(), root: t.TempDir()}
	b.out = filepath.Join(b.dir, "output")
	runc(t, b, "spec", "--bundle", b.dir).wantExit(t, 0)
	b.edit(t, func(s *specs.Spec) {
		s.Root.Path = env.rootfs
		s.Process.Terminal = false
		s.Process.Args = args
	})
	// Whatever a failing test leaves: kill and delete it (by ID, in our
	// private state root), before the leftover check runs.
	t.Cleanup(func() {
		ids := runc(t, b, "list", "-q")
		for _, id := range ids.lines() {
			runc(t, b, "delete", "--force", id)
		}
	})
	return b
}

// edit rewrites the bundle's config.json through f.
func (b *ociBundle) edit(t *testing.T, f func(*specs.Spec)) {
	t.Helper()
	if err := testenv.EditConfig(b.dir, f); err != nil {
		t.Fatal(err)
	}
}

// runc runs minimal-runc --root B.root ARGS to completion (bounded by
// env.timeout). Its stdout and stderr go to files, not pipes: a created
// container inherits them and would hold pipes open.
func runc(t *testing.T, b *ociBundle, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), env.timeout)
	defer cancel()
	full := append([]string{"--root", b.root}, args...)
	cmd := exec.CommandContext(ctx, env.runc, full...)
	cmd.Dir = b.dir
	out, err := os.OpenFile(b.out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	stdout, err := os.CreateTemp(b.dir, "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(stdout.Name())
	defer stdout.Close()
	errf, err := os.CreateTemp(b.dir, "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(errf.Name())
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = stdout, errf
	var before int64
	if fi, err := out.Stat(); err == nil {
		before = fi.Size()
	}
	if args[0] == "create" || args[0] == "run" && (len(args) < 2 || args[1] == "-d" || args[1] == "--detach") {
		// The container keeps these: give it the shared output file.
		cmd.Stdout, cmd.Stderr = out, out
	}
	_ = cmd.Run()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	so, _ := os.ReadFile(stdout.Name())
	se, _ := os.ReadFile(errf.Name())
	if cmd.Stdout == out {
		// What this command (and the container so far) wrote, as both.
		all, _ := os.ReadFile(b.out)
		so, se = all, all[min(before, int64(len(all))):]
	}
	return result{args: full, stdout: string(so), stderr: string(se), code: code}
}

// state returns the container's OCI state.
func (b *ociBundle) state(t *testing.T, id string) specs.State {
	t.Helper()
	r := runc(t, b, "state", id)
	r.wantExit(t, 0)
	var st specs.State
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("state is not JSON: %v\n%s", err, r)
	}
	return st
}

// waitStatus polls state (bounded by env.timeout) until it is want.
func (b *ociBundle) waitStatus(t *testing.T, id string, want specs.ContainerState) specs.State {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	for {
		st := b.state(t, id)
		if st.Status == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s is %s after %v, want %s", id, st.Status, env.timeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRuncLifecycle walks create, state, start, kill, delete as an engine
// calls them, checking the state at each point and that delete leaves
// nothing (the leftover check).
func TestRuncLifecycle(t *testing.T) {
	b := newBundle(t, "sh", "-c", "echo started; exec sleep 1000")
	pidFile := filepath.Join(b.dir, "pid")
	id := uniqueName("c1")
	runc(t, b, "create", "--bundle", b.dir, "--pid-file", pidFile, id).wantExit(t, 0)

	st := b.state(t, id)
	if st.Status != specs.StateCreated || st.ID != id || st.Bundle != b.dir || st.Pid <= 0 || st.Version == "" {
		t.Fatalf("state after create = %+v", st)
	}
	pidText, err := os.ReadFile(pidFile)
	if err != nil || strings.TrimSpace(string(pidText)) != strconv.Itoa(st.Pid) {
		t.Fatalf("--pid-file holds %q (%v), state pid %d", pidText, err, st.Pid)
	}
	if out, _ := os.ReadFile(b.out); strings.Contains(string(out), "started") {
		t.Fatal("the process ran before start")
	}
	if l := runc(t, b, "list"); !strings.Contains(l.stdout, id) || !strings.Contains(l.stdout, "created") {
		t.Errorf("list does not show %s created:\n%s", id, l)
	}

	runc(t, b, "start", id).wantExit(t, 0)
	if st := b.state(t, id); st.Status != specs.StateRunning {
		t.Fatalf("state after start = %s", st.Status)
	}
	waitFile(t, b.out, "started")
	// A second start is refused.
	if r := runc(t, b, "start", id); r.code == 0 {
		t.Errorf("start of a running container succeeded\n%s", r)
	}
	// delete of a running container without --force is refused.
	r := runc(t, b, "delete", id)
	if r.code == 0 || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("delete of a running container: want refusal naming --force\n%s", r)
	}

	runc(t, b, "kill", id, "KILL").wantExit(t, 0)
	if st := b.waitStatus(t, id, specs.StateStopped); st.Pid != 0 {
		t.Errorf("stopped container reports pid %d", st.Pid)
	}
	runc(t, b, "delete", id).wantExit(t, 0)
	if r := runc(t, b, "state", id); r.code == 0 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("state after delete: want 'does not exist'\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(b.root, id)); !os.IsNotExist(err) {
		t.Errorf("state directory left after delete: %v", err)
	}
}

// TestRuncRunForeground: `run` waits and passes the exit status back.
func TestRuncRunForeground(t *testing.T) {
	b := newBundle(t, "sh", "-c", "echo hello; exit 3")
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("fg"))
	r.wantExit(t, 3)
	if !strings.Contains(r.stdout, "hello") {
		t.Errorf("output of run lacks hello\n%s", r)
	}
	if ids := runc(t, b, "list", "-q"); strings.TrimSpace(ids.stdout) != "" {
		t.Errorf("foreground run left a container: %q", ids.stdout)
	}
}

// TestRuncDetachAndForceDelete: run -d, then delete --force kills it.
func TestRuncDetachAndForceDelete(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	id := uniqueName("bg")
	runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
	if st := b.state(t, id); st.Status != specs.StateRunning {
		t.Fatalf("state after run -d = %s", st.Status)
	}
	runc(t, b, "delete", "--force", id).wantExit(t, 0)
	if ids := runc(t, b, "list", "-q"); strings.TrimSpace(ids.stdout) != "" {
		t.Errorf("delete --force left %q", ids.stdout)
	}
}

// TestRuncDeleteCreated: a created container that never started can be
// deleted (its waiting init is killed).
func TestRuncDeleteCreated(t *testing.T) {
	b := newBundle(t, "true")
	id := uniqueName("cr")
	runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
	runc(t, b, "delete", id).wantExit(t, 0)
}

// TestRuncErrors: bad input gets a clear error and a non-zero status.
func TestRuncErrors(t *testing.T) {
	b := newBundle(t, "true")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"state of a missing container", []string{"state", "nope"}, "does not exist"},
		{"kill of a missing container", []string{"kill", "nope"}, "does not exist"},
		{"bad signal", []string{"kill", "nope", "SIGNOPE"}, "invalid signal"},
		{"invalid id", []string{"create", "--bundle", b.dir, "a/b"}, "invalid"},
		{"missing bundle", []string{"create", "--bundle", filepath.Join(b.dir, "missing"), "x"}, "config.json"},
		{"systemd cgroup", []string{"--systemd-cgroup", "list"}, "--systemd-cgroup"},
		{"bad log format", []string{"--log-format", "xml", "list"}, "--log-format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runc(t, b, tc.args...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want a failure naming %q\n%s", tc.want, r)
			}
		})
	}
	if ids := runc(t, b, "list", "-q"); strings.TrimSpace(ids.stdout) != "" {
		t.Errorf("failed commands left containers: %q", ids.stdout)
	}
}

// TestRuncLogJSON: with --log-format json, an error is logged as a JSON
// line with level, msg and time (what containerd's shim reads).
func TestRuncLogJSON(t *testing.T) {
	b := newBundle(t, "true")
	log := filepath.Join(b.dir, "log.json")
	runc(t, b, "--log", log, "--log-format", "json", "state", "nope")
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]string
	if err := json.Unmarshal([]byte(strings.SplitN(string(data), "\n", 2)[0]), &line); err != nil {
		t.Fatalf("log line is not JSON: %q", data)
	}
	if line["level"] != "error" || !strings.Contains(line["msg"], "does not exist") || line["time"] == "" {
		t.Errorf("log line = %v", line)
	}
}

// waitFile waits (bounded) until the file contains want.
func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	for {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s lacks %q after %v: %q", path, want, env.timeout, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRuncDeletePausedForce: delete --force of a paused container kills
// it (a frozen process acts on SIGKILL only once thawed, on v1).
func TestRuncDeletePausedForce(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	id := uniqueName("paused")
	runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
	runc(t, b, "pause", id).wantExit(t, 0)
	if st := b.state(t, id); st.Status != statePaused {
		t.Fatalf("state after pause = %s", st.Status)
	}
	runc(t, b, "delete", "--force", id).wantExit(t, 0)
	if ids := runc(t, b, "list", "-q"); strings.TrimSpace(ids.stdout) != "" {
		t.Errorf("delete --force of a paused container left %q", ids.stdout)
	}
}

// TestRuncRefusesUnsupportedFields: a config.json field the runtime does
// not honour yet fails with its name, and nothing is left behind.
func TestRuncRefusesUnsupportedFields(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(*specs.Spec)
	}{
		{"linux.resources.rdma", func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {}}}
		}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			b := newBundle(t, "true")
			b.edit(t, tc.edit)
			r := runc(t, b, "run", "--bundle", b.dir, uniqueName("unsup"))
			if r.code == 0 || !strings.Contains(r.stderr, tc.field) {
				t.Errorf("want a failure naming %s\n%s", tc.field, r)
			}
		})
	}
}

// TestRuncCPUShares: cpu.shares (what engines send) is written, as
// cpu.shares on v1 and converted to cpu.weight on v2.
func TestRuncCPUShares(t *testing.T) {
	b := newBundle(t, "sh", "-c", "cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu.weight")
	shares := uint64(512)
	b.edit(t, func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: &shares}}
	})
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("shares"))
	r.wantExit(t, 0)
	want := "512"
	if isV2() {
		want = "20" // 1 + (512-2)*9999/262142
	}
	if got := strings.TrimSpace(r.stdout); got != want {
		t.Errorf("cpu share/weight inside = %q, want %s\n%s", got, want, r)
	}
}
