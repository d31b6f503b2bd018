package integration

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// Crash consistency: a kill -9 of each runtime command at each step that
// its debug output names. Each case starts the command with --debug
// (--log-level debug), and when the step's line appears it stops the
// command (SIGSTOP: it starts nothing more), notes every process beneath
// it, and SIGKILLs it. Then the next commands must tell the truth and
// clean up: list and state show the container as it is, delete --force
// (minimal-docker: prune) removes it, and nothing carrying its ID is left
// — cgroup directories, state directory, mounts, processes.

// debugStep is in each step line of the debug output, after the
// program's name (minimal-docker or minimal-runc).
const debugStep = ": debug: step "

// stepName returns the step a debug line names ("init (total)", "clone").
func stepName(line string) (string, bool) {
	prog, rest, ok := strings.Cut(line, debugStep)
	if !ok || (prog != "minimal-docker" && prog != "minimal-runc") {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	i := strings.LastIndexByte(rest, ' ') // before the duration
	if i < 0 {
		return "", false
	}
	return strings.TrimSpace(rest[:i]), true
}

// sameStep reports whether two step names are one step: the seccomp
// filter's is seccomp-compile on a cache miss, seccomp-cached on a hit.
func sameStep(a, b string) bool {
	if strings.HasPrefix(a, "seccomp-") && strings.HasPrefix(b, "seccomp-") {
		return true
	}
	return a == b
}

// stepNames lists the steps named in debug output, in order.
func stepNames(t *testing.T, r result) []string {
	t.Helper()
	var steps []string
	for _, line := range strings.Split(r.stderr, "\n") {
		if name, ok := stepName(line); ok {
			steps = append(steps, name)
		}
	}
	if len(steps) == 0 {
		t.Fatalf("the debug output names no step\n%s", r)
	}
	return steps
}

// noted is a process noted at a kill, held by a pidfd so that it is never
// mistaken for a later process with the same pid.
type noted struct {
	pid   int
	pidfd int
}

// exited reports whether the process has exited (a zombie has).
func (p noted) exited() bool {
	pfd := []unix.PollFd{{Fd: int32(p.pidfd), Events: unix.POLLIN}}
	n, _ := unix.Poll(pfd, 0)
	return n > 0
}

// killAt starts cmd (its stderr on a pipe, read here) and SIGKILLs it when
// the line of step appears; before the kill it stops the command and notes
// the processes beneath it. It returns them, and the command's debug
// output. A command that finishes right after the step's line (its last)
// is not killed: what it leaves is checked all the same. Whatever happens,
// the command and the noted processes are killed when the test ends.
func killAt(t *testing.T, cmd *exec.Cmd, step string) ([]noted, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		w.Close()
		r.Close()
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	w.Close()
	self, err := unix.PidfdOpen(cmd.Process.Pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	var procs []noted
	t.Cleanup(func() {
		_ = unix.PidfdSendSignal(self, unix.SIGKILL, nil, 0)
		<-done
		unix.Close(self)
		r.Close() // ends the reader
		for _, p := range procs {
			_ = unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, 0)
			unix.Close(p.pidfd)
		}
	})

	var mu sync.Mutex
	var out strings.Builder
	seen := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(r)
		once := sync.Once{}
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if name, ok := stepName(sc.Text()); ok && sameStep(name, step) {
				once.Do(func() { close(seen) })
			}
		}
	}()
	output := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }

	select {
	case <-seen:
	case <-done:
		// Its last line may still be in the pipe.
		select {
		case <-seen:
			return procs, output()
		case <-time.After(2 * time.Second):
			t.Fatalf("%s exited without naming step %q:\n%s", cmd.Args, step, output())
		}
	case <-time.After(env.timeout):
		t.Fatalf("%s did not name step %q within %v:\n%s", cmd.Args, step, env.timeout, output())
	}
	_ = unix.PidfdSendSignal(self, unix.SIGSTOP, nil, 0)
	waitStopped(cmd.Process.Pid, done)
	for _, pid := range testenv.Descendants(cmd.Process.Pid) {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // gone already
		}
		procs = append(procs, noted{pid: pid, pidfd: fd})
	}
	_ = unix.PidfdSendSignal(self, unix.SIGKILL, nil, 0)
	select {
	case <-done:
	case <-time.After(env.timeout):
		t.Fatalf("%s still runs %v after SIGKILL", cmd.Args, env.timeout)
	}
	return procs, output()
}

// waitStopped waits (a little) until the process is stopped or has exited.
func waitStopped(pid int, done <-chan struct{}) {
	for i := 0; i < 200; i++ {
		select {
		case <-done:
			return
		default:
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && (f[0] == "T" || f[0] == "Z") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkGone fails the test for each thing carrying the container's ID that
// is left: a noted process still running (given env.timeout to die), a
// cgroup directory, its state directory or any ~removing- directory under
// root, a mount whose line names the ID.
func checkGone(t *testing.T, root, id string, procs []noted) {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	for _, p := range procs {
		for !p.exited() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !p.exited() {
			t.Errorf("process %d, started by the killed command, still runs", p.pid)
		}
	}
	for _, c := range []string{"memory", "pids", "cpu", "freezer", "devices"} {
		if _, ok := env.hier.V1[c]; !ok && !isV2() {
			continue
		}
		dir := containerCgroupDir(t, c, "", id)
		if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup directory left: %s (%v)", dir, err)
		}
	}
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == id || strings.HasPrefix(e.Name(), "~removing-") {
			t.Errorf("state left under %s: %s", root, e.Name())
		}
	}
	mounts, err := testenv.ReadMountinfo()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		if strings.Contains(m.Line, id) {
			t.Errorf("mount left: %s", m.Line)
		}
	}
}

// runcCmd is minimal-runc --root B.root ARGS, to start, its stdout to the
// bundle's output file.
func runcCmd(t *testing.T, b *ociBundle, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(env.runc, append([]string{"--root", b.root}, args...)...)
	cmd.Dir = b.dir
	out, err := os.OpenFile(b.out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	cmd.Stdout = out
	return cmd
}

// stateAfterKill checks what the next commands see of a container whose
// command was killed: list shows it (if it is still there at all), and
// state reports it coherently. It returns the state; ok is false if the
// container is gone.
func stateAfterKill(t *testing.T, b *ociBundle, id string) (st specs.State, ok bool) {
	t.Helper()
	l := runc(t, b, "list", "-q")
	l.wantExit(t, 0)
	listed := false
	for _, line := range l.lines() {
		listed = listed || line == id
	}
	r := runc(t, b, "state", id)
	if !listed {
		if r.code == 0 {
			t.Errorf("state knows %s, which list does not show\n%s\n%s", id, l, r)
		}
		return st, false
	}
	r.wantExit(t, 0)
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("state is not JSON: %v\n%s", err, r)
	}
	switch st.Status {
	case specs.StateCreating, specs.StateCreated, specs.StateRunning:
		if st.Pid <= 0 {
			t.Errorf("%s with pid %d\n%s", st.Status, st.Pid, r)
		}
	case specs.StateStopped:
	default:
		t.Errorf("status %q\n%s", st.Status, r)
	}
	if st.ID != id {
		t.Errorf("state of %s says id %q", id, st.ID)
	}
	return st, true
}

// waitNot polls state until the container's status is no longer from (or
// it is gone), bounded by env.timeout.
func waitNot(t *testing.T, b *ociBundle, id string, from specs.ContainerState) specs.State {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	for {
		st, ok := stateAfterKill(t, b, id)
		if !ok || st.Status != from {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still %s after %v", id, from, env.timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKillRuncCreate: a create killed at any step leaves a container that
// list and state show, and that delete --force removes with all it had.
func TestKillRuncCreate(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	ref := uniqueName("ref")
	r := runc(t, b, "--debug", "create", "--bundle", b.dir, ref)
	r.wantExit(t, 0)
	runc(t, b, "delete", "--force", ref).wantExit(t, 0)
	// Its lines name the program that wrote them.
	if !strings.Contains(r.stderr, "minimal-runc"+debugStep) || strings.Contains(r.stderr, "minimal-docker:") {
		t.Errorf("minimal-runc's debug lines should start with minimal-runc:\n%s", r)
	}
	for _, step := range stepNames(t, r) {
		t.Run(step, func(t *testing.T) {
			id := uniqueName("kc")
			procs, _ := killAt(t, runcCmd(t, b, "--debug", "create", "--bundle", b.dir, id), step)
			if _, ok := stateAfterKill(t, b, id); !ok {
				t.Errorf("the killed create left no container %s to see", id)
			}
			runc(t, b, "delete", "--force", id).wantExit(t, 0)
			checkGone(t, b.root, id, procs)
		})
	}
}

// TestKillRuncStart: a start killed at any step leaves a state that
// follows the process — never "created" while it runs — and a second start
// fails at once.
func TestKillRuncStart(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	ref := uniqueName("ref")
	runc(t, b, "create", "--bundle", b.dir, ref).wantExit(t, 0)
	r := runc(t, b, "--debug", "start", ref)
	r.wantExit(t, 0)
	runc(t, b, "delete", "--force", ref).wantExit(t, 0)
	for _, step := range stepNames(t, r) {
		t.Run(step, func(t *testing.T) {
			id := uniqueName("ks")
			runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
			procs, _ := killAt(t, runcCmd(t, b, "--debug", "start", id), step)
			// The init was released: it runs (or died with the start's
			// pipe); the state must leave "created" behind.
			st := waitNot(t, b, id, specs.StateCreated)
			again := runc(t, b, "start", id)
			if again.code != 1 {
				t.Errorf("second start: exit %d, want 1\n%s", again.code, again)
			}
			if st.Status == specs.StateRunning && !strings.Contains(again.stderr, "container is running") {
				t.Errorf("second start of a running container does not say so\n%s", again)
			}
			runc(t, b, "delete", "--force", id).wantExit(t, 0)
			checkGone(t, b.root, id, procs)
		})
	}
}

// TestKillRuncDelete: a delete killed at any step leaves either nothing or
// a stopped container that the next delete removes.
func TestKillRuncDelete(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	ref := uniqueName("ref")
	runc(t, b, "run", "-d", "--bundle", b.dir, ref).wantExit(t, 0)
	r := runc(t, b, "--debug", "delete", "--force", ref)
	r.wantExit(t, 0)
	for _, step := range stepNames(t, r) {
		t.Run(step, func(t *testing.T) {
			id := uniqueName("kd")
			runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
			init := b.state(t, id).Pid
			fd, err := unix.PidfdOpen(init, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); unix.Close(fd) })
			procs, _ := killAt(t, runcCmd(t, b, "--debug", "delete", "--force", id), step)
			procs = append(procs, noted{pid: init, pidfd: fd})
			if st, ok := stateAfterKill(t, b, id); ok && st.Status != specs.StateStopped {
				t.Errorf("after a delete killed at %q: %s, want stopped", step, st.Status)
			}
			runc(t, b, "delete", "--force", id).wantExit(t, 0)
			checkGone(t, b.root, id, procs)
		})
	}
}

// TestKillRuncRun: a foreground run killed at any step takes its container
// with it (parent-death signal); what it recorded shows the container
// stopped, and delete --force removes it.
func TestKillRuncRun(t *testing.T) {
	b := newBundle(t, "sleep", "1")
	ref := uniqueName("ref")
	r := runc(t, b, "--debug", "run", "--bundle", b.dir, ref)
	r.wantExit(t, 0)
	for _, step := range stepNames(t, r) {
		t.Run(step, func(t *testing.T) {
			id := uniqueName("kr")
			procs, _ := killAt(t, runcCmd(t, b, "--debug", "run", "--bundle", b.dir, id), step)
			waitExited(t, procs)
			if st, ok := stateAfterKill(t, b, id); ok && st.Status != specs.StateStopped {
				t.Errorf("after a run killed at %q: %s, want stopped", step, st.Status)
			}
			runc(t, b, "delete", "--force", id).wantExit(t, 0)
			checkGone(t, b.root, id, procs)
		})
	}
}

// waitExited waits (bounded by env.timeout) until the noted processes have
// exited: those of a foreground run die with it.
func waitExited(t *testing.T, procs []noted) {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	for _, p := range procs {
		for !p.exited() {
			if time.Now().After(deadline) {
				t.Fatalf("process %d still runs %v after the run that started it was killed", p.pid, env.timeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// dockerEnv gives a minimal-docker command the store root.
func dockerEnv(root string) func(*exec.Cmd) {
	return func(c *exec.Cmd) { c.Env = append(os.Environ(), "MINIMAL_DOCKER_ROOT="+root) }
}

// TestKillDockerRun: a `minimal-docker run` killed at any step takes its
// container with it, and prune removes what it left (its cgroups and its
// record), naming the container.
func TestKillDockerRun(t *testing.T) {
	track(t)
	root := filepath.Join(t.TempDir(), "containers")
	cmdArgs := func(cid string) []string {
		return []string{"--log-level", "debug", "run", "--cidfile", cid, env.rootfs, "sleep", "1"}
	}
	ref := startProc(t, false, dockerEnv(root), cmdArgs(filepath.Join(t.TempDir(), "cid"))).wait(t)
	ref.wantExit(t, 0)
	for _, step := range stepNames(t, ref) {
		t.Run(step, func(t *testing.T) {
			t.Cleanup(func() { startProc(t, false, dockerEnv(root), []string{"prune", "-f"}).wait(t) })
			cid := filepath.Join(t.TempDir(), "cid")
			cmd := exec.Command(env.bin, cmdArgs(cid)...)
			dockerEnv(root)(cmd)
			procs, _ := killAt(t, cmd, step)
			idb, err := os.ReadFile(cid)
			if err != nil {
				t.Fatal(err)
			}
			id := string(idb)
			waitExited(t, procs)
			_, err = os.Lstat(filepath.Join(root, id))
			recorded := err == nil
			p := startProc(t, false, dockerEnv(root), []string{"prune", "-f"}).wait(t)
			p.wantExit(t, 0)
			if recorded && !strings.Contains(p.stdout, "Deleted Containers:\n"+id+"\n") {
				t.Errorf("prune does not name the container %s it removed\n%s", id, p)
			}
			if !strings.Contains(p.stdout, "Total reclaimed space:") {
				t.Errorf("prune's output is not Docker's\n%s", p)
			}
			checkGone(t, root, id, procs)
		})
	}
}

// TestNextCommandFinishesRemoval: a removal killed after it moved the
// container's directory aside (~removing-…) — here while the container
// still ran, as a foreground run killed while it removed its cgroup leaves
// it — is finished by the next command of either front door: the
// processes and cgroup the state names go, then the directory.
func TestNextCommandFinishesRemoval(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	id := uniqueName("rm")
	runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
	init := b.state(t, id).Pid
	fd, err := unix.PidfdOpen(init, 0)
	if err != nil {
		t.Fatal(err)
	}
	procs := []noted{{pid: init, pidfd: fd}}
	t.Cleanup(func() { _ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); unix.Close(fd) })
	if err := os.Rename(filepath.Join(b.root, id), filepath.Join(b.root, "~removing-killed")); err != nil {
		t.Fatal(err)
	}
	if l := runc(t, b, "list", "-q"); strings.Contains(l.stdout, id) {
		t.Errorf("list shows a container being removed\n%s", l)
	}
	checkGone(t, b.root, id, procs)

	// minimal-docker's store: a killed run's directory moved aside.
	root := filepath.Join(t.TempDir(), "containers")
	if err := os.MkdirAll(filepath.Join(root, "~removing-killed"), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "~removing-killed", "state.json"), []byte(`{"id":"x","status":"stopped"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	startProc(t, false, dockerEnv(root), []string{"prune", "-f"}).wait(t).wantExit(t, 0)
	if entries, err := os.ReadDir(root); err != nil || len(entries) != 0 {
		t.Errorf("minimal-docker left %v in its store (%v)", entries, err)
	}
}

// TestStartAfterKilledRelease plays a start killed between releasing the
// init and removing the exec fifo: the fifo is opened, the init's word
// read, and nothing else done. The state must follow the process
// (running), and a second start must fail at once.
func TestStartAfterKilledRelease(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	id := uniqueName("rel")
	runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
	fifo, err := os.Open(filepath.Join(b.root, id, "exec.fifo")) // releases the init
	if err != nil {
		t.Fatal(err)
	}
	word := make([]byte, 1)
	_, err = fifo.Read(word)
	fifo.Close()
	if err != nil || word[0] != '0' {
		t.Fatalf("the init's word: %q, %v", word, err)
	}
	if st := waitNot(t, b, id, specs.StateCreated); st.Status != specs.StateRunning {
		t.Fatalf("state after the release: %s, want running", st.Status)
	}
	r := runc(t, b, "start", id)
	if r.code != 1 || !strings.Contains(r.stderr, "container is running") {
		t.Errorf("second start: want exit 1, \"container is running\"\n%s", r)
	}
	runc(t, b, "delete", "--force", id).wantExit(t, 0)
}
