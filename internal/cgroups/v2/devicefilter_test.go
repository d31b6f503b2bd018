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

func compile(t *testing.T, spec []specs.LinuxDeviceCgroup) ([]devices.Rule, []insn) {
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

// TestDeviceFilterAssembles: every program is 8 bytes an instruction,
// ends in exit, jumps only forward and within itself, and a deny-all or
// allow-all leaves the rules before it out.
func TestDeviceFilterAssembles(t *testing.T) {
	for name, spec := range ruleLists {
		t.Run(name, func(t *testing.T) {
			_, prog := compile(t, spec)
			if n := len(marshal(prog)); n != 8*len(prog) {
				t.Errorf("%d bytes for %d instructions", n, len(prog))
			}
			if last := prog[len(prog)-1]; last != exit() {
				t.Errorf("the program ends in %+v, want exit", last)
			}
			for pc, i := range prog {
				if i.op&0x07 == unix.BPF_JMP && i.op != exit().op {
					if to := pc + 1 + int(i.off); i.off < 0 || to >= len(prog) {
						t.Errorf("instruction %d jumps to %d, outside the program's %d", pc, to, len(prog))
					}
				}
			}
		})
	}
	_, full := compile(t, ruleLists["reset in the middle"])
	_, short := compile(t, []specs.LinuxDeviceCgroup{dev(false, "c", 1, 3, "w")})
	if len(full) != len(short) {
		t.Errorf("the rules before an allow-all are compiled in: %d instructions, want %d\n%v", len(full), len(short), full)
	}
}

// TestInstructionEncoding: each kind of instruction the device program is
// made of is encoded as cilium/ebpf's assembler encodes it (a library the
// runtime does not link: devicefilter.go says why).
func TestInstructionEncoding(t *testing.T) {
	for _, tt := range []struct {
		ours   insn
		theirs asm.Instruction
	}{
		{loadWord(regMajor, regCtx, 4), asm.LoadMem(asm.R4, asm.R1, 4, asm.Word)},
		{alu32Reg(unix.BPF_MOV, regAccess, regType), asm.Mov.Reg32(asm.R3, asm.R2)},
		{alu32Reg(unix.BPF_AND, regAllowed, regAccess), asm.And.Reg32(asm.R6, asm.R3)},
		{alu32Imm(unix.BPF_RSH, regAccess, 16), asm.RSh.Imm32(asm.R3, 16)},
		{alu32Imm(unix.BPF_AND, regType, 0xffff), asm.And.Imm32(asm.R2, 0xffff)},
		{alu32Imm(unix.BPF_MOV, regAllowed, 7), asm.Mov.Imm32(asm.R6, 7)},
		{alu32Imm(unix.BPF_OR, regAllowed, 2), asm.Or.Imm32(asm.R6, 2)},
		{alu32Imm(unix.BPF_XOR, regAllowed, 7), asm.Xor.Imm32(asm.R6, 7)},
		{jumpNotEqual(regMinor, 229, 3), asm.Instruction{OpCode: asm.JNE.Op(asm.ImmSource), Dst: asm.R5, Constant: 229, Offset: 3}},
		{jumpNotEqual(regMajor, -1, 1), asm.Instruction{OpCode: asm.JNE.Op(asm.ImmSource), Dst: asm.R4, Constant: -1, Offset: 1}},
		{exit(), asm.Return()},
	} {
		var want bytes.Buffer
		if _, err := tt.theirs.Marshal(&want, binary.LittleEndian); err != nil {
			t.Fatalf("%v: %v", tt.theirs, err)
		}
		if got := marshal([]insn{tt.ours}); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%+v encodes as % x, cilium/ebpf's %v as % x", tt.ours, got, tt.theirs, want.Bytes())
		}
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
func interpret(prog []insn, devType int32, access devices.Access, major, minor int64) (uint64, error) {
	ctx := []uint32{uint32(access)<<16 | uint32(devType), uint32(major), uint32(minor)}
	var reg [11]uint64
	for pc := 0; pc < len(prog); {
		ins := prog[pc]
		pc++
		switch class, op, x := ins.op&0x07, ins.op&0xf0, ins.op&0x08 != 0; class {
		case unix.BPF_LDX:
			if ins.op != unix.BPF_LDX|unix.BPF_MEM|unix.BPF_W || ins.src != regCtx || ins.off%4 != 0 || ins.off > 8 || ins.off < 0 {
				return 0, fmt.Errorf("unexpected load %+v", ins)
			}
			reg[ins.dst] = uint64(ctx[ins.off/4])
		case unix.BPF_ALU:
			src := uint64(uint32(ins.imm))
			if x {
				src = reg[ins.src]
			}
			dst := reg[ins.dst]
			switch op {
			case unix.BPF_MOV:
				dst = src
			case unix.BPF_AND:
				dst &= src
			case unix.BPF_OR:
				dst |= src
			case unix.BPF_XOR:
				dst ^= src
			case unix.BPF_RSH:
				dst = uint64(uint32(dst) >> src)
			default:
				return 0, fmt.Errorf("unexpected ALU op %+v", ins)
			}
			reg[ins.dst] = uint64(uint32(dst))
		case unix.BPF_JMP:
			if op == unix.BPF_EXIT {
				return reg[regResult], nil
			}
			if x || op != unix.BPF_JNE || ins.off < 0 {
				return 0, fmt.Errorf("unexpected jump %+v", ins)
			}
			if reg[ins.dst] != uint64(ins.imm) {
				pc += int(ins.off)
			}
		default:
			return 0, fmt.Errorf("unexpected instruction %+v", ins)
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
			_, prog := compile(t, spec)
			fd, err := loadDeviceProgram(prog)
			if err != nil {
				if name == "none" && errors.Is(err, unix.EPERM) {
					t.Skipf("loading a BPF program is not permitted here: %v", err)
				}
				t.Fatalf("load: %v", err)
			}
			unix.Close(fd)
		})
	}
	// A program the verifier refuses (it returns R0 unset): the error
	// quotes the verifier's reason.
	_, err := loadDeviceProgram([]insn{exit()})
	if err == nil || !strings.Contains(err.Error(), "the verifier: ") || !strings.Contains(err.Error(), "R0") {
		t.Errorf("load of a program that leaves R0 unset = %v, want the verifier's reason", err)
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
	m.attach = func(d string, insns []insn) error {
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
	m.attach = func(d string, insns []insn) error { attached = append(attached, d); return nil }
	if err := m.Create(limits()); err != nil {
		t.Fatal(err)
	}
	m.Destroy()
	m = newTestManager(t, &fake{}, dir)
	m.attach = func(d string, insns []insn) error { attached = append(attached, d); return nil }
	if err := m.Create(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{dev(true, "a", -1, -1, "rwm")}}); err != nil {
		t.Fatal(err)
	}
	m.Destroy()
	if len(attached) != 0 {
		t.Errorf("attached %v without device rules, or for an allow-all", attached)
	}

	m = newTestManager(t, &fake{}, dir)
	m.attach = func(string, []insn) error { return errors.New("no bpf here") }
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
		m.attach = func(string, []insn) error { return fmt.Errorf("load program: %w", unix.EPERM) }
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
