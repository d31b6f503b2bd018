package integration

// Detached containers: run -d, then ps, inspect, stop, kill, rm (and
// prune) on them, each from a store under a temporary --root, with real
// containers from the busybox rootfs and from an image imported from it.
// After rm nothing is left: no record, no name, no writable layer, no
// runtime state, no cgroup, no monitor, no mount.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	kproc "github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// detached runs `run -d ARGS...` under root, wants the full id printed,
// and removes the container (rm -f) when the test ends, even when it
// fails.
func detached(t *testing.T, root string, args ...string) string {
	t.Helper()
	r := mdi(t, root, append([]string{"run", "-d"}, args...)...)
	r.wantExit(t, 0)
	id := strings.TrimSpace(r.stdout)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("run -d printed %q, want the container's full id\n%s", id, r)
	}
	t.Cleanup(func() {
		if r := mdi(t, root, "rm", "-f", id); r.code != 0 && !strings.Contains(r.stderr, "No such container") {
			t.Errorf("cleanup: %s", r)
		}
	})
	return id
}

// inspectContainer is inspect's object of the container ref names.
func inspectContainer(t *testing.T, root, ref string) store.Container {
	t.Helper()
	r := mdi(t, root, "inspect", ref)
	r.wantExit(t, 0)
	var out []store.Container
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 {
		t.Fatalf("inspect %s: want a JSON array of one container: %v\n%s", ref, err, r)
	}
	return out[0]
}

// psStatus is the line `ps -a` shows for the container named name:
// "NAME STATUS".
func psStatus(t *testing.T, root, name string) string {
	t.Helper()
	r := mdi(t, root, "ps", "-a", "--filter", "name=^"+name+"$", "--format", "{{.Names}} {{.Status}}")
	r.wantExit(t, 0)
	return strings.TrimSpace(r.stdout)
}

// alive reports whether p is still the process recorded (a zombie is
// not: an orphan waits for its reaper, which the container's monitor no
// longer is).
func alive(p store.Process) bool {
	ok, err := kproc.Alive(p.Pid, p.StartTime)
	return err == nil && ok
}

// wantNothingLeft fails the test for anything of container c (inspected
// while it ran) left under root or on the host.
func wantNothingLeft(t *testing.T, root string, c store.Container) {
	t.Helper()
	for _, p := range []string{
		filepath.Join(root, "containers", c.ID),
		filepath.Join(root, "containers", "names", strings.TrimPrefix(c.Name, "/")),
		filepath.Join(root, "writable", c.ID),
		filepath.Join(root, "writable", c.ID+".lock"),
		filepath.Join(root, "runtime", c.ID),
	} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("left after rm: %s", p)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(root, "containers"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "~removing-") {
			t.Errorf("left in containers/: %s", e.Name())
		}
	}
	for _, p := range []store.Process{{Pid: c.State.Pid, StartTime: c.State.PidStartTime}, c.State.Monitor()} {
		if p.Pid > 0 && alive(p) {
			t.Errorf("process %d left after rm", p.Pid)
		}
	}
	for _, ctrl := range []string{"memory", "pids"} {
		if d := containerCgroupDir(t, ctrl, "", c.ID); dirExists(d) {
			t.Errorf("cgroup left after rm: %s", d)
		}
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(b), root) {
		t.Errorf("a mount under %s left after rm", root)
	}
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// TestDetachedLifecycle: run -d a busybox rootfs, see it Up in ps with its
// name, inspect its state and config, stop it (sleep as PID 1 has no
// handler for SIGTERM: the kernel drops it, and stop kills after -t),
// see Exited (137), rm it: nothing left.
func TestDetachedLifecycle(t *testing.T) {
	root := t.TempDir()
	id := detached(t, root, "--name", "web", "--label", "tier=front", env.rootfs, "sleep", "1000")

	if got := psStatus(t, root, "web"); !strings.HasPrefix(got, "web Up ") {
		t.Errorf("ps: %q, want web Up ...", got)
	}
	c := inspectContainer(t, root, "web")
	if c.ID != id || c.Name != "/web" || !c.State.Running || c.State.Status != store.Running || c.State.Pid <= 0 {
		t.Fatalf("inspect: Id %s Name %s State %+v; want %s, /web, running with a pid", c.ID, c.Name, c.State, id)
	}
	if c.Path != "sleep" || strings.Join(c.Args, " ") != "1000" || c.Config.Labels["tier"] != "front" {
		t.Errorf("inspect: Path %q Args %q Labels %v", c.Path, c.Args, c.Config.Labels)
	}
	if ns := readNSpid(c.State.Pid); len(ns) < 2 || ns[len(ns)-1] != "1" {
		t.Errorf("State.Pid %d is not the container's PID 1 (NSpid %v)", c.State.Pid, ns)
	}
	if !alive(c.State.Monitor()) {
		t.Errorf("no live monitor recorded: %+v", c.State)
	}
	if prefix := inspectContainer(t, root, id[:8]); prefix.ID != id {
		t.Errorf("inspect by id prefix: %s", prefix.ID)
	}

	r := mdi(t, root, "stop", "-t", "1", "web")
	r.wantExit(t, 0)
	if r.stdout != "web\n" {
		t.Errorf("stop printed %q, want the name as given", r.stdout)
	}
	if got := psStatus(t, root, "web"); !strings.HasPrefix(got, "web Exited (137) ") {
		t.Errorf("ps -a after stop: %q, want web Exited (137) ...", got)
	}
	stopped := inspectContainer(t, root, id)
	if stopped.State.Running || stopped.State.ExitCode != 137 || stopped.State.FinishedAt.Before(stopped.State.StartedAt) {
		t.Errorf("inspect after stop: %+v, want exited 137 with its finish time", stopped.State)
	}
	mdi(t, root, "stop", "web").wantExit(t, 0) // a stopped one is not an error

	r = mdi(t, root, "rm", "web")
	r.wantExit(t, 0)
	if r.stdout != "web\n" {
		t.Errorf("rm printed %q, want the name as given", r.stdout)
	}
	wantNothingLeft(t, root, c)
	if r := mdi(t, root, "inspect", "web"); r.code != 1 || !strings.Contains(r.stderr, "No such object: web") {
		t.Errorf("inspect after rm: want exit 1 and No such object\n%s", r)
	}
}

// readNSpid is the NSpid line of pid's status.
func readNSpid(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "NSpid:"); ok {
			return strings.Fields(v)
		}
	}
	return nil
}

// TestDetachedImage: a detached container of an image runs on the
// image's overlay (its writes in its writable layer, kept while its record
// is, and rmi refused meanwhile), its output is in its json-file log,
// stop sends the image's STOPSIGNAL, and rm removes the writable layer.
func TestDetachedImage(t *testing.T) {
	root := t.TempDir()
	mdi(t, root, "import", "-c", "STOPSIGNAL SIGUSR1", rootfsTarball(t, t.TempDir()), "test/bb").wantExit(t, 0)
	script := `echo hello; echo oops >&2; echo w >/written; trap 'echo got usr1; exit 3' USR1; sleep 1000 & wait`
	id := detached(t, root, "--name", "app", "test/bb", "sh", "-c", script)
	c := inspectContainer(t, root, "app")
	if c.Config.StopSignal != "SIGUSR1" || !strings.HasPrefix(c.Image, "sha256:") || c.Config.Image != "test/bb" {
		t.Errorf("inspect: StopSignal %q Image %q Config.Image %q; want the image's", c.Config.StopSignal, c.Image, c.Config.Image)
	}
	upper := filepath.Join(root, "writable", id, "upper", "written")
	waitFor(t, "the container's write in its writable layer", func() bool { return fileHas(upper, "w\n") })

	// Another run sweeps the writable layers of killed runs: not this one.
	mdi(t, root, "run", "test/bb", "true").wantExit(t, 0)
	if !fileHas(upper, "w\n") {
		t.Errorf("a foreground run swept the detached container's writable layer")
	}
	if r := mdi(t, root, "rmi", "test/bb"); r.code == 0 {
		t.Errorf("rmi of the image of a detached container: want a refusal\n%s", r)
	}

	mdi(t, root, "stop", "app").wantExit(t, 0)
	after := inspectContainer(t, root, "app")
	if after.State.ExitCode != 3 {
		t.Errorf("after stop: exit code %d, want 3 (the image's STOPSIGNAL, trapped)", after.State.ExitCode)
	}
	log := readFile(t, c.LogPath)
	for _, want := range []string{`{"log":"hello\n","stream":"stdout","time":"`, `{"log":"oops\n","stream":"stderr","time":"`, `{"log":"got usr1\n","stream":"stdout"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log %s lacks %s:\n%s", c.LogPath, want, log)
		}
	}
	// logs reads that log back: stdout and stderr apart, --tail, -f of a
	// stopped container returns.
	if r := mdi(t, root, "logs", "app"); r.code != 0 || r.stdout != "hello\ngot usr1\n" || r.stderr != "oops\n" {
		t.Errorf("logs: want stdout hello, got usr1 and stderr oops\n%s", r)
	}
	if r := mdi(t, root, "logs", "-f", "--tail", "1", "app"); r.code != 0 || r.stdout != "got usr1\n" || r.stderr != "" {
		t.Errorf("logs -f --tail 1: want the last line\n%s", r)
	}
	if r := mdi(t, root, "rmi", "test/bb"); r.code == 0 {
		t.Errorf("rmi of the image of a stopped container: want a refusal, as Docker's\n%s", r)
	}
	mdi(t, root, "rm", "app").wantExit(t, 0)
	wantNothingLeft(t, root, c)
	mdi(t, root, "rmi", "test/bb").wantExit(t, 0)
}

func fileHas(p, want string) bool {
	b, err := os.ReadFile(p)
	return err == nil && string(b) == want
}

// waitFor polls cond until env.timeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v", what, env.timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDetachedStopSignal: a PID 1 with a handler for SIGTERM ends on
// stop's first signal (143), before -t; --stop-signal replaces it, and
// kill -s sends another.
func TestDetachedStopSignal(t *testing.T) {
	root := t.TempDir()
	trap := `trap 'exit 143' TERM; trap 'exit 5' USR2; sleep 1000 & wait`
	detached(t, root, "--name", "term", env.rootfs, "sh", "-c", trap)
	detached(t, root, "--name", "usr2", "--stop-signal", "USR2", env.rootfs, "sh", "-c", trap)
	detached(t, root, "--name", "killed", env.rootfs, "sh", "-c", trap)

	mdi(t, root, "stop", "-t", "60", "term", "usr2").wantExit(t, 0)
	if got := psStatus(t, root, "term"); !strings.HasPrefix(got, "term Exited (143) ") {
		t.Errorf("ps -a: %q, want Exited (143): SIGTERM, trapped", got)
	}
	if got := psStatus(t, root, "usr2"); !strings.HasPrefix(got, "usr2 Exited (5) ") {
		t.Errorf("ps -a: %q, want Exited (5): --stop-signal USR2, trapped", got)
	}
	r := mdi(t, root, "kill", "killed")
	r.wantExit(t, 0)
	if got := psStatus(t, root, "killed"); !strings.HasPrefix(got, "killed Exited (137) ") {
		t.Errorf("ps -a after kill: %q, want Exited (137)", got)
	}
	if r := mdi(t, root, "kill", "killed"); r.code != 1 || !strings.Contains(r.stderr, "is not running") {
		t.Errorf("kill of a stopped container: want exit 1, not running\n%s", r)
	}
	r = mdi(t, root, "prune", "-f")
	r.wantExit(t, 0)
	if n := len(mdi(t, root, "ps", "-a", "-q").lines()); n != 0 {
		t.Errorf("prune left %d containers\n%s", n, r)
	}
}

// TestDetachedNameTaken: a second container of a taken name is refused
// (125, Docker's words) and leaves nothing; rm of a running container is
// refused without -f.
func TestDetachedNameTaken(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "--name", "same", env.rootfs, "sleep", "1000")
	r := mdi(t, root, "run", "-d", "--name", "same", env.rootfs, "sleep", "1000")
	r.wantExit(t, 125)
	r.wantStderr(t, `name "same" is already in use`)
	if n := len(mdi(t, root, "ps", "-a", "-q").lines()); n != 1 {
		t.Errorf("ps -a lists %d containers, want the first only", n)
	}
	r = mdi(t, root, "rm", "same")
	r.wantExit(t, 1)
	r.wantStderr(t, `cannot remove container "/same": container is running: stop the container before removing or force remove`)
}

// TestDetachedMonitorKilled: with its monitor killed, ps tells the truth
// (Up while the process lives, Exited (255) once it is gone: no exit
// record), and rm -f leaves nothing, the process killed. With the monitor
// alive, a kill -9 of the container's PID 1 is Exited (137), as the
// kernel told the monitor.
func TestDetachedMonitorKilled(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "--name", "pid1", env.rootfs, "sleep", "1000")
	c := inspectContainer(t, root, "pid1")
	if err := syscall.Kill(c.State.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 the container's PID 1 %d: %v", c.State.Pid, err)
	}
	waitFor(t, "ps -a showing pid1 Exited (137)", func() bool { return strings.HasPrefix(psStatus(t, root, "pid1"), "pid1 Exited (137) ") })
	if after := inspectContainer(t, root, "pid1"); after.State.Running || after.State.ExitCode != 137 {
		t.Errorf("inspect after kill -9 of PID 1: %+v, want exited 137", after.State)
	}
	mdi(t, root, "rm", "-f", "pid1").wantExit(t, 0)
	wantNothingLeft(t, root, c)

	detached(t, root, "--name", "orphan", env.rootfs, "sleep", "1000")
	detached(t, root, "--name", "ended", env.rootfs, "sleep", "1000")
	for _, name := range []string{"orphan", "ended"} {
		c := inspectContainer(t, root, name)
		if err := syscall.Kill(c.State.MonitorPid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 the monitor %d: %v", c.State.MonitorPid, err)
		}
		waitFor(t, "monitor's end", func() bool { return !alive(c.State.Monitor()) })
		if got := psStatus(t, root, name); !strings.HasPrefix(got, name+" Up ") {
			t.Errorf("ps -a with the monitor killed and the process alive: %q, want Up", got)
		}
		if name == "ended" {
			if err := syscall.Kill(c.State.Pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the container's end", func() bool { return !alive(store.Process{Pid: c.State.Pid, StartTime: c.State.PidStartTime}) })
			if got := psStatus(t, root, name); !strings.HasPrefix(got, name+" Exited (255) ") {
				t.Errorf("ps -a with monitor and process gone: %q, want Exited (255)", got)
			}
		}
		mdi(t, root, "rm", "-f", name).wantExit(t, 0)
		wantNothingLeft(t, root, c)
	}
}

// TestDetachedFails: a detached container that cannot start (no such
// command, with or without volumes; a flag of detached containers
// without -d) fails with Docker's status and leaves nothing (its
// anonymous volumes neither).
func TestDetachedFails(t *testing.T) {
	root := t.TempDir()
	mdi(t, root, "import", rootfsTarball(t, t.TempDir()), "test/bb").wantExit(t, 0)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no such command", []string{"run", "-d", "--name", "nocmd", env.rootfs, "nosuchcmd"}, 127, "executable file not found"},
		{"no such command in an image", []string{"run", "-d", "test/bb", "nosuchcmd"}, 127, "executable file not found"},
		{"no such command, with volumes", []string{"run", "-d", "-v", "/anon", "--mount", "type=volume,target=/m", ownRootfs(t), "nosuchcmd"}, 127, "executable file not found"},
		{"--name without -d", []string{"run", "--name", "fg", env.rootfs, "true"}, 125, "--name: only with -d"},
		{"bad --log-opt", []string{"run", "-d", "--log-opt", "max-size=lots", env.rootfs, "true"}, 125, "invalid --log-opt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mdi(t, root, c.args...)
			r.wantExit(t, c.code)
			r.wantStderr(t, c.want)
			if n := len(mdi(t, root, "ps", "-a", "-q").lines()); n != 0 {
				t.Errorf("ps -a lists %d containers", n)
			}
			for _, dir := range []string{"writable", "runtime", "volumes"} {
				if entries, _ := os.ReadDir(filepath.Join(root, dir)); len(entries) != 0 {
					t.Errorf("left in %s/: %d entries", dir, len(entries))
				}
			}
			if entries, _ := os.ReadDir(filepath.Join(root, "containers")); len(entries) > 2 {
				t.Errorf("left in containers/: %d entries", len(entries))
			}
			if entries, _ := os.ReadDir(filepath.Join(root, "containers", "names")); len(entries) != 0 {
				t.Errorf("a name is left reserved")
			}
		})
	}
}

// TestDetachedExec: exec runs a command in a running detached container
// with its environment, -e, -w, -u, -i (stdin only with it) and the
// command's exit status; a command not found is 127 with the runtime's
// word; exec into a stopped container is refused (exit 1). (-u with
// names: exec_test.go.)
func TestDetachedExec(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "--name", "ex", "-e", "FROM_RUN=yes", env.rootfs, "sleep", "1000")
	for _, c := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"the container's env", []string{"ex", "sh", "-c", "echo $FROM_RUN"}, 0, "yes\n"},
		{"-e, -w and the exit status", []string{"-e", "X=1", "-w", "/tmp", "ex", "sh", "-c", "echo $X; pwd; exit 3"}, 3, "1\n/tmp\n"},
		{"-u", []string{"-u", "65534:65534", "ex", "id", "-u"}, 0, "65534\n"},
		{"flags after the container are the command's", []string{"ex", "echo", "-e", "x"}, 0, "x\n"},
		{"no such command", []string{"ex", "nosuchcmd"}, 127, ""},
		{"a user name", []string{"-u", "nobody", "ex", "id", "-u"}, 0, "65534\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mdi(t, root, append([]string{"exec"}, c.args...)...)
			if r.code != c.code || r.stdout != c.out {
				t.Errorf("want exit %d and %q\n%s", c.code, c.out, r)
			}
		})
	}
	t.Run("-i", func(t *testing.T) {
		for _, interactive := range []bool{true, false} {
			args := []string{"--root", root, "exec", "ex", "cat"}
			want := ""
			if interactive {
				args = []string{"--root", root, "exec", "-i", "ex", "cat"}
				want = "data\n"
			}
			p := startWithStdin(t, args...)
			if _, err := p.stdin.Write([]byte("data\n")); err != nil && interactive {
				t.Fatal(err)
			}
			p.stdin.Close()
			if r := p.wait(t); r.code != 0 || r.stdout != want {
				t.Errorf("exec (-i %v) cat: want %q\n%s", interactive, want, r)
			}
		}
	})
	mdi(t, root, "stop", "-t", "1", "ex").wantExit(t, 0)
	r := mdi(t, root, "exec", "ex", "true")
	r.wantExit(t, 1)
	r.wantStderr(t, "is not running")
}

// TestDetachedWait: wait blocks until each container stops and prints its
// exit code, one per line; an unknown container is an error (exit 1)
// after the others.
func TestDetachedWait(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "--name", "w5", env.rootfs, "sh", "-c", "sleep 1; exit 5")
	detached(t, root, "--name", "w0", env.rootfs, "true")
	r := mdi(t, root, "wait", "w5", "w0")
	if r.code != 0 || r.stdout != "5\n0\n" {
		t.Errorf("wait: want 5 and 0\n%s", r)
	}
	if got := psStatus(t, root, "w5"); !strings.HasPrefix(got, "w5 Exited (5)") {
		t.Errorf("ps after wait: %q, want Exited (5)", got)
	}
	r = mdi(t, root, "wait", "nosuch", "w0")
	if r.code != 1 || r.stdout != "0\n" || !strings.Contains(r.stderr, "No such container: nosuch") {
		t.Errorf("wait of an unknown and a stopped container: want 0 for the second, exit 1\n%s", r)
	}
}
