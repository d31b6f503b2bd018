package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// execBundle runs `sleep 1000` detached as container id, with the
// hostname exec-host, and returns its bundle and its init's pid.
func execBundle(t *testing.T, id string) (*ociBundle, int) {
	t.Helper()
	b := newBundle(t, "sleep", "1000")
	b.edit(t, func(s *specs.Spec) { s.Hostname = "exec-host" })
	runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
	st := b.state(t, id)
	if st.Status != specs.StateRunning {
		t.Fatalf("state after run -d = %s", st.Status)
	}
	return b, st.Pid
}

// execIn runs `minimal-runc exec ARGS`.
func execIn(t *testing.T, b *ociBundle, args ...string) result {
	t.Helper()
	return runc(t, b, append([]string{"exec"}, args...)...)
}

// writeProcess writes p as a process file for exec --process into the
// bundle's directory, and returns its path.
func (b *ociBundle) writeProcess(t *testing.T, name string, p *specs.Process) string {
	t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(b.dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRuncExec: processes exec'd into a running container share its
// namespaces (hostname, pid namespace, root) and its cgroup, and their exit
// status comes back.
func TestRuncExec(t *testing.T) {
	b, _ := execBundle(t, "ex")
	processFile := b.writeProcess(t, "process.json", &specs.Process{
		Args: []string{"sh", "-c", `echo "$GREETING from $(pwd) as $(id -u):$(id -g)"`},
		Env:  []string{"PATH=/bin:/usr/bin", "GREETING=hello"},
		Cwd:  "/etc",
		User: specs.User{UID: 1000, GID: 1001},
	})

	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		check func(t *testing.T, r result)
	}{
		{name: "hostname", args: []string{"ex", "hostname"}, check: func(t *testing.T, r result) {
			if got := strings.TrimSpace(r.stdout); got != "exec-host" {
				t.Errorf("hostname = %q, want the container's exec-host", got)
			}
		}},
		{name: "pid namespace", args: []string{"ex", "sh", "-c", "echo $$; ps"}, check: func(t *testing.T, r result) {
			lines := r.lines()
			pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
			if err != nil || pid <= 1 || pid > 200 {
				t.Errorf("exec'd pid = %q, want a small pid in the container's namespace", lines[0])
			}
			if !strings.Contains(r.stdout, "sleep 1000") {
				t.Errorf("ps does not show the container's sleep 1000\n%s", r)
			}
			// The header, sleep, sh and ps: no host process.
			if len(lines) > 6 {
				t.Errorf("ps sees %d lines: more than the container's processes\n%s", len(lines), r)
			}
		}},
		{name: "root", args: []string{"ex", "ls", "/bin/probe"}, check: func(t *testing.T, r result) {
			if strings.TrimSpace(r.stdout) != "/bin/probe" {
				t.Errorf("the container's root is not the exec'd process's root\n%s", r)
			}
		}},
		{name: "cgroup", args: []string{"ex", "sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup"}, check: func(t *testing.T, r result) {
			self, init, ok := strings.Cut(r.stdout, "--\n")
			if !ok || self == "" || self != init {
				t.Errorf("the exec'd process's cgroups differ from the init's\n%s", r)
			}
		}},
		{name: "exit status", args: []string{"ex", "sh", "-c", "exit 5"}, code: 5},
		{name: "killed by a signal", args: []string{"ex", "sh", "-c", "kill -TERM $$"}, code: 128 + int(syscall.SIGTERM)},
		{name: "not found", args: []string{"ex", "no-such-command"}, code: 127, check: func(t *testing.T, r result) {
			r.wantStderr(t, "no-such-command")
		}},
		{name: "not executable", args: []string{"ex", notExecutable}, code: 126},
		{name: "config env", args: []string{"ex", "sh", "-c", "echo $TERM"}, check: func(t *testing.T, r result) {
			if strings.TrimSpace(r.stdout) != "xterm" {
				t.Errorf("TERM = %q, want config.json's xterm", r.stdout)
			}
		}},
		{name: "env cwd user", args: []string{"--env", "FOO=bar", "--env", "TERM=dumb", "--cwd", "/tmp", "--user", "1000", "ex", "sh", "-c", "echo $FOO $TERM; pwd; id -u"},
			check: func(t *testing.T, r result) {
				if want := []string{"bar dumb", "/tmp", "1000"}; strings.Join(r.lines(), "|") != strings.Join(want, "|") {
					t.Errorf("output = %q, want %q", r.lines(), want)
				}
			}},
		{name: "process file", args: []string{"--process", processFile, "ex"}, check: func(t *testing.T, r result) {
			if got := strings.TrimSpace(r.stdout); got != "hello from /etc as 1000:1001" {
				t.Errorf("output = %q", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := execIn(t, b, tc.args...)
			r.wantExit(t, tc.code)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	if st := b.state(t, "ex"); st.Status != specs.StateRunning {
		t.Errorf("container is %s after the execs, want running", st.Status)
	}
	runc(t, b, "delete", "--force", "ex").wantExit(t, 0)
}

// TestRuncExecDetach: exec -d returns at once; --pid-file names the
// process in the host's pid namespace, in the container's namespaces and
// cgroup; delete --force takes it down with the container.
func TestRuncExecDetach(t *testing.T) {
	b, initPid := execBundle(t, "exd")
	pidFile := filepath.Join(b.dir, "exec.pid")
	execIn(t, b, "--detach", "--pid-file", pidFile, "exd", "sleep", "1001").wantExit(t, 0)
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("--pid-file holds %q", data)
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if got := strings.ReplaceAll(string(cmdline), "\x00", " "); got != "sleep 1001 " {
		t.Fatalf("pid %d from --pid-file runs %q, want sleep 1001", pid, got)
	}
	for _, ns := range []string{"mnt", "pid", "uts", "ipc", "net", "cgroup"} {
		want, _ := os.Readlink("/proc/" + strconv.Itoa(initPid) + "/ns/" + ns)
		got, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + ns)
		if got != want || got == "" {
			t.Errorf("%s namespace of the exec'd process = %q, init's = %q", ns, got, want)
		}
	}
	want, _ := os.ReadFile("/proc/" + strconv.Itoa(initPid) + "/cgroup")
	got, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if string(got) != string(want) {
		t.Errorf("cgroups of the exec'd process:\n%s\ninit's:\n%s", got, want)
	}

	runc(t, b, "delete", "--force", "exd").wantExit(t, 0)
	waitGone(t, pid, "sleep 1001")
}

// waitGone waits (bounded) until pid no longer runs cmd.
func waitGone(t *testing.T, pid int, cmd string) {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil || !strings.HasPrefix(strings.ReplaceAll(string(b), "\x00", " "), cmd) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d (%s) still runs %v after delete --force", pid, cmd, env.timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRuncExecSignal: a signal to a foreground exec is forwarded to the
// process, and its death by that signal comes back as 128+N.
func TestRuncExecSignal(t *testing.T) {
	b, _ := execBundle(t, "exs")
	pidFile := filepath.Join(b.dir, "exec.pid")
	p := startProc(t, false, func(c *exec.Cmd) {
		c.Path = env.runc
		c.Args = append([]string{env.runc, "--root", b.root}, c.Args[1:]...)
	}, []string{"exec", "--pid-file", pidFile, "exs", "sleep", "1002"})
	deadline := time.Now().Add(env.timeout)
	for {
		if _, err := os.Stat(pidFile); err == nil {
			break
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("no --pid-file from a foreground exec\n%s", p.wait(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.wait(t).wantExit(t, 128+int(syscall.SIGTERM))
	runc(t, b, "delete", "--force", "exs").wantExit(t, 0)
}

// TestRuncExecErrors: exec into what is not running, and bad flags, fail
// clearly and leave nothing.
func TestRuncExecErrors(t *testing.T) {
	b, _ := execBundle(t, "exe")
	// A stopped container: its init was killed.
	runc(t, b, "create", "--bundle", b.dir, "stopped").wantExit(t, 0)
	runc(t, b, "kill", "stopped", "KILL").wantExit(t, 0)
	b.waitStatus(t, "stopped", specs.StateStopped)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing container", []string{"nope", "true"}, "does not exist"},
		{"stopped container", []string{"stopped", "true"}, "not running"},
		{"no command", []string{"exe"}, "COMMAND"},
		{"process and command", []string{"--process", "/dev/null", "exe", "true"}, "not both"},
		{"bad process file", []string{"--process", filepath.Join(b.dir, "missing.json"), "exe"}, "--process"},
		{"bad user", []string{"--user", "nobody", "exe", "true"}, "--user"},
		{"relative cwd", []string{"--cwd", "tmp", "exe", "true"}, "absolute"},
		{"missing cwd", []string{"--cwd", "/no/such/dir", "exe", "true"}, "/no/such/dir"},
		{"tty detached without a console socket", []string{"--detach", "--tty", "exe", "true"}, "--console-socket"},
		{"console socket without tty", []string{"--console-socket", "/tmp/s", "exe", "true"}, "no terminal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := execIn(t, b, tc.args...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want a failure naming %q\n%s", tc.want, r)
			}
		})
	}
	if st := b.state(t, "exe"); st.Status != specs.StateRunning {
		t.Errorf("container is %s after the failed execs, want running", st.Status)
	}
}

// TestRuncExecConfigProcessLimits: an exec'd process gets the config's
// capabilities, no_new_privs and rlimits, as the container's own process
// does, not the runtime's full root powers.
func TestRuncExecConfigProcessLimits(t *testing.T) {
	id := uniqueName("execcaps")
	b := newBundle(t, "sleep", "1000")
	chown := []string{"CAP_CHOWN"}
	b.edit(t, func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: chown, Effective: chown, Permitted: chown}
		s.Process.NoNewPrivileges = true
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 512, Soft: 256}}
	})
	runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
	r := execIn(t, b, id, "sh", "-c", "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; ulimit -n")
	r.wantExit(t, 0)
	for _, want := range []string{"CapEff:\t0000000000000001", "CapBnd:\t0000000000000001", "NoNewPrivs:\t1", "256"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("exec'd process: want %q\n%s", want, r)
		}
	}
}
