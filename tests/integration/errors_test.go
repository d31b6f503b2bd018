package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/plan"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestBadFlagValues: rejected with exit 125, naming the flag and the value,
// before anything is made (the leftover check; no --cidfile written).
func TestBadFlagValues(t *testing.T) {
	testenv.RequireRoot(t)
	tests := []struct {
		name  string
		flags []string
		names []string // the message must name one of these
		value string   // and quote the value, if set
		why   string   // and say this, if set
	}{
		{"memory unit", []string{"--memory", "10XB"}, []string{"--memory"}, "10XB", ""},
		{"memory not a number", []string{"-m", "lots"}, []string{"--memory", "-m"}, "lots", ""},
		{"negative cpus", []string{"--cpus", "-1"}, []string{"--cpus"}, "-1", ""},
		{"cpus not a number", []string{"--cpus", "two"}, []string{"--cpus"}, "two", ""},
		{"pids-limit not a number", []string{"--pids-limit", "abc"}, []string{"--pids-limit"}, "abc", ""},
		{"env without =", []string{"-e", "FOO"}, []string{"--env", "-e"}, "FOO", ""},
		{"unknown network", []string{"--network", "no/such"}, []string{"--network"}, "no/such", ""},
		{"unknown flag", []string{"--no-such-flag"}, []string{"--no-such-flag"}, "", ""},
		{"negative memory", []string{"-m", "-5"}, []string{"--memory"}, "-5", ""},
		{"negative pids-limit", []string{"--pids-limit", "-5"}, []string{"--pids-limit"}, "-5", ""},
		{"cpus above the host's", []string{"--cpus", strconv.Itoa(runtime.NumCPU() + 1)}, []string{"--cpus"},
			strconv.Itoa(runtime.NumCPU() + 1), fmt.Sprintf("range of CPUs is from 0.01 to %d.00", runtime.NumCPU())},
		{"uid out of range", []string{"-u", "99999999999"}, []string{"--user"}, "99999999999", "out of range"},
		{"gid out of range", []string{"-u", "0:4294967295"}, []string{"--user"}, "4294967295", "out of range"},
		{"relative workdir", []string{"-w", "rel"}, []string{"--workdir"}, "rel", "absolute"},
		{"unknown tmpfs option", []string{"--tmpfs", "/badinput-tmpfs:size=1m,foo"}, []string{"--tmpfs"}, `"foo"`, "unknown tmpfs option"},
		{"bad tmpfs size", []string{"--tmpfs", "/badinput-tmpfs:size=lots"}, []string{"--tmpfs"}, `"size=lots"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cidfile := filepath.Join(t.TempDir(), "cid")
			r := run(t, append([]string{"--cidfile", cidfile}, tt.flags...), "true")
			r.wantExit(t, 125)
			if tt.why != "" {
				r.wantStderr(t, tt.why)
			}
			if _, err := os.Stat(cidfile); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("--cidfile %s is there after a refused run (%v)", cidfile, err)
			}
			if _, err := os.Stat(filepath.Join(env.rootfs, "badinput-tmpfs")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the refused run made the tmpfs's mount point in the rootfs (%v)", err)
			}
			named := false
			for _, n := range tt.names {
				named = named || strings.Contains(r.stderr, n)
			}
			if !named {
				t.Errorf("stderr names none of %v\n%s", tt.names, r)
			}
			if tt.value != "" {
				r.wantStderr(t, tt.value)
			}
		})
	}
}

// TestBadRootfs: a rootfs that is missing, is not a directory, or lacks the
// command gets a clear error.
func TestBadRootfs(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("not a rootfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		rootfs string
		code   int
		stderr []string
	}{
		{"missing", filepath.Join(dir, "no-such-dir"), 125, []string{filepath.Join(dir, "no-such-dir")}},
		{"a file", file, 125, []string{file}},
		{"lacks the command", empty, 127, []string{empty, "sh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := md(t, "run", tt.rootfs, "sh", "-c", "true")
			r.wantExit(t, tt.code)
			r.wantStderr(t, tt.stderr...)
			entries, err := os.ReadDir(empty)
			if err != nil || len(entries) != 0 {
				t.Errorf("the run changed the empty rootfs %s: %v %v", empty, entries, err)
			}
		})
	}
}

// TestMissingArguments: run needs a rootfs and a command.
func TestMissingArguments(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"nothing", []string{"run"}},
		{"no command", []string{"run", env.rootfs}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := md(t, tt.args...)
			r.wantExit(t, 125)
			if strings.TrimSpace(r.stderr) == "" {
				t.Errorf("no message on stderr\n%s", r)
			}
		})
	}
}

// TestEmptyOrHostRootfs: an empty ROOTFS (an unset shell variable) is
// refused, not taken as the current directory, and so is the host's own
// root directory, by any path to it, unless --allow-host-rootfs says so.
// Nothing is made (the leftover check), no --cidfile left.
func TestEmptyOrHostRootfs(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	link := filepath.Join(dir, "link-to-host-root")
	if err := os.Symlink("/", link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		rootfs string
		cwd    string // the directory minimal-docker runs in
		stderr []string
	}{
		{"empty, from /", "", "/", []string{"rootfs is empty"}},
		{"empty, from the rootfs", "", env.rootfs, []string{"rootfs is empty"}},
		{"the host's root", "/", "", []string{"rootfs / is the host's root directory", "--allow-host-rootfs"}},
		{"., from /", ".", "/", []string{"is the host's root directory", "--allow-host-rootfs"}},
		{"a symlink to the host's root", link, "", []string{"rootfs " + link + " is the host's root directory", "--allow-host-rootfs"}},
		{"/proc/self/root", "/proc/self/root", "", []string{"is the host's root directory"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cidfile := filepath.Join(t.TempDir(), "cid")
			p := startProc(t, false, func(c *exec.Cmd) { c.Dir = tt.cwd }, []string{"run", "--cidfile", cidfile, tt.rootfs, "sh", "-c", "echo ran"})
			r := p.wait(t)
			r.wantExit(t, 125)
			r.wantStderr(t, tt.stderr...)
			if strings.Contains(r.stdout, "ran") {
				t.Errorf("the command ran\n%s", r)
			}
			if _, err := os.Stat(cidfile); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("--cidfile %s is there after a refused run (%v)", cidfile, err)
			}
		})
	}
}

// TestAllowHostRootfs: with --allow-host-rootfs a directory that is the
// host's root (here a bind mount of /, which unlike / itself can be
// pivoted into) is the container's root. Read-only, so that the test
// cannot change the host.
func TestAllowHostRootfs(t *testing.T) {
	testenv.RequireRoot(t)
	track(t) // the bind mount below is undone before the leftover check
	hostRoot := filepath.Join(t.TempDir(), "host-root")
	if err := os.Mkdir(hostRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("/", hostRoot, "", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("bind / on %s: %v", hostRoot, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(hostRoot, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", hostRoot, err)
		}
	})
	// What / holds on the host, as the shell's glob lists it (C locale).
	entries, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			want = append(want, "/"+e.Name())
		}
	}
	list := []string{"/bin/sh", "-c", `for f in /*; do echo "$f"; done`}

	r := md(t, append([]string{"run", "--read-only", hostRoot}, list...)...)
	r.wantExit(t, 125)
	r.wantStderr(t, "is the host's root directory", "--allow-host-rootfs")

	r = md(t, append([]string{"run", "--allow-host-rootfs", "--read-only", hostRoot}, list...)...)
	r.wantExit(t, 0)
	if got := strings.Join(r.lines(), "\n"); got != strings.Join(want, "\n") {
		t.Errorf("the container's / lists\n%s\nwant the host's\n%s", got, strings.Join(want, "\n"))
	}
}

// TestEmptyCommand: an empty COMMAND is refused as such (not "permission
// denied"), exit 125.
func TestEmptyCommand(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, nil, "")
	r.wantExit(t, 125)
	r.wantStderr(t, "the command is empty")
}

// TestCidfileOnlyForAContainerThatRan: --cidfile is removed whenever the
// command never ran (125, 126, 127 from minimal-docker), and kept when the
// command ran, whatever its status.
func TestCidfileOnlyForAContainerThatRan(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tt := range []struct {
		name    string
		command []string
		code    int
		kept    bool
	}{
		{"not found", []string{"no-such-command"}, 127, false},
		{"not executable", []string{notExecutable}, 126, false},
		{"setup step failed", []string{"-w", "/etc/passwd", "true"}, 125, false},
		{"ran, exit 127", []string{"sh", "-c", "exit 127"}, 127, true},
		{"ran, exit 0", []string{"true"}, 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cidfile := filepath.Join(t.TempDir(), "cid")
			flags := []string{"--cidfile", cidfile}
			command := tt.command
			if command[0] == "-w" {
				flags, command = append(flags, command[:2]...), command[2:]
			}
			r := run(t, flags, command...)
			r.wantExit(t, tt.code)
			_, err := os.Stat(cidfile)
			if kept := err == nil; kept != tt.kept {
				t.Errorf("--cidfile kept: %v, want %v (%v)\n%s", kept, tt.kept, err, r)
			}
		})
	}
}

// wantNothingLeft fails the test if minimal-runc's state root holds
// anything (a container, its directory) or lists a container.
func (b *ociBundle) wantNothingLeft(t *testing.T) {
	t.Helper()
	if ids := runc(t, b, "list", "-q"); strings.TrimSpace(ids.stdout) != "" {
		t.Errorf("the failed command left containers: %q", ids.stdout)
	}
	entries, err := os.ReadDir(b.root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("the failed command left %s in the state root", filepath.Join(b.root, e.Name()))
	}
}

// TestRuncRefusesBadConfig: a config.json that runc or the runtime spec
// refuses, or that minimal-runc would otherwise read as something
// dangerous, fails with exit 1 naming the field, before anything is made.
func TestRuncRefusesBadConfig(t *testing.T) {
	i64 := func(n int64) *int64 { return &n }
	u64 := func(n uint64) *uint64 { return &n }
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
		want []string
	}{
		{"empty root", func(s *specs.Spec) { s.Root = &specs.Root{} }, []string{"root.path is empty"}},
		{"the host's root", func(s *specs.Spec) { s.Root.Path = "/" }, []string{"rootfs / is the host's root directory", "org.minimal-docker.host-rootfs"}},
		{"no command", func(s *specs.Spec) { s.Process.Args = nil }, []string{"process.args is empty"}},
		{"root overlay without a lower directory", func(s *specs.Spec) {
			s.Annotations = map[string]string{"org.minimal-docker.root-overlay": `{"upper":"/u","work":"/w"}`}
		}, []string{"annotation org.minimal-docker.root-overlay", "no lower directory"}},
		{"empty command", func(s *specs.Spec) { s.Process.Args = []string{""} }, []string{"process.args[0] is empty"}},
		{"env without =", func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "FOO") }, []string{"process.env[", `"FOO"`, "KEY=VALUE"}},
		{"uid -1", func(s *specs.Spec) { s.Process.User.UID = 1<<32 - 1 }, []string{"process.user.uid 4294967295"}},
		{"relative mount destination", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "relative/dir", Type: "tmpfs", Source: "tmpfs"})
		}, []string{".destination", `"relative/dir"`, "not an absolute path"}},
		{"bad tmpfs option", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/badinput-tmpfs", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "foo"}})
		}, []string{"tmpfs on /badinput-tmpfs", `"foo"`}},
		{"negative memory limit", func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-5)}}
		}, []string{"linux.resources.memory.limit -5"}},
		{"negative pids limit", func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-5)}}
		}, []string{"linux.resources.pids.limit -5"}},
		{"negative cpu quota", func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(-5), Period: u64(100000)}}
		}, []string{"linux.resources.cpu.quota -5"}},
		{"cpu period 0", func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(50000), Period: u64(0)}}
		}, []string{"linux.resources.cpu.period 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "sh", "-c", "echo ran")
			b.edit(t, tc.edit)
			for _, verb := range []string{"create", "run"} {
				r := runc(t, b, verb, "--bundle", b.dir, uniqueName("bad"))
				r.wantExit(t, 1)
				r.wantStderr(t, tc.want...)
				if strings.Contains(r.stdout, "ran") {
					t.Errorf("the container ran\n%s", r)
				}
			}
			if _, err := os.Stat(filepath.Join(env.rootfs, "badinput-tmpfs")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the refused config made its tmpfs's mount point in the rootfs (%v)", err)
			}
			b.wantNothingLeft(t)
		})
	}
}

// TestRuncAcceptsUnlimited: -1 is runc's "unlimited" for the memory limit,
// swap, pids and the CPU quota; it is accepted, not refused as negative.
func TestRuncAcceptsUnlimited(t *testing.T) {
	minusOne := int64(-1)
	b := newBundle(t, "true")
	b.edit(t, func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: &minusOne, Swap: &minusOne},
			Pids:   &specs.LinuxPids{Limit: &minusOne},
			CPU:    &specs.LinuxCPU{Quota: &minusOne},
		}
	})
	runc(t, b, "run", "--bundle", b.dir, uniqueName("unlimited")).wantExit(t, 0)
	b.wantNothingLeft(t)
}

// TestRuncConfigOverFrameLimit: a config too large for the plan (a plan
// string over plan.MaxStr) is refused naming the limit (not "broken
// pipe"), and nothing is left. The plan carries no annotations: one
// larger than a handshake message runs.
func TestRuncConfigOverFrameLimit(t *testing.T) {
	b := newBundle(t, "true")
	b.edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.example.big": strings.Repeat("x", handshake.MaxFrame)}
	})
	runc(t, b, "run", "--bundle", b.dir, uniqueName("big")).wantExit(t, 0)
	b.wantNothingLeft(t)
	limit := fmt.Sprintf("more than %d", plan.MaxStr)
	b.edit(t, func(s *specs.Spec) {
		s.Annotations = nil
		s.Process.Env = append(s.Process.Env, "BIG="+strings.Repeat("x", plan.MaxStr))
	})
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("big"))
	r.wantExit(t, 1)
	r.wantStderr(t, limit)
	if strings.Contains(r.stderr, "broken pipe") {
		t.Errorf("the error is still the kernel's\n%s", r)
	}
	b.wantNothingLeft(t)
}

// TestRuncInitDiesDuringSetup: when the container's init dies during its
// setup, the error says so and how, not what the broken handshake saw
// ("connection reset by peer", "broken pipe"); nothing is left.
func TestRuncInitDiesDuringSetup(t *testing.T) {
	t.Run("killed by a signal", func(t *testing.T) {
		// A createRuntime hook runs while the init waits in its setup;
		// this one SIGKILLs it (its pid is in the state on stdin).
		kill := `s=$(cat); pid=$(echo "$s" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p'); kill -9 "$pid"`
		b := newBundle(t, "sh", "-c", "echo ran")
		b.edit(t, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: hostSh(t), Args: []string{"sh", "-c", kill}}}}
		})
		for _, verb := range []string{"create", "run"} {
			r := runc(t, b, verb, "--bundle", b.dir, uniqueName("killed"))
			r.wantExit(t, 1)
			r.wantStderr(t, "the container's init died during setup: killed by signal 9 (SIGKILL)")
			if strings.Contains(r.stderr, "connection reset") || strings.Contains(r.stderr, "broken pipe") || strings.Contains(r.stdout, "ran") {
				t.Errorf("want only how the init died\n%s", r)
			}
		}
		b.wantNothingLeft(t)
	})
	t.Run("out of memory", func(t *testing.T) {
		// One page, swap included, is too little for the init's own setup
		// (256 KiB was not always, on v2: the init's memory from before it
		// joined the cgroup is not charged to it): the kernel OOM-kills it
		// in its cgroup.
		limit := int64(4 << 10)
		b := newBundle(t, "sh", "-c", "echo ran")
		b.edit(t, func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &limit}}
		})
		r := runc(t, b, "run", "--bundle", b.dir, uniqueName("oom"))
		r.wantExit(t, 1)
		r.wantStderr(t, "the container's init was killed during setup: out of memory (memory limit 4KiB")
		b.wantNothingLeft(t)
	})
}

// TestRuncExecBadFlags: exec's bad values name exec's own flags and
// fields, and start nothing.
func TestRuncExecBadFlags(t *testing.T) {
	b, _ := execBundle(t, "exbad")
	processFile := b.writeProcess(t, "bad-process.json", &specs.Process{Args: []string{"true"}, Env: []string{"PATH=/bin", "FOO"}, Cwd: "/"})
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"relative --cwd", []string{"--cwd", "rel", "exbad", "true"}, []string{`invalid --cwd "rel"`, "absolute"}},
		{"uid out of range", []string{"--user", "99999999999", "exbad", "true"}, []string{`invalid --user "99999999999"`, "out of range"}},
		{"env without = in --process", []string{"--process", processFile, "exbad"}, []string{"process.env[1]", `"FOO"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := execIn(t, b, tc.args...)
			r.wantExit(t, 1)
			r.wantStderr(t, tc.want...)
			var pids []int
			ps := runc(t, b, "ps", "--format", "json", "exbad")
			if err := json.Unmarshal([]byte(ps.stdout), &pids); err != nil || len(pids) != 1 {
				t.Errorf("the container runs %v (%v), want only its init: the failed exec left a process\n%s", pids, err, ps)
			}
		})
	}
	runc(t, b, "delete", "--force", "exbad").wantExit(t, 0)
}

// TestRuncUpdateRefusesNegative: update takes -1 (unlimited) but refuses
// other negative limits, naming them, and changes nothing.
func TestRuncUpdateRefusesNegative(t *testing.T) {
	b, _ := execBundle(t, "upneg")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"pids", []string{"--pids-limit", "-5"}, "pids.limit -5"},
		{"cpu quota", []string{"--cpu-quota", "-5"}, "cpu.quota -5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runc(t, b, append(append([]string{"update"}, tc.args...), "upneg")...)
			r.wantExit(t, 1)
			r.wantStderr(t, tc.want)
		})
	}
	runc(t, b, "update", "--pids-limit", "-1", "upneg").wantExit(t, 0)
	runc(t, b, "delete", "--force", "upneg").wantExit(t, 0)
}
