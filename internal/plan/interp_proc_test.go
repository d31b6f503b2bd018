package plan

// The interpreter's process ops (plan_proc.c), run by runPlan
// (interp_test.go) against a busybox root: credentials, rlimits, the
// seccomp filter, the exec and its lookup, the tiny init, hooks, the exec
// fifo, the pids limit, the console and the fds passed on; and nsenter.c's
// child running a plan. They need root.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// list is a NUL-separated list (argv, envp), each element NUL-terminated.
func nulList(s ...string) []byte {
	var out []byte
	for _, e := range s {
		out = append(append(out, e...), 0)
	}
	return out
}

// busyboxRoot makes a busybox root filesystem in a temp dir.
func busyboxRoot(t *testing.T) string {
	t.Helper()
	testenv.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "root")
	if err := testenv.BuildBusyboxRootfs(root, "/bin/busybox", nil); err != nil {
		t.Skipf("no busybox root: %v", err)
	}
	return root
}

// rootPlan starts a plan that enters root as a container does: root bound
// on itself, its /proc mounted, out (a host dir, when set) bound on /out,
// pivot_root, cwd /.
func rootPlan(root, out string) *Plan {
	p := &Plan{}
	privateRoot(p)
	p.Add("root", OpSetRoot, nil, b(root))
	p.Add("root", OpMount, []uint64{unix.MS_BIND | unix.MS_REC, 0}, b(root), b("/"), nil, nil)
	p.Add("mounts", OpMount, []uint64{unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, FlagMkdir}, b("proc"), b("/proc"), b("proc"), nil)
	if out != "" {
		p.Add("mounts", OpMount, []uint64{unix.MS_BIND, FlagMkdir}, b(out), b("/out"), nil, nil)
	}
	p.Add("pivot_root", OpPivotRoot, nil)
	p.Add("cwd", OpChdir, []uint64{0}, b("/"))
	return p
}

// exec adds the exec of argv[0] (looked up in PATH with search).
func execOp(p *Plan, flags uint64, path string, argv ...string) {
	p.Add("exec", OpExec, []uint64{flags}, b(argv[0]), nulList(argv...), nulList("PATH="+path), b(path))
}

// statusField is a field of /proc/PID/status text.
func statusField(status, name string) string {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "(none)"
}

// TestInterpCredentials: rlimits, the bounding set, the user and groups
// (capabilities kept across the change), the capability sets and the
// umask, as the exec'd program sees them in /proc/self.
func TestInterpCredentials(t *testing.T) {
	root := busyboxRoot(t)
	const chown, kill, netBind = 1 << unix.CAP_CHOWN, 1 << unix.CAP_KILL, 1 << unix.CAP_NET_BIND_SERVICE
	groups := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 5), 6)
	p := rootPlan(root, "")
	p.Add("rlimits", OpRlimit, []uint64{unix.RLIMIT_NOFILE, 100, 200})
	p.Add("bounding-set", OpBounding, []uint64{chown | kill | netBind})
	p.Add("user", OpSetUser, []uint64{1000, 1001, 1}, groups)
	p.Add("capabilities", OpCaps, []uint64{kill | netBind, kill | netBind, netBind, netBind})
	p.Add("umask", OpUmask, []uint64{0o027})
	execOp(p, ExecSearch, "/bin", "cat", "/proc/self/status", "/proc/self/limits")
	var out bytes.Buffer
	run := runPlan(t, p, runOpt{Stdout: &out})
	if run.Status != 0 || run.Err != nil {
		t.Fatalf("status %d, error %+v, stderr %q", run.Status, run.Err, run.Stderr)
	}
	status := out.String()
	// After execve a non-root user keeps the ambient set: it is the
	// permitted and effective sets then.
	for _, f := range []struct{ name, want string }{
		{"Uid", "1000\t1000\t1000\t1000"}, {"Gid", "1001\t1001\t1001\t1001"}, {"Groups", "5 6"},
		{"CapBnd", fmt.Sprintf("%016x", chown|kill|netBind)}, {"CapInh", fmt.Sprintf("%016x", netBind)},
		{"CapPrm", fmt.Sprintf("%016x", netBind)}, {"CapEff", fmt.Sprintf("%016x", netBind)},
		{"CapAmb", fmt.Sprintf("%016x", netBind)}, {"Umask", "0027"},
	} {
		if got := statusField(status, f.name); got != f.want {
			t.Errorf("%s: %q, want %q", f.name, got, f.want)
		}
	}
	if !regexp.MustCompile(`Max open files\s+100\s+200\s`).MatchString(status) {
		t.Errorf("RLIMIT_NOFILE not 100/200:\n%s", status)
	}
}

// TestInterpCredentialFailures: what the kernel refuses is the op's error.
func TestInterpCredentialFailures(t *testing.T) {
	for _, c := range []struct {
		name   string
		add    func(p *Plan)
		errno  syscall.Errno
		detail string
	}{
		{"capset after setuid without keepcaps", func(p *Plan) {
			p.Add("user", OpSetUser, []uint64{1000, 1000, 0}, nil)
			p.Add("capabilities", OpCaps, []uint64{1 << unix.CAP_KILL, 1 << unix.CAP_KILL, 0, 0})
		}, unix.EPERM, ""},
		{"soft above hard", func(p *Plan) {
			p.Add("rlimits", OpRlimit, []uint64{unix.RLIMIT_NOFILE, 300, 200})
		}, unix.EINVAL, ""},
		{"setuid", func(p *Plan) {
			p.Add("user", OpSetUser, []uint64{1000, 1000, 0}, nil)
			p.Add("user", OpSetUser, []uint64{0, 0, 0}, nil)
		}, unix.EPERM, "setgroups"},
		// UserNoSetgroups skips setgroups: the switch back fails at the next call.
		{"setuid without setgroups", func(p *Plan) {
			p.Add("user", OpSetUser, []uint64{1000, 1000, 0}, nil)
			p.Add("user", OpSetUser, []uint64{0, 0, UserNoSetgroups}, nil)
		}, unix.EPERM, "setresgid"},
		{"groups not u32s", func(p *Plan) {
			p.Add("user", OpSetUser, []uint64{0, 0, 0}, b("12345"))
		}, unix.EINVAL, "bad list of groups (5 bytes)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			testenv.RequireRoot(t)
			p := &Plan{}
			c.add(p)
			execOp(p, 0, "", "/bin/true")
			run := runPlan(t, p, runOpt{})
			if run.Status != 125 || run.Err == nil || run.Err.Index != uint32(len(p.Ops)-2) || run.Err.Errno != c.errno || run.Err.Detail != c.detail {
				t.Errorf("status %d, error %+v; want 125, op %d %v %q", run.Status, run.Err, len(p.Ops)-2, c.errno, c.detail)
			}
		})
	}
}

// filterUnameEPERM is a seccomp program that makes uname(2) fail with
// EPERM and allows every other system call.
func filterUnameEPERM() []byte {
	ins := func(b []byte, code uint16, jt, jf uint8, k uint32) []byte {
		b = binary.NativeEndian.AppendUint16(b, code)
		b = append(b, jt, jf)
		return binary.NativeEndian.AppendUint32(b, k)
	}
	var p []byte
	p = ins(p, unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 0, 0, 0) // seccomp_data.nr
	p = ins(p, unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 0, 1, uint32(unix.SYS_UNAME))
	p = ins(p, unix.BPF_RET|unix.BPF_K, 0, 0, unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM))
	return ins(p, unix.BPF_RET|unix.BPF_K, 0, 0, unix.SECCOMP_RET_ALLOW)
}

// TestInterpSeccomp: the filter is installed and handed on by execve; a
// program that is not whole instructions is refused.
func TestInterpSeccomp(t *testing.T) {
	root := busyboxRoot(t)
	p := rootPlan(root, "")
	p.Add("hostname", OpHostname, nil, b("box"))
	p.Add("seccomp", OpSeccomp, []uint64{0}, filterUnameEPERM())
	// busybox's uname ignores uname(2)'s failure: the name is empty.
	execOp(p, ExecSearch, "/bin", "sh", "-c", "echo \"[$(uname -n)]\"; grep Seccomp: /proc/self/status")
	var out bytes.Buffer
	run := runPlan(t, p, runOpt{Stdout: &out})
	if run.Status != 0 || run.Err != nil || out.String() != "[]\nSeccomp:\t2\n" {
		t.Errorf("under the filter: status %d, error %+v, output %q; want uname(2) refused, seccomp mode 2", run.Status, run.Err, out.String())
	}

	p = &Plan{}
	p.Add("seccomp", OpSeccomp, []uint64{0}, filterUnameEPERM()[:15])
	execOp(p, 0, "", "/bin/true")
	run = runPlan(t, p, runOpt{})
	if run.Status != 125 || run.Err == nil || run.Err.Errno != unix.EINVAL || !strings.Contains(run.Err.Detail, "bad program of 15 bytes") {
		t.Errorf("a program of 15 bytes: status %d, error %+v; want 125, EINVAL", run.Status, run.Err)
	}
}

// TestInterpExec: the command found in PATH, by its path, or not: not
// found is exit 127 (CauseNotFound), found but not executable 126
// (CauseNotExecutable), as rootfs.LookPath tells them.
func TestInterpExec(t *testing.T) {
	root := busyboxRoot(t)
	mustWrite(t, root+"/etc/notexec", "#!/bin/sh\n")
	for _, c := range []struct {
		name   string
		flags  uint64
		path   string
		argv   []string
		status int
		cause  uint8
		errno  syscall.Errno
		detail string
	}{
		{"in PATH", ExecSearch, "/nonexistent:/bin", []string{"sh", "-c", "exit 3"}, 3, 0, 0, ""},
		{"empty PATH entry is the cwd", ExecSearch, "/nonexistent::", []string{"bin/sh", "-c", "exit 4"}, 4, 0, 0, ""},
		{"a path relative to the cwd", ExecSearch, "", []string{"./bin/sh", "-c", "exit 5"}, 5, 0, 0, ""},
		{"not in PATH", ExecSearch, "/bin:/usr/bin", []string{"nosuch"}, 127, CauseNotFound, unix.ENOENT, `executable file not found in $PATH: "nosuch"`},
		{"a path not found", ExecSearch, "/bin", []string{"/bin/nosuch"}, 127, CauseNotFound, unix.ENOENT, `"/bin/nosuch": executable file not found`},
		{"in PATH, not executable", ExecSearch, "/etc", []string{"notexec"}, 126, CauseNotExecutable, unix.EACCES, `"notexec": permission denied: not an executable file`},
		{"a directory", ExecSearch, "/", []string{"etc"}, 126, CauseNotExecutable, unix.EACCES, `"etc": permission denied: not an executable file`},
		{"execve: not found", 0, "", []string{"/bin/nosuch"}, 127, CauseNotFound, unix.ENOENT, `exec "/bin/nosuch": executable file not found`},
		{"execve: not executable", 0, "", []string{"/etc/notexec"}, 126, CauseNotExecutable, unix.EACCES, `exec "/etc/notexec": permission denied: not an executable file`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := rootPlan(root, "")
			execOp(p, c.flags, c.path, c.argv...)
			run := runPlan(t, p, runOpt{})
			if run.Status != c.status {
				t.Errorf("status %d, want %d (error %+v, stderr %q)", run.Status, c.status, run.Err, run.Stderr)
			}
			switch {
			case c.cause == 0 && run.Err != nil:
				t.Errorf("error %+v, want none", run.Err)
			case c.cause == 0:
			case run.Err == nil || run.Err.Index != uint32(len(p.Ops)-1) || run.Err.Cause != c.cause || run.Err.Errno != c.errno || run.Err.Detail != c.detail:
				t.Errorf("error %+v, want op %d cause %d %v %q", run.Err, len(p.Ops)-1, c.cause, c.errno, c.detail)
			}
		})
	}
}

// signalOn is a Stdout for runPlan that sends sig to *pid once the
// program has written "ready".
type signalOn struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	pid  *int
	sig  syscall.Signal
	sent bool
	// before, when set, is called with *pid just before the signal.
	before func(pid int)
}

func (s *signalOn) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(b)
	if !s.sent && strings.Contains(s.buf.String(), "ready") && *s.pid > 0 {
		s.sent = true
		if s.before != nil {
			s.before(*s.pid)
		}
		unix.Kill(*s.pid, s.sig)
	}
	return len(b), nil
}

// TestInterpTinyInit: under the tiny init the command runs as PID 1's
// child; PID 1 exits with its status (128+N for signal N), passes the
// signals it gets on, and reaps what is left to it.
func TestInterpTinyInit(t *testing.T) {
	root := busyboxRoot(t)
	for _, c := range []struct {
		name   string
		script string
		signal bool // send SIGTERM to PID 1 at "ready"
		status int
	}{
		{"exit status", `[ $$ = 2 ] && exit 7`, false, 7}, // the command is PID 2
		{"killed by a signal", `kill -TERM $$`, false, 128 + int(unix.SIGTERM)},
		{"a signal passed on", `trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done`, true, 42},
		{"orphans reaped", `sleep 0.2 & exit 9`, false, 9},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := rootPlan(root, "")
			wait := len(p.Ops)
			p.Add("start", OpWaitStart, nil)
			execOp(p, ExecSearch|ExecTinyInit, "/bin", "sh", "-c", c.script)
			pid := 0
			out := &signalOn{pid: &pid, sig: unix.SIGTERM}
			if !c.signal {
				out.sent = true
			}
			run := runPlan(t, p, runOpt{Stdout: out, At: func(p, i int) bool {
				if i == wait {
					pid = p
				}
				return true
			}})
			if run.Status != c.status || run.Err != nil {
				t.Errorf("status %d, error %+v, want %d; stderr %q", run.Status, run.Err, c.status, run.Stderr)
			}
		})
	}
	t.Run("not found", func(t *testing.T) {
		p := rootPlan(root, "")
		execOp(p, ExecTinyInit, "", "/bin/nosuch")
		run := runPlan(t, p, runOpt{})
		if run.Status != 127 || run.Err == nil || run.Err.Cause != CauseNotFound || run.Err.Errno != unix.ENOENT {
			t.Errorf("status %d, error %+v; want 127, not found", run.Status, run.Err)
		}
	})
}

// TestInterpTinyInitFds: once its child runs, the tiny init (PID 1)
// holds no fd: not the connection, nor what the setup kept open (here the
// exec fifo's directory), nor stdio (the child has its own).
func TestInterpTinyInitFds(t *testing.T) {
	root := busyboxRoot(t)
	p := rootPlan(root, "")
	p.Add("exec-fifo", OpFifoOpen, nil, []byte("/tmp"), []byte("exec.fifo")) // kept open, never waited on
	wait := len(p.Ops)
	p.Add("start", OpWaitStart, nil)
	execOp(p, ExecSearch|ExecTinyInit, "/bin", "sh", "-c", `trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done`)
	pid := 0
	var fds []string
	// The init closes its fds once its child has exec'd, which may be
	// after the child said ready: they are looked at until they are
	// gone (for at most 30 s).
	out := &signalOn{pid: &pid, sig: unix.SIGTERM, before: func(pid int) {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			fds = fds[:0]
			ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
			if err != nil {
				fds = []string{err.Error()}
			}
			for _, e := range ents {
				l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
				fds = append(fds, e.Name()+"->"+l)
			}
			if len(fds) == 0 || time.Now().After(deadline) {
				return
			}
		}
	}}
	run := runPlan(t, p, runOpt{Stdout: out, At: func(p, i int) bool {
		if i == wait {
			pid = p
		}
		return true
	}})
	if run.Status != 0 || run.Err != nil {
		t.Fatalf("status %d, error %+v, want 0; stderr %q", run.Status, run.Err, run.Stderr)
	}
	if !out.sent || len(fds) != 0 {
		t.Errorf("the tiny init's fds while its child ran: %q (seen: %v), want none", fds, out.sent)
	}
}

// TestInterpHooks: a hook gets the state on stdin and its environment; a
// failure says how it ended, with its output.
func TestInterpHooks(t *testing.T) {
	testenv.RequireRoot(t)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip(err)
	}
	out := filepath.Join(t.TempDir(), "hook")
	for _, c := range []struct {
		name    string
		timeout uint64
		path    string
		argv    []byte
		errno   syscall.Errno
		detail  string
	}{
		{"success", 0, sh, nulList("sh", "-c", `cat > `+out+`; echo " $X" >> `+out), 0, ""},
		{"exit status", 0, sh, nulList("sh", "-c", "echo boom >&2; exit 7"), unix.ECANCELED, "exit status 7: boom"},
		{"signal", 0, sh, nulList("sh", "-c", "kill -KILL $$"), unix.ECANCELED, "signal: killed"},
		{"timeout", 1, sh, nulList("sh", "-c", "echo slow; sleep 100"), unix.ETIMEDOUT, "timed out after 1s: killed: slow"},
		{"not found", 0, "/nonexistent", nil, unix.ENOENT, "execve"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &Plan{}
			p.Add("createContainer-hooks", OpHook, []uint64{c.timeout}, b(c.path), c.argv, nulList("X=1"), b(`{"id":"c1"}`))
			execOp(p, 0, "", "/bin/true")
			run := runPlan(t, p, runOpt{})
			if c.errno == 0 {
				got, _ := os.ReadFile(out)
				if run.Status != 0 || run.Err != nil || string(got) != `{"id":"c1"} 1`+"\n" {
					t.Errorf("status %d, error %+v, the hook wrote %q", run.Status, run.Err, got)
				}
				return
			}
			if run.Status != 125 || run.Err == nil || run.Err.Index != 0 || run.Err.Errno != c.errno || run.Err.Detail != c.detail {
				t.Errorf("status %d, error %+v; want 125, op 0 %v %q", run.Status, run.Err, c.errno, c.detail)
			}
		})
	}
}

// readFifo reads the exec fifo as start does, until the init's end closes.
func readFifo(t *testing.T, path string) <-chan string {
	got := make(chan string, 1)
	go func() {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0) // blocks until the init opens it
		if err != nil {
			got <- err.Error()
			return
		}
		defer unix.Close(fd)
		var msg []byte
		buf := make([]byte, 4096)
		for {
			n, err := unix.Read(fd, buf)
			if n <= 0 || err != nil {
				break
			}
			msg = append(msg, buf[:n]...)
		}
		got <- string(msg)
	}()
	return got
}

// TestInterpExecFifo: after fifo-wait the connection is closed and the
// init's word goes to the exec fifo, as start reads it: "0" before the
// exec, "1" and a startContainer hook's failure, or the failure after
// the "0".
func TestInterpExecFifo(t *testing.T) {
	testenv.RequireRoot(t)
	for _, c := range []struct {
		name   string
		hook   []byte // a startContainer hook's argv (sh), or nil
		argv   []string
		status int
		word   string
	}{
		{"exec", nil, []string{"true"}, 0, "0"},
		{"a hook fails", nulList("sh", "-c", "echo boom >&2; exit 7"), []string{"true"}, 125,
			"1init startContainer-hooks: startContainer hook #0 (/bin/sh): exit status 7: boom"},
		{"the exec fails", nil, []string{"nosuch"}, 127,
			`0init exec: nosuch: no such file or directory: executable file not found in $PATH: "nosuch"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := unix.Mkfifo(dir+"/exec.fifo", 0o600); err != nil {
				t.Fatal(err)
			}
			p := &Plan{}
			p.Add("exec-fifo", OpFifoOpen, nil, b(dir), b("exec.fifo"))
			p.Add("start", OpFifoWait, nil)
			if c.hook != nil {
				p.Add("startContainer-hooks", OpHook, []uint64{0}, b("/bin/sh"), c.hook, nil, b("{}"))
			}
			p.Add("start", OpFifoGo, nil)
			execOp(p, ExecSearch, "/bin:/usr/bin", c.argv...)
			word := readFifo(t, dir+"/exec.fifo")
			run := runPlan(t, p, runOpt{})
			select {
			case w := <-word:
				if w != c.word {
					t.Errorf("the fifo said %q, want %q", w, c.word)
				}
			case <-time.After(30 * time.Second):
				t.Error("no end of the fifo")
			}
			if run.Status != c.status || run.Err != nil {
				t.Errorf("status %d, error %+v; want %d and no Error frame", run.Status, run.Err, c.status)
			}
		})
	}
}

// TestInterpPidsLimit: the limit is written into a pids.max that holds
// "max", and one that holds a limit keeps it.
func TestInterpPidsLimit(t *testing.T) {
	testenv.RequireRoot(t)
	for _, c := range []struct{ before, after string }{{"max\n", "100"}, {"7\n", "7"}} {
		file := filepath.Join(t.TempDir(), "pids.max")
		mustWrite(t, file, c.before)
		p := &Plan{}
		p.Add("pids-max", OpPidsOpen, nil, b(file))
		p.Add("pids-max", OpPidsWrite, []uint64{100})
		execOp(p, 0, "", "/bin/true")
		run := runPlan(t, p, runOpt{})
		got, _ := os.ReadFile(file)
		if run.Status != 0 || run.Err != nil || strings.TrimSpace(string(got)) != c.after {
			t.Errorf("%q: status %d, error %+v, pids.max %q; want %q", c.before, run.Status, run.Err, got, c.after)
		}
	}
}

// TestInterpConsole: the console op makes a pty of the root's devpts the
// program's controlling terminal and stdio, sized, owned by the uid and
// bound on /dev/console, and sends its master to the parent.
func TestInterpConsole(t *testing.T) {
	root := busyboxRoot(t)
	out := t.TempDir()
	p := rootPlan(root, out)
	pivot := len(p.Ops) - 2
	dev := []Op{
		{Code: OpMount, Step: "mounts", Ints: []uint64{unix.MS_NOSUID, FlagMkdir}, Strs: [][]byte{b("tmpfs"), b("/dev"), b("tmpfs"), b("mode=755")}},
		{Code: OpMount, Step: "mounts", Ints: []uint64{unix.MS_NOSUID | unix.MS_NOEXEC, FlagMkdir}, Strs: [][]byte{b("devpts"), b("/dev/pts"), b("devpts"), b("newinstance,ptmxmode=0666,mode=0620")}},
		{Code: OpSymlink, Step: "devices", Strs: [][]byte{b("pts/ptmx"), b("/dev/ptmx")}},
	}
	p.Ops = append(p.Ops[:pivot], append(dev, p.Ops[pivot:]...)...)
	p.Add("console", OpConsole, []uint64{1000, 30, 100, ConsoleBind})
	execOp(p, ExecSearch, "/bin", "sh", "-c",
		`t=$(tty); echo "$t $(stty size) $(stat -c '%u %t:%T' $t) $(stat -c '%t:%T' /dev/console)" > /out/result`)
	run := runPlan(t, p, runOpt{})
	if run.Status != 0 || run.Err != nil {
		t.Fatalf("status %d, error %+v, stderr %q", run.Status, run.Err, run.Stderr)
	}
	if !bytes.Contains(run.Kinds, []byte{kindConsole}) || len(run.Files) != 1 {
		t.Fatalf("frames %v, %d descriptors: want a Console frame with the master", run.Kinds, len(run.Files))
	}
	if _, err := unix.IoctlGetUint32(int(run.Files[0].Fd()), unix.TIOCGPTN); err != nil {
		t.Errorf("what came is not a pty master: %v", err)
	}
	got, _ := os.ReadFile(out + "/result")
	f := strings.Fields(string(got))
	if len(f) != 6 || !strings.HasPrefix(f[0], "/dev/pts/") || f[1] != "30" || f[2] != "100" || f[3] != "1000" || f[5] != f[4] {
		t.Errorf("the program saw %q; want /dev/pts/N, 30 rows, 100 columns, owner 1000, and /dev/console the same device", got)
	}
}

// TestInterpPassFDs: the init's own descriptors are never passed on.
func TestInterpPassFDs(t *testing.T) {
	testenv.RequireRoot(t)
	p := &Plan{}
	p.Add("preserve-fds", OpPassFDs, []uint64{1}) // fd 3 is the connection (runPlan)
	execOp(p, 0, "", "/bin/true")
	run := runPlan(t, p, runOpt{})
	if run.Status != 125 || run.Err == nil || run.Err.Errno != unix.EBADF || run.Err.Detail != "fd 3, to pass on, is the init's own" {
		t.Errorf("status %d, error %+v; want 125, EBADF, fd 3 is the init's own", run.Status, run.Err)
	}
}

// TestInterpNsenterChild: with _MINIMAL_DOCKER_PLAN_FD, the child of
// nsenter.c's constructor runs the plan instead of executing anything:
// the pid comes on the pipe as before, the pipe closes, and the plan's
// exec runs without the constructor's variables or the connection.
func TestInterpNsenterChild(t *testing.T) {
	testenv.RequireRoot(t)
	out := filepath.Join(t.TempDir(), "env")
	p := &Plan{}
	p.Add("go", OpWaitGo, nil)
	p.Add("exec", OpExec, []uint64{0}, b("/bin/sh"), nulList("sh", "-c", "[ -e /proc/$$/fd/3 ] && echo fd3 >> "+out+"; env >> "+out), nulList("A=1"), nil)
	body, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.SetNonblock(fds[0], true) // pollable: read with a deadline
	conn, child := os.NewFile(uintptr(fds[0]), "parent's end"), os.NewFile(uintptr(fds[1]), "init's end")
	defer conn.Close() // on failure the child, waiting for Go, exits
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(helperPath)
	cmd.Env = []string{"_MINIMAL_DOCKER_NSENTER=", "_MINIMAL_DOCKER_NSENTER_PIPE=4", "_MINIMAL_DOCKER_PLAN_FD=3"}
	cmd.ExtraFiles = []*os.File{child, w}
	// A file, not a pipe: the child outlives the helper's process.
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	err = cmd.Start()
	child.Close()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The pid, then the end of the pipe: the child closed it before the
	// plan (the runtime reads it to its end before it sends the plan).
	r.SetReadDeadline(time.Now().Add(30 * time.Second))
	report, rerr := io.ReadAll(r)
	werr := cmd.Wait()
	if _, perr := strconv.Atoi(strings.TrimSpace(string(report))); werr != nil || rerr != nil || perr != nil {
		msg, _ := os.ReadFile(stderr.Name())
		t.Fatalf("constructor: %v, report %q (%v, %v), stderr %q", werr, report, rerr, perr, msg)
	}
	if _, err := conn.Write(append(frame(kindConfig, body), frame(kindGo, []byte("{}"))...)); err != nil {
		t.Fatal(err)
	}
	// The exec closes the connection (close-on-exec): its end is the sign.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := conn.Read(make([]byte, 64)); n != 0 || err != io.EOF {
		t.Fatalf("the child sent %d bytes (%v), want none and the end", n, err)
	}
	var env []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if env, _ = os.ReadFile(out); bytes.Contains(env, []byte("A=1")) {
			break
		}
	}
	if !bytes.Contains(env, []byte("A=1")) || bytes.Contains(env, []byte("_MINIMAL_DOCKER")) || bytes.Contains(env, []byte("fd3")) {
		t.Errorf("the exec'd program's environment %q: want A=1, no _MINIMAL_DOCKER variable and not the connection (fd 3)", env)
	}
}
