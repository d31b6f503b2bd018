package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// hookScript is run by every hook of TestRuncHooks as `sh hook.sh KIND
// DIR`: it keeps the state it got on stdin as DIR/KIND.json, the hostname
// it sees and $HOOK_ENV, and appends KIND to DIR/order. The host's sh runs
// it for the host's hooks and for createContainer (whose path resolves on
// the host, before pivot_root); busybox's, inside the container, for
// startContainer, with DIR bind-mounted at /tmp.
const hookScript = `cat > "$2/$1.json"
cat /proc/sys/kernel/hostname > "$2/$1.hostname"
echo "${HOOK_ENV:-none}" > "$2/$1.env"
echo "$1" >> "$2/order"
`

// hostSh is the host's shell, as an absolute path (hook paths must be).
func hostSh(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on the host")
	}
	p, err = filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// readLines returns the lines of a file (none if it is missing).
func readLines(path string) []string {
	b, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func readState(t *testing.T, path string) specs.State {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("hook state: %v", err)
	}
	var st specs.State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("hook's stdin %s is not the state JSON: %v: %q", path, err, b)
	}
	return st
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// TestRuncHooks: every kind of hook runs where and when the spec says, in
// order, with the state on its stdin and its env; poststop comes from the
// config as it was at create.
func TestRuncHooks(t *testing.T) {
	b := newBundle(t, "sh", "-c", "echo process >> /tmp/order; exec sleep 1000")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hook.sh"), []byte(hookScript), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := hostSh(t)
	host := func(kind string, env ...string) []specs.Hook {
		return []specs.Hook{{Path: sh, Args: []string{"sh", filepath.Join(dir, "hook.sh"), kind, dir}, Env: env}}
	}
	b.edit(t, func(s *specs.Spec) {
		s.Hostname = "hooked"
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "bind", Source: dir, Options: []string{"rbind", "rw"}})
		s.Hooks = &specs.Hooks{
			Prestart:        host("prestart"),
			CreateRuntime:   host("createRuntime", "HOOK_ENV=runtime"),
			CreateContainer: host("createContainer"),
			StartContainer:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "/tmp/hook.sh", "startContainer", "/tmp"}}},
			Poststart:       host("poststart"),
			Poststop:        host("poststop"),
		}
	})
	id := uniqueName("hooks")
	order := filepath.Join(dir, "order")
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}

	runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
	if got, want := readLines(order), []string{"prestart", "createRuntime", "createContainer"}; !slices.Equal(got, want) {
		t.Fatalf("hooks after create: %v, want %v", got, want)
	}
	st := b.state(t, id)
	for _, kind := range []string{"prestart", "createRuntime"} {
		hs := readState(t, filepath.Join(dir, kind+".json"))
		if hs.ID != id || hs.Status != specs.StateCreating || hs.Pid != st.Pid || hs.Bundle != b.dir || hs.Version == "" {
			t.Errorf("%s hook got state %+v; the init is %d", kind, hs, st.Pid)
		}
		if h := readTrim(filepath.Join(dir, kind+".hostname")); h != hostname {
			t.Errorf("%s hook ran with hostname %q, want the host's %q", kind, h, hostname)
		}
	}
	if e := readTrim(filepath.Join(dir, "createRuntime.env")); e != "runtime" {
		t.Errorf("createRuntime hook's HOOK_ENV = %q, want its env's", e)
	}
	if e := readTrim(filepath.Join(dir, "prestart.env")); e != "none" {
		t.Errorf("prestart hook's HOOK_ENV = %q, want none (not the runtime's)", e)
	}
	// createContainer: in the container's namespaces (its hostname, pid 1).
	if hs := readState(t, filepath.Join(dir, "createContainer.json")); hs.ID != id || hs.Status != specs.StateCreating || hs.Pid != 1 {
		t.Errorf("createContainer hook got state %+v", hs)
	}
	if h := readTrim(filepath.Join(dir, "createContainer.hostname")); h != "hooked" {
		t.Errorf("createContainer hook ran with hostname %q, want the container's", h)
	}

	// Edits of the bundle after create change nothing: the copy counts.
	b.edit(t, func(s *specs.Spec) { s.Hooks = nil })

	runc(t, b, "start", id).wantExit(t, 0)
	waitFile(t, order, "process")
	got := readLines(order)
	if len(got) != 6 || got[3] != "startContainer" || !slices.Contains(got[4:], "poststart") || !slices.Contains(got[4:], "process") {
		t.Fatalf("hooks after start: %v, want startContainer, then poststart and the process", got)
	}
	if hs := readState(t, filepath.Join(dir, "startContainer.json")); hs.ID != id || hs.Status != specs.StateCreated || hs.Pid != 1 {
		t.Errorf("startContainer hook got state %+v", hs)
	}
	if h := readTrim(filepath.Join(dir, "startContainer.hostname")); h != "hooked" {
		t.Errorf("startContainer hook ran with hostname %q, want the container's", h)
	}
	if hs := readState(t, filepath.Join(dir, "poststart.json")); hs.ID != id || hs.Status != specs.StateRunning || hs.Pid != st.Pid {
		t.Errorf("poststart hook got state %+v", hs)
	}

	runc(t, b, "kill", id, "KILL").wantExit(t, 0)
	b.waitStatus(t, id, specs.StateStopped)
	if slices.Contains(readLines(order), "poststop") {
		t.Fatal("poststop ran before delete")
	}
	runc(t, b, "delete", id).wantExit(t, 0)
	got = readLines(order)
	if len(got) != 7 || got[6] != "poststop" {
		t.Fatalf("hooks after delete: %v, want poststop last", got)
	}
	if hs := readState(t, filepath.Join(dir, "poststop.json")); hs.ID != id || hs.Status != specs.StateStopped || hs.Bundle != b.dir {
		t.Errorf("poststop hook got state %+v", hs)
	}
}

// TestRuncRunHooks: a foreground run runs poststart once the process
// started and poststop once it is gone.
func TestRuncRunHooks(t *testing.T) {
	b := newBundle(t, "true")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hook.sh"), []byte(hookScript), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := hostSh(t)
	b.edit(t, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			Poststart: []specs.Hook{{Path: sh, Args: []string{"sh", filepath.Join(dir, "hook.sh"), "poststart", dir}}},
			Poststop:  []specs.Hook{{Path: sh, Args: []string{"sh", filepath.Join(dir, "hook.sh"), "poststop", dir}}},
		}
	})
	runc(t, b, "run", "--bundle", b.dir, uniqueName("runhooks")).wantExit(t, 0)
	if got := readLines(filepath.Join(dir, "order")); !slices.Equal(got, []string{"poststart", "poststop"}) {
		t.Errorf("hooks of a foreground run: %v, want poststart, poststop", got)
	}
	if hs := readState(t, filepath.Join(dir, "poststop.json")); hs.Status != specs.StateStopped {
		t.Errorf("poststop hook got status %s", hs.Status)
	}
}

// TestRuncHookFailures: a failing prestart, createRuntime or
// createContainer hook fails create and leaves nothing (no container,
// state directory, cgroup or mount: the leftover check), after the
// poststop hooks ran as for a delete; a failing startContainer hook fails
// start and stops the container; failing poststart and poststop hooks are
// warnings. A hook past its timeout is killed and fails like one.
func TestRuncHookFailures(t *testing.T) {
	sh := hostSh(t)
	fail := func(path string) []specs.Hook {
		return []specs.Hook{{Path: path, Args: []string{"sh", "-c", "echo boom >&2; exit 7"}}}
	}
	slow := []specs.Hook{{Path: sh, Args: []string{"sh", "-c", "sleep 100"}, Timeout: func() *int { n := 1; return &n }()}}
	for _, tc := range []struct {
		name  string
		hooks specs.Hooks
		want  string // in the error of create (or start)
	}{
		{"prestart", specs.Hooks{Prestart: fail(sh)}, "prestart hook #0"},
		{"createRuntime", specs.Hooks{CreateRuntime: fail(sh)}, "createRuntime hook #0"},
		{"createContainer", specs.Hooks{CreateContainer: fail(sh)}, "createContainer hook #0"},
		{"createRuntime timeout", specs.Hooks{CreateRuntime: slow}, "createRuntime hook #0 (" + sh + "): timed out after 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "true")
			marker := filepath.Join(t.TempDir(), "poststop")
			b.edit(t, func(s *specs.Spec) {
				s.Hooks = &tc.hooks
				s.Hooks.Poststop = []specs.Hook{{Path: sh, Args: []string{"sh", "-c", "touch " + marker}}}
			})
			t0 := time.Now()
			r := runc(t, b, "create", "--bundle", b.dir, uniqueName("hookfail"))
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("create: want a failure naming %q\n%s", tc.want, r)
			}
			if !strings.Contains(r.stderr, "timed out") && !strings.Contains(r.stderr, "exit status 7: boom") {
				t.Errorf("create's error lacks the hook's status and output\n%s", r)
			}
			if d := time.Since(t0); d > 20*time.Second {
				t.Errorf("create took %v", d)
			}
			if ids := runc(t, b, "list", "-q"); strings.TrimSpace(ids.stdout) != "" {
				t.Errorf("failed create left %q", ids.stdout)
			}
			if entries, _ := os.ReadDir(b.root); len(entries) != 0 {
				t.Errorf("failed create left state: %v", entries)
			}
			if _, err := os.Stat(marker); err != nil {
				t.Error("poststop hooks did not run after the failed create")
			}
		})
	}

	t.Run("startContainer", func(t *testing.T) {
		b := newBundle(t, "sh", "-c", "echo should not run")
		b.edit(t, func(s *specs.Spec) { s.Hooks = &specs.Hooks{StartContainer: fail("/bin/sh")} })
		id := uniqueName("hookfail")
		runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
		r := runc(t, b, "start", id)
		if r.code == 0 || !strings.Contains(r.stderr, "startContainer hook #0 (/bin/sh): exit status 7: boom") {
			t.Fatalf("start: want the startContainer hook's failure\n%s", r)
		}
		b.waitStatus(t, id, specs.StateStopped)
		runc(t, b, "delete", id).wantExit(t, 0)
		if out, _ := os.ReadFile(b.out); strings.Contains(string(out), "should not run") {
			t.Error("the process ran after its startContainer hook failed")
		}
	})

	t.Run("poststart and poststop", func(t *testing.T) {
		b := newBundle(t, "sleep", "1000")
		b.edit(t, func(s *specs.Spec) { s.Hooks = &specs.Hooks{Poststart: fail(sh), Poststop: fail(sh)} })
		id := uniqueName("hookwarn")
		runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
		r := runc(t, b, "start", id)
		r.wantExit(t, 0)
		r.wantStderr(t, "warning: poststart hook #0", "exit status 7")
		if st := b.state(t, id); st.Status != specs.StateRunning {
			t.Errorf("after a failed poststart hook the container is %s, want running", st.Status)
		}
		r = runc(t, b, "delete", "--force", id)
		r.wantExit(t, 0)
		r.wantStderr(t, "warning: poststop hook #0")
		if ids := runc(t, b, "list", "-q"); strings.TrimSpace(ids.stdout) != "" {
			t.Errorf("delete left %q", ids.stdout)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		b := newBundle(t, "true")
		b.edit(t, func(s *specs.Spec) { s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "sh"}}} })
		r := runc(t, b, "run", "--bundle", b.dir, uniqueName("hookbad"))
		if r.code == 0 || !strings.Contains(r.stderr, `hooks.poststop[0]: path "sh" is not absolute`) {
			t.Errorf("want a refusal of the relative hook path\n%s", r)
		}
	})
}

// runcWithFiles runs minimal-runc like runc, with files as its fds 3, 4,
// ...; stdout and stderr, together, go to a file (that a created
// container may keep).
func runcWithFiles(t *testing.T, b *ociBundle, files []*os.File, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), env.timeout)
	defer cancel()
	full := append([]string{"--root", b.root}, args...)
	cmd := exec.CommandContext(ctx, env.runc, full...)
	cmd.Dir = b.dir
	out, err := os.CreateTemp(b.dir, "withfiles-")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = files
	_ = cmd.Run()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	data, _ := os.ReadFile(out.Name())
	return result{args: full, stdout: string(data), stderr: string(data), code: code}
}

// TestRuncPreserveFds: --preserve-fds 1 passes the runtime's fd 3 to the
// container's process as fd 3, and nothing else (not the handshake's fd),
// for run and for create + start.
func TestRuncPreserveFds(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.WriteFile(shared, []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	open := func() *os.File {
		f, err := os.Open(shared)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	wantFds := func(t *testing.T, out string) {
		t.Helper()
		var fds []string
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) == 2 && strings.Trim(f[0], "0123456789") == "" {
				fds = append(fds, f[0])
				if f[0] == "3" && f[1] != shared {
					t.Errorf("fd 3 is %s, want %s", f[1], shared)
				}
			}
		}
		if strings.Join(fds, " ") != "0 1 2 3" {
			t.Errorf("open fds %v, want 0 1 2 3\n%s", fds, out)
		}
		if !strings.Contains(out, "from the host") {
			t.Errorf("the container did not read fd 3\n%s", out)
		}
	}
	args := []string{"sh", "-c", "cat <&3; exec probe fds"}

	t.Run("run", func(t *testing.T) {
		b := newBundle(t, args...)
		r := runcWithFiles(t, b, []*os.File{open()}, "run", "--preserve-fds", "1", "--bundle", b.dir, uniqueName("fds"))
		r.wantExit(t, 0)
		wantFds(t, r.stdout)
	})

	t.Run("create and start", func(t *testing.T) {
		b := newBundle(t, args...)
		id := uniqueName("fds")
		r := runcWithFiles(t, b, []*os.File{open()}, "create", "--preserve-fds", "1", "--bundle", b.dir, id)
		r.wantExit(t, 0)
		runc(t, b, "start", id).wantExit(t, 0)
		b.waitStatus(t, id, specs.StateStopped)
		entries, _ := filepath.Glob(filepath.Join(b.dir, "withfiles-*"))
		if len(entries) != 1 {
			t.Fatalf("output files %v", entries)
		}
		out, _ := os.ReadFile(entries[0])
		wantFds(t, string(out))
		runc(t, b, "delete", id).wantExit(t, 0)
	})

	t.Run("missing fd", func(t *testing.T) {
		b := newBundle(t, "true")
		r := runcWithFiles(t, b, []*os.File{open()}, "run", "--preserve-fds", "2", "--bundle", b.dir, uniqueName("fds"))
		if r.code == 0 || !strings.Contains(r.stderr, "--preserve-fds 2: fd 4 is not open") {
			t.Errorf("want a refusal naming fd 4\n%s", r)
		}
	})
}

// newNetns makes a network namespace with `ip netns add` under a unique
// name (testenv.AddNetns: deleted when the test ends, and /run/netns's
// mount with it when the test made that), with lo up and a documentation
// address on it (no host interface is touched). Call it before
// newBundle: the mounts ip makes are then in the leftover check's
// snapshot, and the namespace is deleted after the check.
func newNetns(t *testing.T, addr string) string {
	t.Helper()
	name := uniqueName("md-netns")
	path := testenv.AddNetns(t, name)
	for _, args := range [][]string{
		{"-n", name, "link", "set", "lo", "up"},
		{"-n", name, "addr", "add", addr + "/32", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	return path
}

// TestRuncJoinNetns: a container whose network namespace is given by path
// joins it: it is that namespace (same inode) and sees its address.
func TestRuncJoinNetns(t *testing.T) {
	const addr = "192.0.2.77" // TEST-NET-1: only ever inside the namespace
	path := newNetns(t, addr)
	var fi syscall.Stat_t
	if err := syscall.Stat(path, &fi); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, "sh", "-c", "readlink /proc/self/ns/net; cat /proc/net/fib_trie; cat /sys/class/net/lo/flags")
	b.edit(t, func(s *specs.Spec) {
		for i, n := range s.Linux.Namespaces {
			if n.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = path
			}
		}
	})
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("netns"))
	r.wantExit(t, 0)
	if want := fmt.Sprintf("net:[%d]", fi.Ino); !strings.Contains(r.stdout, want) {
		t.Errorf("the container's netns is not %s (%s)\n%s", path, want, r)
	}
	if !strings.Contains(r.stdout, addr) {
		t.Errorf("the container does not see %s on lo of the joined namespace\n%s", addr, r)
	}
	if r.stdout == "" || strings.Contains(r.stdout, hostNamespace(t, "net")) {
		t.Errorf("the container is in the host's network namespace\n%s", r)
	}
}

// TestRuncJoinUTS: a uts namespace given by path is joined, and without a
// hostname in the config its hostname stays that namespace's.
func TestRuncJoinUTS(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare command (util-linux)")
	}
	holder := exec.Command("unshare", "--uts", "sh", "-c", "hostname joined-uts && exec sleep 1000")
	if err := holder.Start(); err != nil {
		t.Skip("unshare --uts:", err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	path := fmt.Sprintf("/proc/%d/ns/uts", holder.Process.Pid)
	deadline := time.Now().Add(env.timeout)
	for {
		if l, err := os.Readlink(path); err == nil && l != hostNamespace(t, "uts") {
			if h, _ := exec.Command("nsenter", "--uts="+path, "hostname").Output(); strings.TrimSpace(string(h)) == "joined-uts" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the namespace holder did not set its hostname")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b := newBundle(t, "hostname")
	b.edit(t, func(s *specs.Spec) {
		s.Hostname = ""
		for i, n := range s.Linux.Namespaces {
			if n.Type == specs.UTSNamespace {
				s.Linux.Namespaces[i].Path = path
			}
		}
	})
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("uts"))
	r.wantExit(t, 0)
	if strings.TrimSpace(r.stdout) != "joined-uts" {
		t.Errorf("hostname in the container = %q, want the joined namespace's\n%s", r.stdout, r)
	}
}

// poststartProbe is the poststart hook of TestRuncPoststartAfterExec, run
// by the host's sh as `sh -c PROBE sh DIR [kill]`: it records what the
// container's pid (from the state on its stdin) runs at that moment —
// its executable and its command line — and with "kill" then kills it.
const poststartProbe = `pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
readlink /proc/$pid/exe > "$1/exe"
tr '\0' ' ' < /proc/$pid/cmdline > "$1/cmdline"
[ "$2" = kill ] && kill -9 $pid
exit 0
`

// TestRuncPoststartAfterExec: the poststart hooks run only once the
// container's process has been exec'd (the spec: after the user-specified
// process is started): by then the container's pid runs the user's
// program, not the init that is about to exec it. start learns of the
// execve from the exec fifo's end (the init's close-on-exec fd), a
// foreground run from the handshake socket's.
func TestRuncPoststartAfterExec(t *testing.T) {
	sh := hostSh(t)
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, b *ociBundle, id string)
		kill bool
	}{
		{"create and start", func(t *testing.T, b *ociBundle, id string) {
			runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
			runc(t, b, "start", id).wantExit(t, 0)
		}, false},
		{"run -d", func(t *testing.T, b *ociBundle, id string) {
			runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
		}, false},
		{"run", func(t *testing.T, b *ociBundle, id string) {
			runc(t, b, "run", "--bundle", b.dir, id).wantExit(t, 128+int(syscall.SIGKILL))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"sh", "-c", poststartProbe, "sh", dir}
			if tc.kill {
				args = append(args, "kill")
			}
			b := newBundle(t, "sleep", "1000")
			b.edit(t, func(s *specs.Spec) {
				s.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: sh, Args: args}}}
			})
			tc.run(t, b, uniqueName("poststart"))
			exe, cmdline := readTrim(filepath.Join(dir, "exe")), readTrim(filepath.Join(dir, "cmdline"))
			if filepath.Base(exe) != "busybox" {
				t.Errorf("when the poststart hook ran, the container's process ran %q (%q), want the rootfs's busybox (sleep 1000)", exe, cmdline)
			}
		})
	}
}
