package spec

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

func i64(n int64) *int64   { return &n }
func u64(n uint64) *uint64 { return &n }
func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != "" && err == nil:
		t.Errorf("%s: no error, want one naming %q", what, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q does not name %q", what, err, want)
	}
}

func TestCheckProcess(t *testing.T) {
	ok := func() *specs.Process {
		return &specs.Process{Args: []string{"sh"}, Env: []string{"PATH=/bin", "EMPTY="}, Cwd: "/"}
	}
	for _, tc := range []struct {
		name   string
		change func(*specs.Process)
		want   string // "" for no error, else a part of the message
	}{
		{"ok", func(*specs.Process) {}, ""},
		{"no args", func(p *specs.Process) { p.Args = nil }, "process.args is empty"},
		{"empty command", func(p *specs.Process) { p.Args = []string{""} }, "process.args[0] is empty"},
		{"env without =", func(p *specs.Process) { p.Env = append(p.Env, "FOO") }, `process.env[2] "FOO"`},
		{"env without a name", func(p *specs.Process) { p.Env = []string{"=x"} }, `process.env[0] "=x": want KEY=VALUE (the name is empty)`},
		{"env with NUL", func(p *specs.Process) { p.Env = []string{"A=b\x00c"} }, "NUL"},
		{"relative cwd", func(p *specs.Process) { p.Cwd = "rel" }, `process.cwd "rel"`},
		{"uid -1", func(p *specs.Process) { p.User.UID = math.MaxUint32 }, "process.user.uid 4294967295"},
		{"gid -1", func(p *specs.Process) { p.User.GID = math.MaxUint32 }, "process.user: gid 4294967295"},
		{"additional gid -1", func(p *specs.Process) { p.User.AdditionalGids = []uint32{5, math.MaxUint32} }, "gid 4294967295"},
		{"largest uid", func(p *specs.Process) { p.User.UID = math.MaxUint32 - 1 }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ok()
			tc.change(p)
			wantErr(t, tc.name, CheckProcess(p), tc.want)
		})
	}
}

func TestCheckResources(t *testing.T) {
	for _, tc := range []struct {
		name       string
		r          *specs.LinuxResources
		want       string // for a config
		wantUpdate string // for an update
	}{
		{"none", nil, "", ""},
		{"unlimited memory", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1), Swap: i64(-1)}}, "", ""},
		{"memory", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20)}}, "", ""},
		{"negative memory", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-5)}},
			"linux.resources.memory.limit -5", "memory.limit -5"},
		{"negative swap", &specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(-2)}}, "memory.swap -2", "memory.swap -2"},
		{"negative reservation", &specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: i64(-3)}}, "memory.reservation -3", "memory.reservation -3"},
		{"unlimited pids", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-1)}}, "", ""},
		{"pids", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(1)}}, "", ""},
		{"negative pids", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-5)}}, "linux.resources.pids.limit -5", "pids.limit -5"},
		{"unlimited quota", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(-1), Period: u64(100000)}}, "", ""},
		{"quota", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(1000), Period: u64(1000)}}, "", ""},
		{"negative quota", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(-5)}}, "linux.resources.cpu.quota -5", "cpu.quota -5"},
		{"quota under 1ms", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(999)}}, "cpu.quota 999", "cpu.quota 999"},
		{"period 0", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(50000), Period: u64(0)}}, "linux.resources.cpu.period 0", ""},
		{"period under 1ms", &specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64(999)}}, "cpu.period 999", "cpu.period 999"},
		{"period over 1s", &specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64(1000001)}}, "cpu.period 1000001", "cpu.period 1000001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, "CheckResources", CheckResources(tc.r), tc.want)
			wantErr(t, "checkResources of an update", checkResources("", tc.r, true), tc.wantUpdate)
		})
	}
}

// TestCheckUpdate: an update may change only the limits the drivers can
// change, with good values; zeros are "leave it".
func TestCheckUpdate(t *testing.T) {
	i := func(n int64) *int64 { return &n }
	u := func(n uint64) *uint64 { return &n }
	w := uint16(500)
	tests := []struct {
		name    string
		r       *specs.LinuxResources
		wantErr string
	}{
		{"nil", nil, ""},
		{"supported", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i(1), Swap: i(2)}, CPU: &specs.LinuxCPU{Quota: i(50000), Period: u(100000)}, Pids: &specs.LinuxPids{Limit: i(3)}}, ""},
		{"zeros as engines send them", &specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: i(0), Kernel: i(0)}, CPU: &specs.LinuxCPU{Shares: u(0)}, BlockIO: &specs.LinuxBlockIO{}}, ""},
		{"shares", &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u(1024)}}, "cpu.shares"},
		{"several", &specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: i(5)}, BlockIO: &specs.LinuxBlockIO{Weight: &w}}, "memory.reservation, blockIO.weight"},
		{"devices", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}, "devices"},
		{"cpuset", &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-1", Mems: "0"}}, ""},
		{"kernel memory is ignored, not refused", &specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: i(5), KernelTCP: i(5)}}, ""},
		{"create only", &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u(5)},
			HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB"}}}, "cannot update memory.swappiness, hugepageLimits"},
		{"never", &specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: i(1)}}, "cannot update cpu.idle"},
		{"bad cpuset", &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "x"}}, `linux.resources.cpu.cpus "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckUpdate(tt.r)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("CheckUpdate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckMounts(t *testing.T) {
	tmpfs := func(opts ...string) specs.Mount {
		return specs.Mount{Destination: "/x", Type: "tmpfs", Source: "tmpfs", Options: opts}
	}
	for _, tc := range []struct {
		name string
		m    specs.Mount
		want string
	}{
		{"proc", specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"whatever"}}, ""},
		{"relative destination", specs.Mount{Destination: "rel/x", Type: "tmpfs", Source: "tmpfs"}, `mounts[1].destination "rel/x"`},
		{"empty destination", specs.Mount{Type: "tmpfs", Source: "tmpfs"}, `mounts[1].destination ""`},
		{"tmpfs flags and options", tmpfs("nosuid", "rprivate", "ro", "size=64m", "mode=1777", "uid=1000", "gid=5",
			"nr_inodes=10k", "size=50%", "huge=within_size", "mpol=interleave", "noswap", "inode64", "casefold"), ""},
		{"unknown tmpfs option", tmpfs("nosuid", "foo"), `mounts[1] (tmpfs on /x): unknown tmpfs option "foo"`},
		{"bad size", tmpfs("size=lots"), `tmpfs option "size=lots"`},
		{"size with two units", tmpfs("size=1mk"), `tmpfs option "size=1mk"`},
		{"percent nr_inodes", tmpfs("nr_inodes=5%"), `tmpfs option "nr_inodes=5%"`},
		{"bad mode", tmpfs("mode=999"), `tmpfs option "mode=999"`},
		{"mode too large", tmpfs("mode=17777"), `tmpfs option "mode=17777"`},
		{"bad uid", tmpfs("uid=root"), `tmpfs option "uid=root"`},
		{"empty value", tmpfs("size="), `tmpfs option "size="`},
		{"value on a flag", tmpfs("noswap=1"), `tmpfs option "noswap=1"`},
		{"bad huge", tmpfs("huge=yes"), `tmpfs option "huge=yes"`},
		{"a bind of a tmpfs type", specs.Mount{Destination: "/x", Type: "tmpfs", Source: "/tmp", Options: []string{"rbind", "whatever"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mounts := []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}, tc.m}
			wantErr(t, tc.name, checkMounts(mounts), tc.want)
		})
	}
}

func TestCheckFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"user number", CheckUserFlag("--user", "1000:1000"), ""},
		{"user names", CheckUserFlag("--user", "nobody:nogroup"), ""},
		{"largest uid", CheckUserFlag("--user", "2147483647"), ""},
		{"uid out of range", CheckUserFlag("--user", "99999999999"), `invalid --user "99999999999": 99999999999 is out of range (uids and gids must be in range 0-2147483647)`},
		{"uid beyond uint64", CheckUserFlag("--user", "99999999999999999999999"), "out of range"},
		{"gid out of range", CheckUserFlag("--user", "5:2147483648"), "2147483648 is out of range"},
		{"workdir", CheckWorkdir("--cwd", "/tmp"), ""},
		{"relative workdir", CheckWorkdir("--cwd", "rel"), `invalid --cwd "rel"`},
		{"tmpfs", CheckTmpfsFlag("/run:size=1m,mode=755,nosuid"), ""},
		{"tmpfs without options", CheckTmpfsFlag("/run"), ""},
		{"tmpfs bad option", CheckTmpfsFlag("/run:size=1m,foo"), `invalid --tmpfs "/run:size=1m,foo": unknown tmpfs option "foo"`},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.err, tc.want) })
	}
}

func TestValidateRoot(t *testing.T) {
	dir := t.TempDir()
	toHost := filepath.Join(dir, "host")
	if err := os.Symlink("/", toHost); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		root string
		opts []Option
		want string
	}{
		{"a directory", dir, nil, ""},
		{"the host's root", "/", nil, "rootfs / is the host's root directory"},
		{"a symlink to it", toHost, nil, "rootfs " + toHost + " is the host's root directory"},
		{"asked for", "/", []Option{WithHostRootfs()}, ""},
		{"asked for, by a symlink", toHost, []Option{WithHostRootfs()}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Default(tc.root, []string{"true"}, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			err = validate(s)
			wantErr(t, tc.name, err, tc.want)
			if err != nil && !strings.Contains(err.Error(), "--allow-host-rootfs") {
				t.Errorf("error %q does not name the opt-in", err)
			}
		})
	}
}

func TestDefaultRefusesEmpty(t *testing.T) {
	_, err := Default("", []string{"true"})
	wantErr(t, "empty rootfs", err, "rootfs is empty")
	_, err = Default("/r", []string{""})
	wantErr(t, "empty command", err, "the command is empty")
}

func TestLoadEmptyRootPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"ociVersion":"1.0.2","root":{},"linux":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	wantErr(t, "root {}", err, "root.path is empty")
}

func TestParseCPUsHostCount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"2", ""},
		{"1.5", ""},
		{"2.01", "range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
		{"64", `invalid --cpus "64"`},
	} {
		_, err := parseCPUs(tc.in, 2)
		wantErr(t, "--cpus "+tc.in, err, tc.want)
	}
}

// TestCheck: the one check runs every part, in order: the fields, what is
// not supported, the resources, the hooks, the command in the rootfs, the
// namespaces and what the init's steps would refuse.
func TestCheck(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"true": 0o755, "data": 0o644} {
		if err := os.WriteFile(filepath.Join(root, "bin", name), nil, mode); err != nil {
			t.Fatal(err)
		}
	}
	swappiness, umask := uint64(101), uint32(0o1000)
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
		want string // "" when accepted
		is   error  // an error it must wrap
	}{
		{"valid", func(*specs.Spec) {}, "", nil},
		{"field", func(s *specs.Spec) { s.Process.Cwd = "tmp" }, `process.cwd "tmp" is not absolute`, nil},
		{"not supported", func(s *specs.Spec) { s.Process.ApparmorProfile = "x" }, "not supported yet: process.apparmorProfile", nil},
		{"resources", func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: &swappiness}}
		}, "linux.resources.memory.swappiness 101", nil},
		{"hooks", func(s *specs.Spec) { s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "rm"}}} }, "hooks.poststop[0]", nil},
		{"command not found", func(s *specs.Spec) { s.Process.Args = []string{"nope"} }, "(in rootfs " + root + ")", rootfs.ErrNotFound},
		{"command not executable", func(s *specs.Spec) { s.Process.Args = []string{"/bin/data"} }, "/bin/data", rootfs.ErrNotExecutable},
		{"namespaces", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		}, "namespace time: not supported yet", nil},
		{"namespace path", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.IPCNamespace, Path: root})
		}, "is not a namespace file", nil},
		{"the init's steps", func(s *specs.Spec) { s.Process.User.Umask = &umask }, "process.user.umask 01000", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Default(root, []string{"true"})
			if err != nil {
				t.Fatal(err)
			}
			s.Process.Env = []string{"PATH=/bin"}
			s.Process.Capabilities = nil // this test's own may be fewer
			s.Linux.Namespaces = removeNamespace(s.Linux.Namespaces, specs.IPCNamespace)
			tc.edit(s)
			err = Check(s)
			wantErr(t, "Check", err, tc.want)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Check = %v, want it to wrap %v", err, tc.is)
			}
		})
	}
}
