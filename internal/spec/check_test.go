package spec

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
			wantErr(t, "CheckResourceUpdate", CheckResourceUpdate(tc.r), tc.wantUpdate)
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
			err = Validate(s)
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
