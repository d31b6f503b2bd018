package v2

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/devices"
)

// cgroup v2 has no device controller: the kernel asks the
// BPF_PROG_TYPE_CGROUP_DEVICE programs attached to a cgroup and to each
// cgroup above it, at mknod and open of a device node, and refuses with
// EPERM unless each returns 1.
//
// The program gets a struct bpf_cgroup_dev_ctx: access_type (the device
// type, BPF_DEVCG_DEV_BLOCK 1 or BPF_DEVCG_DEV_CHAR 2, in the low 16 bits;
// the access types asked for, BPF_DEVCG_ACC_MKNOD 1, READ 2, WRITE 4, in
// the high 16), major and minor, three 32-bit words.
//
// deviceFilter's program keeps in R6 the access types allowed so far, all
// of them to begin with, and takes the rules in order: a rule that names
// the device adds its access types to R6 (allow) or takes them out (deny).
// At the end it allows the access when R6 holds every type asked for. That
// is the meaning of package devices: for each access type, the last rule
// that names it decides.
//
//	r2 = ctx->access_type & 0xffff    device type
//	r3 = ctx->access_type >> 16       access types asked for
//	r4 = ctx->major; r5 = ctx->minor
//	r6 = 7                            (or 0 after a deny-all)
//	rule i:  if r2 != TYPE goto rule i+1   (no test for type a)
//	         if r4 != MAJOR goto rule i+1  (no test for a wildcard)
//	         if r5 != MINOR goto rule i+1
//	         r6 |= ACCESS  (allow)  or  r6 &= ~ACCESS  (deny)
//	rule n:  r6 ^= 7; r6 &= r3       asked for and not allowed
//	         r0 = 0; if r6 != 0 goto exit; r0 = 1
//	exit:    return r0
//
// The program is written as the kernel's struct bpf_insn, with the
// kernel's names for the opcodes (golang.org/x/sys/unix), and loaded and
// attached with two bpf(2) calls. It uses ten opcodes and jumps only
// forward, to the next rule or over one instruction: that is not worth
// cilium/ebpf, whose packages' initialisation alone (go/format, debug/elf,
// compress/*, encoding/xml among them) cost every start of the runtime
// 0.8 ms on the bench's machine. The tests check the encoding against
// cilium/ebpf's assembler, run each program in an interpreter against
// package devices, and have the kernel's verifier load it.

// Registers of the device program.
const (
	regCtx     = 1
	regType    = 2
	regAccess  = 3
	regMajor   = 4
	regMinor   = 5
	regAllowed = 6
	regResult  = 0
)

// insn is one instruction as the kernel reads it (struct bpf_insn): the
// opcode, the destination and source registers, the offset (of a load, or
// of a jump, in instructions after the next) and the immediate.
type insn struct {
	op       uint8
	dst, src uint8
	off      int16
	imm      int32
}

// The instructions the device program is made of.
func loadWord(dst, src uint8, off int16) insn {
	return insn{op: unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W, dst: dst, src: src, off: off}
}
func alu32Imm(op uint8, dst uint8, imm int32) insn {
	return insn{op: unix.BPF_ALU | op | unix.BPF_K, dst: dst, imm: imm}
}
func alu32Reg(op uint8, dst, src uint8) insn {
	return insn{op: unix.BPF_ALU | op | unix.BPF_X, dst: dst, src: src}
}
func jumpNotEqual(dst uint8, imm int32, skip int16) insn {
	return insn{op: unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K, dst: dst, imm: imm, off: skip}
}
func exit() insn { return insn{op: unix.BPF_JMP | unix.BPF_EXIT} }

// marshal is the program as bpf(BPF_PROG_LOAD) takes it.
func marshal(prog []insn) []byte {
	b := make([]byte, 0, 8*len(prog))
	for _, i := range prog {
		b = append(b, i.op, i.dst&0xf|i.src<<4)
		b = binary.LittleEndian.AppendUint16(b, uint16(i.off))
		b = binary.LittleEndian.AppendUint32(b, uint32(i.imm))
	}
	return b
}

// bpfDeviceType is the kernel's BPF_DEVCG_DEV_* of a rule's device type.
var bpfDeviceType = map[devices.Type]int32{
	devices.Block: 1,
	devices.Char:  2,
}

// deviceFilter compiles rules into the device program. Rules before the
// last deny-all or allow-all decide nothing and are left out.
func deviceFilter(rules []devices.Rule) ([]insn, error) {
	start, from := devices.AllAccess, 0
	for i, r := range rules {
		if r.IsAll() {
			start, from = 0, i+1
			if r.Allow {
				start = devices.AllAccess
			}
		}
	}
	prog := []insn{
		loadWord(regType, regCtx, 0),
		alu32Reg(unix.BPF_MOV, regAccess, regType),
		alu32Imm(unix.BPF_RSH, regAccess, 16),
		alu32Imm(unix.BPF_AND, regType, 0xffff),
		loadWord(regMajor, regCtx, 4),
		loadWord(regMinor, regCtx, 8),
		alu32Imm(unix.BPF_MOV, regAllowed, int32(start)),
	}
	for _, r := range rules[from:] {
		// A rule's tests, each jumping past the rest of the rule when the
		// device is not the rule's.
		type test struct {
			reg   uint8
			value int32
		}
		var tests []test
		if r.Type != devices.AllTypes {
			t, ok := bpfDeviceType[r.Type]
			if !ok {
				return nil, fmt.Errorf("device rule %s: unknown type", r)
			}
			tests = append(tests, test{regType, t})
		}
		if r.Major != devices.Wildcard {
			tests = append(tests, test{regMajor, int32(r.Major)})
		}
		if r.Minor != devices.Wildcard {
			tests = append(tests, test{regMinor, int32(r.Minor)})
		}
		for i, t := range tests {
			prog = append(prog, jumpNotEqual(t.reg, t.value, int16(len(tests)-i)))
		}
		if r.Allow {
			prog = append(prog, alu32Imm(unix.BPF_OR, regAllowed, int32(r.Access)))
		} else {
			prog = append(prog, alu32Imm(unix.BPF_AND, regAllowed, int32(devices.AllAccess&^r.Access)))
		}
	}
	return append(prog,
		alu32Imm(unix.BPF_XOR, regAllowed, int32(devices.AllAccess)),
		alu32Reg(unix.BPF_AND, regAllowed, regAccess),
		alu32Imm(unix.BPF_MOV, regResult, 0),
		jumpNotEqual(regAllowed, 0, 1),
		alu32Imm(unix.BPF_MOV, regResult, 1),
		exit(),
	), nil
}

// progLoadAttr is the head of union bpf_attr for BPF_PROG_LOAD, up to
// prog_name (Linux 4.15, as BPF_PROG_TYPE_CGROUP_DEVICE); the kernel takes
// the fields after it as zero. Its pointers are the kernel's 64-bit
// fields: unsafe.Pointer, not a uint64, so that the garbage collector
// keeps what they point to where it is until the call returns. That
// layout needs 64-bit pointers: the line after it does not compile
// where they are not.
type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       unsafe.Pointer
	license     unsafe.Pointer
	logLevel    uint32
	logSize     uint32
	logBuf      unsafe.Pointer
	kernVersion uint32
	progFlags   uint32
	progName    [16]byte
}

var _ [unsafe.Sizeof(uintptr(0)) - 8]struct{}

// progAttachAttr is union bpf_attr for BPF_PROG_ATTACH.
type progAttachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

// bpf is bpf(2), retried on EINTR and EAGAIN (the verifier gives up on a
// pending signal with EAGAIN).
func bpf(cmd uintptr, attr unsafe.Pointer, size uintptr) (int, error) {
	for {
		r, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(attr), size)
		if errno == unix.EINTR || errno == unix.EAGAIN {
			continue
		}
		if errno != 0 {
			return -1, errno
		}
		return int(r), nil
	}
}

// loadDeviceProgram loads prog as a BPF_PROG_TYPE_CGROUP_DEVICE program
// and returns its file descriptor. When the kernel refuses it, the
// program is loaded again with a log, and the error quotes the verifier's
// reason.
func loadDeviceProgram(prog []insn) (int, error) {
	code := marshal(prog)
	license := []byte("Apache-2.0\x00")
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(prog)),
		insns:    unsafe.Pointer(&code[0]),
		license:  unsafe.Pointer(&license[0]),
	}
	copy(attr.progName[:], "md_devices")
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil && !errors.Is(err, unix.EPERM) {
		log := make([]byte, 64<<10)
		attr.logLevel, attr.logSize = 1, uint32(len(log))
		attr.logBuf = unsafe.Pointer(&log[0])
		if _, again := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); again != nil {
			if last := verifierReason(log); last != "" {
				err = fmt.Errorf("%w (the verifier: %s)", err, last)
			}
		}
	}
	return fd, err
}

// verifierReason is the verifier's reason in its NUL-ended log: the last
// line, before the count of instructions processed that kernels since
// 4.15 end it with.
func verifierReason(log []byte) string {
	if n := bytes.IndexByte(log, 0); n >= 0 {
		log = log[:n]
	}
	lines := strings.Split(strings.TrimRight(string(log), "\n"), "\n")
	for len(lines) > 1 && strings.HasPrefix(lines[len(lines)-1], "processed ") {
		lines = lines[:len(lines)-1]
	}
	return lines[len(lines)-1]
}

// attachDeviceFilter loads the program and attaches it to the cgroup dir
// (BPF_CGROUP_DEVICE, with BPF_F_ALLOW_MULTI so that the programs of the
// cgroups above, systemd's for one, keep running beside it). It uses
// BPF_PROG_ATTACH, not a bpf link: the attachment, not a file descriptor
// of this process, holds the program, so it outlives the process that
// created the container (minimal-runc create); the kernel releases it with
// the cgroup, when Destroy removes the directory.
func attachDeviceFilter(dir string, prog []insn) error {
	progFd, err := loadDeviceProgram(prog)
	if err != nil {
		return fmt.Errorf("cgroup v2 devices: load the device program: %w", err)
	}
	defer unix.Close(progFd)
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	attr := progAttachAttr{
		targetFd:    uint32(fd),
		attachBpfFd: uint32(progFd),
		attachType:  unix.BPF_CGROUP_DEVICE,
		attachFlags: unix.BPF_F_ALLOW_MULTI,
	}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("cgroup v2 devices: attach the device program to %s: %w", dir, err)
	}
	return nil
}
