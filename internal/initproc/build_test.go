package initproc_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/initproc"
	"github.com/minimal-docker/minimal-docker/internal/plan"
	"github.com/minimal-docker/minimal-docker/internal/seccomp/bpf"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// defaultConfig is the config of `run ROOTFS args...` with a seccomp
// filter of one instruction, on a cgroup v2 host.
func defaultConfig(t *testing.T, args []string, opts ...spec.Option) *handshake.Config {
	t.Helper()
	s, err := spec.Default(t.TempDir(), args, opts...)
	if err != nil {
		t.Fatal(err)
	}
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	return &handshake.Config{Spec: s, Settings: handshake.Settings{
		CgroupMode: "v2",
		Seccomp:    &bpf.Filter{Program: make([]byte, bpf.SockFilterSize)},
		State:      &specs.State{Version: specs.Version, ID: "c1", Bundle: "/b"},
	}}
}

func build(t *testing.T, cfg *handshake.Config) *plan.Plan {
	t.Helper()
	p, err := initproc.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Marshal(); err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	for i, op := range p.Ops {
		if op.Step == "" || op.What == "" {
			t.Errorf("op %d (%s): Step %q, What %q: both must be set", i, op.Code, op.Step, op.What)
		}
		if d := op.Describe(); d == "" || strings.Contains(d, "\n") || strings.Contains(d, "malformed") {
			t.Errorf("op %d (%s): Describe() = %q", i, op.Code, d)
		}
	}
	return p
}

// index is the index of the first op with code c (and, when step is not
// empty, of that step), or -1.
func index(p *plan.Plan, c plan.Code, step string) int {
	return slices.IndexFunc(p.Ops, func(o plan.Op) bool { return o.Code == c && (step == "" || o.Step == step) })
}

func lastIndex(p *plan.Plan, c plan.Code, step string) int {
	for i := len(p.Ops) - 1; i >= 0; i-- {
		if o := p.Ops[i]; o.Code == c && (step == "" || o.Step == step) {
			return i
		}
	}
	return -1
}

// codes lists the ops' codes.
func codes(p *plan.Plan) []plan.Code {
	var out []plan.Code
	for _, o := range p.Ops {
		out = append(out, o.Code)
	}
	return out
}

// wantOrder checks that the indices are all found and increasing.
func wantOrder(t *testing.T, p *plan.Plan, names []string, idx ...int) {
	t.Helper()
	for i, x := range idx {
		if x < 0 {
			t.Errorf("no %s in the plan: %v", names[i], codes(p))
			return
		}
		if i > 0 && x <= idx[i-1] {
			t.Errorf("%s (op %d) is not after %s (op %d): %v", names[i], x, names[i-1], idx[i-1], codes(p))
		}
	}
}

func TestBuildDefault(t *testing.T) {
	cfg := defaultConfig(t, []string{"sh", "-c", "echo hi"})
	p := build(t, cfg)
	if p.Ops[0].Code != plan.OpWaitGo {
		t.Errorf("first op %s, want %s (the cgroup placed before any step)", p.Ops[0].Code, plan.OpWaitGo)
	}
	if d := p.Ops[1]; d.Code != plan.OpPrctl || d.Ints[0] != unix.PR_SET_DUMPABLE || d.Ints[1] != 0 {
		t.Errorf("op 1 %s %v, want prctl(PR_SET_DUMPABLE, 0)", d.Code, d.Ints)
	}
	wantOrder(t, p,
		[]string{"wait-go", "cgroupns", "hostname", "loopback", "propagation", "bind-rootfs", "root", "mount /proc", "last mount", "mknod", "pivot_root", "readonly-paths", "masked-paths", "cwd", "ready", "wait-start", "pass-fds", "bounding", "setuser", "capset", "umask", "no_new_privs", "seccomp", "exec"},
		index(p, plan.OpWaitGo, ""),
		index(p, plan.OpUnshare, "cgroupns"),
		index(p, plan.OpHostname, ""),
		index(p, plan.OpLoopbackUp, ""),
		index(p, plan.OpMount, "propagation"),
		index(p, plan.OpMount, "bind-rootfs"),
		index(p, plan.OpSetRoot, ""),
		index(p, plan.OpMount, "mounts"),
		lastIndex(p, plan.OpMount, "mounts"),
		index(p, plan.OpMknod, "devices"),
		index(p, plan.OpPivotRoot, ""),
		index(p, plan.OpMount, "readonly-paths"),
		index(p, plan.OpMask, ""),
		index(p, plan.OpChdir, ""),
		index(p, plan.OpReady, ""),
		index(p, plan.OpWaitStart, ""),
		index(p, plan.OpPassFDs, ""),
		index(p, plan.OpBounding, ""),
		index(p, plan.OpSetUser, ""),
		index(p, plan.OpCaps, ""),
		index(p, plan.OpUmask, "umask"),
		index(p, plan.OpPrctl, "no_new_privs"),
		index(p, plan.OpSeccomp, ""),
		len(p.Ops)-1,
	)
	if last := p.Ops[len(p.Ops)-1]; last.Code != plan.OpExec {
		t.Fatalf("last op %s, want exec", last.Code)
	}
	for _, c := range []plan.Code{plan.OpFifoOpen, plan.OpFifoWait, plan.OpConsole, plan.OpChroot, plan.OpHooks, plan.OpPidsOpen} {
		if i := index(p, c, ""); i >= 0 {
			t.Errorf("a default run's plan has %s (op %d)", c, i)
		}
	}
	// The seccomp filter is installed once, last before exec.
	if n := len(slices.DeleteFunc(codes(p), func(c plan.Code) bool { return c != plan.OpSeccomp })); n != 1 {
		t.Errorf("%d seccomp ops, want 1", n)
	}
	if i := index(p, plan.OpSeccomp, ""); i != len(p.Ops)-2 {
		t.Errorf("seccomp is op %d, want the last before exec (%d)", i, len(p.Ops)-2)
	}
}

func TestBuildMountOps(t *testing.T) {
	p := build(t, defaultConfig(t, []string{"true"}))
	proc := p.Ops[index(p, plan.OpMount, "mounts")]
	if proc.Path != "/proc" || proc.What != "mount proc" || string(proc.Strs[1]) != "/proc" || string(proc.Strs[2]) != "proc" || proc.Ints[1] != plan.FlagMkdir {
		t.Errorf("first mount: %+v", proc)
	}
	if got, want := proc.Describe(), "mount proc on /proc (proc, nosuid|nodev|noexec) [mkdir]"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	rb := p.Ops[index(p, plan.OpMount, "bind-rootfs")]
	if rb.Ints[0] != unix.MS_BIND|unix.MS_REC || rb.Ints[1] != plan.FlagHost {
		t.Errorf("bind-rootfs: %+v", rb)
	}
	// The cgroup tree of a v2 host: cgroup2, read-only as asked.
	cg := slices.IndexFunc(p.Ops, func(o plan.Op) bool { return o.Code == plan.OpMount && string(o.Strs[2]) == "cgroup2" })
	if cg < 0 {
		t.Fatalf("no cgroup2 mount: %v", codes(p))
	}
}

func TestBuildBindMounts(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig(t, []string{"true"})
	cfg.Spec.Mounts = append(cfg.Spec.Mounts,
		specs.Mount{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind", "ro", "rslave"}},
		specs.Mount{Destination: "/etc/f", Type: "bind", Source: file, Options: []string{"bind"}},
		specs.Mount{Destination: "/t", Type: "bind", Source: dir},
	)
	p := build(t, cfg)
	var data, f []plan.Op
	for _, o := range p.Ops {
		switch o.Path {
		case "/data":
			data = append(data, o)
		case "/etc/f":
			f = append(f, o)
		}
	}
	if len(data) != 3 {
		t.Fatalf("/data: %d ops, want bind, remount, propagation: %+v", len(data), data)
	}
	if data[0].Ints[0] != unix.MS_BIND|unix.MS_REC || data[0].Ints[1] != plan.FlagMkdir || string(data[0].Strs[0]) != dir {
		t.Errorf("/data bind: %+v", data[0])
	}
	if data[1].Ints[0] != unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY || data[1].What != "remount bind" {
		t.Errorf("/data remount: %+v", data[1])
	}
	if data[2].Ints[0] != unix.MS_SLAVE|unix.MS_REC {
		t.Errorf("/data propagation: %+v", data[2])
	}
	if i := slices.IndexFunc(p.Ops, func(o plan.Op) bool { return o.Path == "/t" }); i < 0 {
		t.Error("no op for /t")
	} else if p.Ops[i].Ints[0] != unix.MS_BIND {
		t.Errorf("type bind without options: %+v, want a bind", p.Ops[i])
	}
	if len(f) != 1 || f[0].Ints[1] != plan.FlagMkfile {
		t.Errorf("/etc/f (a file): %+v, want one bind made as a file", f)
	}
}

func TestBuildSeccompWithoutNoNewPrivileges(t *testing.T) {
	cfg := defaultConfig(t, []string{"true"}, spec.WithNoNewPrivileges(false))
	p := build(t, cfg)
	wantOrder(t, p, []string{"pass-fds", "seccomp", "bounding", "setuser", "capset", "exec"},
		index(p, plan.OpPassFDs, ""),
		index(p, plan.OpSeccomp, ""),
		index(p, plan.OpBounding, ""),
		index(p, plan.OpSetUser, ""),
		index(p, plan.OpCaps, ""),
		len(p.Ops)-1)
	if i := index(p, plan.OpPrctl, "no_new_privs"); i >= 0 {
		t.Errorf("no_new_privs set (op %d) though the spec does not ask", i)
	}
	if !strings.Contains(p.Ops[index(p, plan.OpSeccomp, "")].What, "CAP_SYS_ADMIN") {
		t.Errorf("seccomp without no_new_privs: What %q does not say it needs CAP_SYS_ADMIN", p.Ops[index(p, plan.OpSeccomp, "")].What)
	}
}

func TestBuildSeccompWithoutFilter(t *testing.T) {
	cfg := defaultConfig(t, []string{"true"})
	cfg.Seccomp = nil
	_, err := initproc.Build(cfg)
	if err == nil || !strings.Contains(err.Error(), "init seccomp: linux.seccomp is set but the runtime sent no compiled filter") {
		t.Errorf("Build without the compiled filter: %v", err)
	}
}

func TestBuildTerminal(t *testing.T) {
	cfg := defaultConfig(t, []string{"sh"}, spec.WithTerminal())
	cfg.Spec.Process.ConsoleSize = &specs.Box{Height: 31, Width: 97}
	cfg.Spec.Process.User.UID = 1000
	p := build(t, cfg)
	wantOrder(t, p, []string{"pivot_root", "console", "ready"},
		index(p, plan.OpPivotRoot, ""), index(p, plan.OpConsole, ""), index(p, plan.OpReady, ""))
	c := p.Ops[index(p, plan.OpConsole, "")]
	if want := []uint64{1000, 31, 97, plan.ConsoleBind}; !slices.Equal(c.Ints, want) {
		t.Errorf("console ints %v, want %v", c.Ints, want)
	}
}

func TestBuildCreateStart(t *testing.T) {
	cfg := defaultConfig(t, []string{"true"})
	cfg.ExecFifo = "/run/md/c1/exec.fifo"
	cfg.PidsMax = "/sys/fs/cgroup/c1/pids.max"
	cfg.PidsLimit = 7
	cfg.KillWithParent = true
	sh := "/bin/sh"
	cfg.Spec.Hooks = &specs.Hooks{
		CreateRuntime:   []specs.Hook{{Path: sh}},
		CreateContainer: []specs.Hook{{Path: sh, Args: []string{"sh", "-c", "exit 0"}, Env: []string{"A=1"}}},
		StartContainer:  []specs.Hook{{Path: sh, Timeout: new(int)}},
	}
	*cfg.Spec.Hooks.StartContainer[0].Timeout = 5
	p := build(t, cfg)
	wantOrder(t, p, []string{"wait-go", "pdeathsig", "fifo-open", "pids-open", "mounts", "hooks", "createContainer hook", "pivot_root", "ready", "fifo-wait", "startContainer hook", "fifo-go", "pass-fds", "pids-write", "pdeathsig again", "exec"},
		index(p, plan.OpWaitGo, ""),
		index(p, plan.OpPrctl, "pdeathsig"),
		index(p, plan.OpFifoOpen, ""),
		index(p, plan.OpPidsOpen, ""),
		index(p, plan.OpMount, "mounts"),
		index(p, plan.OpHooks, ""),
		index(p, plan.OpHook, "createContainer-hooks"),
		index(p, plan.OpPivotRoot, ""),
		index(p, plan.OpReady, ""),
		index(p, plan.OpFifoWait, ""),
		index(p, plan.OpHook, "startContainer-hooks"),
		index(p, plan.OpFifoGo, ""),
		index(p, plan.OpPassFDs, ""),
		index(p, plan.OpPidsWrite, ""),
		lastIndex(p, plan.OpPrctl, "pdeathsig"),
		len(p.Ops)-1)
	if i := index(p, plan.OpWaitStart, ""); i >= 0 {
		t.Errorf("create's plan waits for a Start frame (op %d)", i)
	}
	fo := p.Ops[index(p, plan.OpFifoOpen, "")]
	if string(fo.Strs[0]) != "/run/md/c1" || string(fo.Strs[1]) != "exec.fifo" {
		t.Errorf("fifo-open strs %q", fo.Strs)
	}
	if pw := p.Ops[index(p, plan.OpPidsWrite, "")]; pw.Ints[0] != 7 {
		t.Errorf("pids-write %v", pw.Ints)
	}
	cc := p.Ops[index(p, plan.OpHook, "createContainer-hooks")]
	if string(cc.Strs[1]) != "sh\x00-c\x00exit 0\x00" || string(cc.Strs[2]) != "A=1\x00" || cc.What != "createContainer hook #0 (/bin/sh)" {
		t.Errorf("createContainer hook: %+v", cc)
	}
	var st specs.State
	if err := json.Unmarshal(cc.Strs[3], &st); err != nil || st.ID != "c1" || st.Pid != 1 || st.Status != specs.StateCreating {
		t.Errorf("createContainer hook's state %s (%v): want c1, pid 1, creating", cc.Strs[3], err)
	}
	sc := p.Ops[index(p, plan.OpHook, "startContainer-hooks")]
	if sc.Ints[0] != 5 || string(sc.Strs[1]) != "/bin/sh\x00" || !bytes.Contains(sc.Strs[3], []byte(`"status":"created"`)) {
		t.Errorf("startContainer hook: %+v", sc)
	}
}

func TestBuildExecFile(t *testing.T) {
	for _, tc := range []struct {
		arg0  string
		flags uint64
	}{{"sh", plan.ExecSearch}, {"/bin/sh", 0}, {"./x", 0}} {
		cfg := defaultConfig(t, []string{tc.arg0, "-c", "true"}, spec.WithEnv("PATH=/x:/y"))
		p := build(t, cfg)
		e := p.Ops[len(p.Ops)-1]
		if e.Ints[0] != tc.flags || string(e.Strs[0]) != tc.arg0 || string(e.Strs[1]) != tc.arg0+"\x00-c\x00true\x00" || string(e.Strs[3]) != "/x:/y" {
			t.Errorf("%s: exec op %+v", tc.arg0, e)
		}
	}
	cfg := defaultConfig(t, []string{"sh"}, spec.WithInit())
	cfg.TinyInit = true
	p := build(t, cfg)
	if e := p.Ops[len(p.Ops)-1]; e.Ints[0] != plan.ExecSearch|plan.ExecTinyInit {
		t.Errorf("tiny init: exec flags %#x", e.Ints[0])
	}
}

func TestBuildSharedMounts(t *testing.T) {
	cfg := defaultConfig(t, []string{"true"})
	var ns []specs.LinuxNamespace
	for _, n := range cfg.Spec.Linux.Namespaces {
		if n.Type != specs.MountNamespace {
			ns = append(ns, n)
		}
	}
	cfg.Spec.Linux.Namespaces = ns
	cfg.Spec.Mounts, cfg.Spec.Linux.MaskedPaths, cfg.Spec.Linux.ReadonlyPaths = nil, nil, nil
	p := build(t, cfg)
	for _, c := range []plan.Code{plan.OpMount, plan.OpPivotRoot, plan.OpMknod, plan.OpSetattr} {
		if i := index(p, c, ""); i >= 0 {
			t.Errorf("a container without a mount namespace got %s (op %d): the caller's mount table", c, i)
		}
	}
	wantOrder(t, p, []string{"root", "chroot"}, index(p, plan.OpSetRoot, ""), index(p, plan.OpChroot, ""))
}

func TestBuildJoin(t *testing.T) {
	cfg := defaultConfig(t, []string{"true"})
	for i, n := range cfg.Spec.Linux.Namespaces {
		switch n.Type {
		case specs.MountNamespace:
			cfg.Spec.Linux.Namespaces[i].Path = "/proc/42/ns/mnt"
		case specs.NetworkNamespace:
			cfg.Spec.Linux.Namespaces[i].Path = "/run/netns/n"
		}
	}
	p := build(t, cfg)
	var joined []string
	for _, o := range p.Ops {
		if o.Code == plan.OpSetns {
			joined = append(joined, string(o.Strs[0]))
		}
	}
	if want := []string{"/run/netns/n", "/proc/42/ns/mnt"}; !slices.Equal(joined, want) {
		t.Errorf("setns %v, want %v (the mount namespace last)", joined, want)
	}
	if i := index(p, plan.OpLoopbackUp, ""); i >= 0 {
		t.Errorf("a joined network namespace's lo brought up (op %d)", i)
	}
	wantOrder(t, p, []string{"wait-go", "setns", "propagation"}, 0, index(p, plan.OpSetns, ""), index(p, plan.OpMount, "propagation"))
}

func TestBuildExec(t *testing.T) {
	cfg := defaultConfig(t, []string{"true"})
	p0 := cfg.Spec.Process
	p0.Args = []string{"ls", "-l"}
	p0.Cwd = "/tmp"
	p0.Terminal = true
	p0.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 10}}
	ecfg := &handshake.Config{Spec: &specs.Spec{Process: p0}, Settings: handshake.Settings{Seccomp: cfg.Seccomp, PreserveFDs: 2}}
	p, err := initproc.BuildExec(ecfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Marshal(); err != nil {
		t.Fatal(err)
	}
	want := []plan.Code{plan.OpWaitGo, plan.OpPrctl, plan.OpUmask, plan.OpSetRoot, plan.OpConsole, plan.OpPassFDs, plan.OpRlimit,
		plan.OpBounding, plan.OpSetUser, plan.OpCaps, plan.OpUmask, plan.OpPrctl, plan.OpSeccomp, plan.OpChdir, plan.OpExec}
	if got := codes(p); !slices.Equal(got, want) {
		t.Fatalf("exec plan %v\nwant %v", got, want)
	}
	if c := p.Ops[4]; c.Ints[3]&plan.ConsoleBind != 0 {
		t.Error("exec's console bound on /dev/console")
	}
	if cd := p.Ops[13]; cd.Ints[0]&plan.FlagMkdir != 0 || string(cd.Strs[0]) != "/tmp" {
		t.Errorf("exec's chdir %+v: must not make the directory", cd)
	}
	if pf := p.Ops[5]; pf.Ints[0] != 2 {
		t.Errorf("pass-fds %v", pf.Ints)
	}
	// A container without a mount namespace: chroot into its root.
	ecfg.Spec.Root = &specs.Root{Path: "/srv/root"}
	p, err = initproc.BuildExec(ecfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.Ops[3].Code != plan.OpSetRoot || string(p.Ops[3].Strs[0]) != "/srv/root" || p.Ops[4].Code != plan.OpChroot {
		t.Errorf("exec with a root: %v", codes(p))
	}
	if _, err := initproc.BuildExec(&handshake.Config{Spec: &specs.Spec{Process: &specs.Process{}}}); err == nil {
		t.Error("BuildExec of a process without args succeeded")
	}
}

// TestBuildErrors: what the plan can't carry is refused naming the step
// and the field.
func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*handshake.Config)
		want string
	}{
		{"rlimit", func(c *handshake.Config) {
			c.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOPE"}}
		}, `init rlimits: process.rlimits: unknown type "RLIMIT_NOPE"`},
		{"overlay", func(c *handshake.Config) {
			c.RootOverlay = &handshake.Overlay{Lower: []string{"/a:b"}, Upper: "/u", Work: "/w"}
		}, `init overlay-rootfs: overlay: directory "/a:b"`},
		{"device", func(c *handshake.Config) {
			c.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z"}}
		}, `init linux-devices: linux.devices /dev/x: unknown type "z"`},
		{"sysctl without /proc", func(c *handshake.Config) {
			c.Spec.Mounts = nil
			c.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, "init sysctl: linux.sysctl: /proc/sys in the container is not procfs"},
		{"arg with NUL", func(c *handshake.Config) { c.Spec.Process.Args = []string{"a\x00b"} }, "init exec: process.args[0] holds a NUL byte"},
		{"additional groups where setgroups is denied", func(c *handshake.Config) {
			c.NoSetgroups = true
			c.Spec.Process.User.AdditionalGids = []uint32{5, 6}
		}, "init user: process.user.additionalGids [5 6]: the container's user namespace denies setgroups (its setgroups file says deny)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig(t, []string{"true"})
			tc.edit(cfg)
			_, err := initproc.Build(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBuildSysctlAndOOM(t *testing.T) {
	cfg := defaultConfig(t, []string{"true"})
	cfg.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "4096"}
	adj := -1000
	cfg.Spec.Process.OOMScoreAdj = &adj
	p := build(t, cfg)
	var sysctls []string
	for _, o := range p.Ops {
		if o.Code == plan.OpWriteFile && o.Step == "sysctl" {
			sysctls = append(sysctls, string(o.Strs[0])+"="+string(o.Strs[1]))
			if o.Ints[0] != 0 || !strings.Contains(o.What, "no such sysctl") {
				t.Errorf("sysctl op %+v", o)
			}
		}
	}
	if want := []string{"/proc/sys/kernel/shmmax=4096", "/proc/sys/net/ipv4/ip_forward=1"}; !slices.Equal(sysctls, want) {
		t.Errorf("sysctls %v, want %v", sysctls, want)
	}
	wantOrder(t, p, []string{"pivot_root", "sysctl", "readonly-paths"}, index(p, plan.OpPivotRoot, ""), index(p, plan.OpWriteFile, "sysctl"), index(p, plan.OpMount, "readonly-paths"))
	o := p.Ops[index(p, plan.OpWriteFile, "oom_score_adj")]
	if o.Ints[0] != plan.FlagHost || string(o.Strs[0]) != "/proc/self/oom_score_adj" || string(o.Strs[1]) != "-1000" ||
		!strings.Contains(o.What, "process.oomScoreAdj -1000") || !strings.Contains(o.What, "CAP_SYS_RESOURCE") {
		t.Errorf("oom_score_adj op %+v", o)
	}
}

// TestBuildHostPaths: only the ops that mean the init's own view (the
// rootfs, the propagation of its mount table, its /proc/self) take a path
// as given; every other path is resolved in the container's root.
func TestBuildHostPaths(t *testing.T) {
	cfg := defaultConfig(t, []string{"true"}, spec.WithTerminal())
	adj := 100
	cfg.Spec.Process.OOMScoreAdj = &adj
	cfg.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	cfg.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}
	p := build(t, cfg)
	host := map[string]bool{"propagation": true, "bind-rootfs": true, "overlay-rootfs": true, "oom_score_adj": true}
	for i, o := range p.Ops {
		var pf uint64
		switch o.Code {
		case plan.OpMount:
			pf = o.Ints[1]
		case plan.OpWriteFile:
			pf = o.Ints[0]
		case plan.OpSetattr:
			pf = o.Ints[3]
		}
		if pf&plan.FlagHost != 0 && !host[o.Step] {
			t.Errorf("op %d (%s, step %s) %s: a host path", i, o.Code, o.Step, o.Describe())
		}
	}
}

// TestBuildOverlay: an image's root is the overlay mounted on root.path;
// the root for in-root paths is opened after it (a handle opened before
// would be of the empty directory beneath).
func TestBuildOverlay(t *testing.T) {
	cfg := defaultConfig(t, []string{"true"})
	cfg.RootOverlay = &handshake.Overlay{Lower: []string{"/l1", "/l2"}, Upper: "/u", Work: "/w", Volatile: true}
	p := build(t, cfg)
	ov := index(p, plan.OpMount, "overlay-rootfs")
	wantOrder(t, p, []string{"overlay", "root", "mounts"}, ov, index(p, plan.OpSetRoot, ""), index(p, plan.OpMount, "mounts"))
	if i := index(p, plan.OpMount, "bind-rootfs"); i >= 0 {
		t.Errorf("an overlay root bound onto itself too (op %d)", i)
	}
	o := p.Ops[ov]
	if data := string(o.Strs[3]); !strings.HasPrefix(data, "lowerdir=/l1:/l2,upperdir=/u,workdir=/w") || string(o.Strs[2]) != "overlay" || string(o.Strs[1]) != cfg.Spec.Root.Path {
		t.Errorf("overlay op %+v", o)
	}
}
