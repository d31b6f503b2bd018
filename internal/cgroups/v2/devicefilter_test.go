package v2

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/devices"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// dev is a spec device rule: t "" for all types, major or minor -1 for any.
func dev(allow bool, t string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	d := specs.LinuxDeviceCgroup{Allow: allow, Type: t, Access: access}
	if major >= 0 {
		d.Major = cgfstest.I64(major)
	}
	if minor >= 0 {
		d.Minor = cgfstest.I64(minor)
	}
	return d
}

var denyAll = dev(false, "a", -1, -1, "rwm")

// ruleLists are device rule lists of every shape the program compiles.
var ruleLists = map[string][]specs.LinuxDeviceCgroup{
	"none":      nil,
	"deny all":  {denyAll},
	"allow all": {dev(true, "a", -1, -1, "rwm")},
	"docker-like": {denyAll, dev(true, "c", 1, 3, "rwm"), dev(true, "c", 1, 5, "rwm"), dev(true, "c", 1, 7, "rwm"),
		dev(true, "c", 1, 8, "rwm"), dev(true, "c", 1, 9, "rwm"), dev(true, "c", 5, 0, "rwm"),
		dev(true, "c", 136, -1, "rwm"), dev(true, "c", 5, 2, "rwm")},
	"deny list":             {dev(false, "c", 1, 5, "rw"), dev(false, "b", 8, -1, "rwm")},
	"later deny":            {denyAll, dev(true, "c", -1, -1, "rwm"), dev(false, "c", 1, 5, "r")},
	"later allow":           {dev(false, "", 1, -1, "rwm"), dev(true, "c", 1, 5, "w")},
	"type a, some access":   {denyAll, dev(true, "", -1, 3, "m"), dev(true, "a", 1, -1, "r")},
	"reset in the middle":   {denyAll, dev(true, "c", 1, 3, "rwm"), dev(true, "a", -1, -1, "rwm"), dev(false, "c", 1, 3, "w")},
	"deny all in the end":   {dev(true, "c", 1, 3, "rwm"), denyAll},
	"access from two rules": {denyAll, dev(true, "c", 1, 3, "r"), dev(true, "c", 1, -1, "w")},
}

func compile(t *testing.T, spec []specs.LinuxDeviceCgroup) ([]devices.Rule, asm.Instructions) {
	t.Helper()
	rules, err := devices.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	insns, err := deviceFilter(rules)
	if err != nil {
		t.Fatal(err)
	}
	return rules, insns
}

// TestDeviceFilterAssembles: every program encodes (its jumps resolve),
// ends in exit, and a deny-all or allow-all leaves the rules before it out.
func TestDeviceFilterAssembles(t *testing.T) {
	for name, spec := range ruleLists {
		t.Run(name, func(t *testing.T) {
			_, insns := compile(t, spec)
			var buf bytes.Buffer
			if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
				t.Fatalf("marshal: %v\n%v", err, insns)
			}
			if buf.Len() != 8*len(insns) {
				t.Errorf("%d bytes for %d instructions", buf.Len(), len(insns))
			}
			if last := insns[len(insns)-1]; last.OpCode.JumpOp() != asm.Exit {
				t.Errorf("the program ends in %v, want exit", last)
			}
		})
	}
	_, full := compile(t, ruleLists["reset in the middle"])
	_, short := compile(t, []specs.LinuxDeviceCgroup{dev(false, "c", 1, 3, "w")})
	if len(full) != len(short) {
		t.Errorf("the rules before an allow-all are compiled in: %d instructions, want %d\n%v", len(full), len(short), full)
	}
}

// TestDeviceFilterMeansWhatRulesSay runs each program, in the small BPF
// interpreter below, for a grid of devices and access types, against
// devices.Allowed.
func TestDeviceFilterMeansWhatRulesSay(t *testing.T) {
	accesses := []devices.Access{devices.Read, devices.Write, devices.Mknod, devices.Read | devices.Write, devices.AllAccess}
	for name, spec := range ruleLists {
		t.Run(name, func(t *testing.T) {
			rules, insns := compile(t, spec)
			for _, ty := range []devices.Type{devices.Char, devices.Block} {
				for _, d := range [][2]int64{{1, 3}, {1, 5}, {1, 7}, {5, 2}, {136, 4}, {8, 0}, {8, 3}, {10, 229}} {
					for _, a := range accesses {
						want := devices.Allowed(rules, ty, d[0], d[1], a)
						got, err := interpret(insns, bpfDeviceType[ty], a, d[0], d[1])
						if err != nil {
							t.Fatalf("%v\n%v", err, insns)
						}
						if (got == 1) != want {
							t.Errorf("%c %d:%d %s: the program returns %d, want allowed=%v", ty, d[0], d[1], a, got, want)
						}
					}
				}
			}
		})
	}
}

// interpret runs a device program on a struct bpf_cgroup_dev_ctx. It knows
// the instructions deviceFilter emits, and fails on any other.
func interpret(insns asm.Instructions, devType int32, access devices.Access, major, minor int64) (uint64, error) {
	ctx := []uint32{uint32(access)<<16 | uint32(devType), uint32(major), uint32(minor)}
	targets := map[string]int{}
	for i, ins := range insns {
		if s := ins.Symbol(); s != "" {
			targets[s] = i
		}
	}
	var reg [11]uint64
	for pc, steps := 0, 0; pc < len(insns); steps++ {
		if steps > 10000 {
			return 0, errors.New("the program does not end")
		}
		ins := insns[pc]
		op := ins.OpCode
		pc++
		switch op.Class() {
		case asm.LdXClass:
			if op.Mode() != asm.MemMode || op.Size() != asm.Word || ins.Src != asm.R1 || ins.Offset%4 != 0 || ins.Offset > 8 {
				return 0, fmt.Errorf("unexpected load %v", ins)
			}
			reg[ins.Dst] = uint64(ctx[ins.Offset/4])
		case asm.ALUClass:
			src := uint64(uint32(ins.Constant))
			if op.Source() == asm.RegSource {
				src = reg[ins.Src]
			}
			dst := reg[ins.Dst]
			switch op.ALUOp() {
			case asm.Mov:
				dst = src
			case asm.And:
				dst &= src
			case asm.Or:
				dst |= src
			case asm.Xor:
				dst ^= src
			case asm.RSh:
				dst = uint64(uint32(dst) >> src)
			default:
				return 0, fmt.Errorf("unexpected ALU op %v", ins)
			}
			reg[ins.Dst] = uint64(uint32(dst))
		case asm.JumpClass:
			if op.JumpOp() == asm.Exit {
				return reg[asm.R0], nil
			}
			if op.Source() != asm.ImmSource {
				return 0, fmt.Errorf("unexpected jump %v", ins)
			}
			var jump bool
			switch op.JumpOp() {
			case asm.JEq:
				jump = reg[ins.Dst] == uint64(ins.Constant)
			case asm.JNE:
				jump = reg[ins.Dst] != uint64(ins.Constant)
			default:
				return 0, fmt.Errorf("unexpected jump %v", ins)
			}
			if jump {
				target, ok := targets[ins.Reference()]
				if !ok {
					return 0, fmt.Errorf("jump to the unknown label %q", ins.Reference())
				}
				pc = target
			}
		default:
			return 0, fmt.Errorf("unexpected instruction %v", ins)
		}
	}
	return 0, errors.New("the program runs off its end")
}

// TestDeviceFilterLoads loads each program into the kernel, whose verifier
// must accept it (root).
func TestDeviceFilterLoads(t *testing.T) {
	testenv.RequireRoot(t)
	for name, spec := range ruleLists {
		t.Run(name, func(t *testing.T) {
			_, insns := compile(t, spec)
			prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.CGroupDevice, Instructions: insns, License: "Apache-2.0"})
			if err != nil {
				if name == "none" && errors.Is(err, unix.EPERM) {
					t.Skipf("loading a BPF program is not permitted here: %v", err)
				}
				t.Fatalf("load: %v", err)
			}
			prog.Close()
		})
	}
}

// TestDeviceFilterAttached attaches a program allowing /dev/null only to a
// new cgroup2 directory beneath this process's own v2 cgroup (on a hybrid
// host, in the v2 tree without controllers: device programs need none),
// starts processes in it, and checks that /dev/null opens and /dev/zero
// does not. Removing the directory releases the program (root).
func TestDeviceFilterAttached(t *testing.T) {
	testenv.RequireRoot(t)
	parent, err := ownCgroup2()
	if err != nil {
		t.Skipf("no cgroup2 directory of this process to work beneath: %v", err)
	}
	dir := filepath.Join(parent, fmt.Sprintf("md-devices-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup beneath %s: %v", parent, err)
	}
	t.Cleanup(func() {
		if err := unix.Rmdir(dir); err != nil {
			t.Errorf("rmdir %s: %v", dir, err)
		}
	})
	_, insns := compile(t, []specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rw")})
	if err := attachDeviceFilter(dir, insns); err != nil {
		t.Fatalf("attach: %v", err)
	}
	for _, tt := range []struct {
		path string
		want string
	}{{"/dev/null", "opened"}, {"/dev/zero", "operation not permitted"}} {
		out, err := openInCgroup(t, dir, tt.path)
		if !strings.Contains(out, tt.want) {
			t.Errorf("open %s in the cgroup: %q (%v), want %q", tt.path, out, err, tt.want)
		}
	}
	// A process outside the cgroup is not concerned.
	if f, err := os.Open("/dev/zero"); err != nil {
		t.Errorf("open /dev/zero outside the cgroup: %v", err)
	} else {
		f.Close()
	}
}

// ownCgroup2 is the directory of this process's cgroup in the cgroup2
// mount (/sys/fs/cgroup on v2, /sys/fs/cgroup/unified on a hybrid host).
func ownCgroup2() (string, error) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	mount := ""
	sc := bufio.NewScanner(bytes.NewReader(mi))
	for sc.Scan() {
		pre, post, _ := strings.Cut(sc.Text(), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) >= 5 && len(g) >= 1 && g[0] == "cgroup2" && f[3] == "/" {
			mount = f[4]
			break
		}
	}
	if mount == "" {
		return "", errors.New("no cgroup2 mount")
	}
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(cg), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return filepath.Join(mount, p), nil
		}
	}
	return "", errors.New("no cgroup2 line in /proc/self/cgroup")
}

// openInCgroup runs this test binary as the helper below, born in the
// cgroup dir (CLONE_INTO_CGROUP), to open path for reading.
func openInCgroup(t *testing.T, dir, path string) (string, error) {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeviceOpenHelper$")
	cmd.Env = append(os.Environ(), "MD_DEVICE_OPEN="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	out, err := cmd.CombinedOutput()
	return strings.ToLower(string(out)), err
}

// TestDeviceOpenHelper is the process of openInCgroup; it does nothing in
// an ordinary run.
func TestDeviceOpenHelper(t *testing.T) {
	path := os.Getenv("MD_DEVICE_OPEN")
	if path == "" {
		t.Skip("a helper of TestDeviceFilterAttached")
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	f.Close()
	fmt.Println("opened")
	os.Exit(0)
}

// TestCreateAttachesDevices: Create compiles the rules and attaches the
// program to the container's directory after writing the limits; no rules,
// no program; a failing attach undoes Create; Update refuses device rules.
func TestCreateAttachesDevices(t *testing.T) {
	mount := newMount(t, allControllers)
	dir := filepath.Join(mount, "ctr")
	m := newTestManager(t, &fake{}, dir)
	var attached []string
	m.attach = func(d string, insns asm.Instructions) error {
		if cgfstest.ReadFile(t, d, pidsMax) != "10" {
			t.Error("the program is attached before the limits are written")
		}
		attached = append(attached, fmt.Sprintf("%s: %d instructions", d, len(insns)))
		return nil
	}
	r := limits()
	r.Devices = []specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rwm")}
	if err := m.Create(r); err != nil {
		t.Fatal(err)
	}
	if len(attached) != 1 || !strings.HasPrefix(attached[0], dir+": ") {
		t.Errorf("attached %v, want one program to %s", attached, dir)
	}
	if err := m.Update(&specs.LinuxResources{Devices: r.Devices}); err == nil || !strings.Contains(err.Error(), "cannot be updated") {
		t.Errorf("Update of device rules = %v, want a refusal", err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}

	attached = nil
	m = newTestManager(t, &fake{}, dir)
	m.attach = func(d string, insns asm.Instructions) error { attached = append(attached, d); return nil }
	if err := m.Create(limits()); err != nil {
		t.Fatal(err)
	}
	m.Destroy()
	m = newTestManager(t, &fake{}, dir)
	m.attach = func(d string, insns asm.Instructions) error { attached = append(attached, d); return nil }
	if err := m.Create(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{dev(true, "a", -1, -1, "rwm")}}); err != nil {
		t.Fatal(err)
	}
	m.Destroy()
	if len(attached) != 0 {
		t.Errorf("attached %v without device rules, or for an allow-all", attached)
	}

	m = newTestManager(t, &fake{}, dir)
	m.attach = func(string, asm.Instructions) error { return errors.New("no bpf here") }
	if err := m.Create(r); err == nil || !strings.Contains(err.Error(), "no bpf here") {
		t.Fatalf("Create with a failing attach = %v", err)
	}
	if cgfstest.Exists(dir) {
		t.Error("a failed Create left the container's directory")
	}
	// bpf(2) refused for want of privilege: an error on the host, passed
	// over in a user namespace (a rootless runtime's delegated cgroup).
	for _, userns := range []bool{false, true} {
		m = newTestManager(t, &fake{}, dir)
		m.attach = func(string, asm.Instructions) error { return fmt.Errorf("load program: %w", unix.EPERM) }
		m.inUserNS = func() bool { return userns }
		err := m.Create(r)
		if userns && err != nil {
			t.Errorf("Create in a user namespace, bpf refused: %v, want the cgroup without the program", err)
		}
		if !userns && !errors.Is(err, unix.EPERM) {
			t.Errorf("Create on the host, bpf refused: %v, want EPERM", err)
		}
		if err := m.Destroy(); err != nil {
			t.Fatal(err)
		}
	}
	m = newTestManager(t, &fake{}, dir)
	if err := m.Create(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x", Access: "r"}}}); err == nil ||
		!strings.Contains(err.Error(), "linux.resources.devices[0]") {
		t.Fatalf("Create with a bad rule = %v", err)
	}
}
