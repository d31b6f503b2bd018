package v2

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
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

// Registers of the device program.
const (
	regType    = asm.R2
	regAccess  = asm.R3
	regMajor   = asm.R4
	regMinor   = asm.R5
	regAllowed = asm.R6
)

// bpfDeviceType is the kernel's BPF_DEVCG_DEV_* of a rule's device type.
var bpfDeviceType = map[devices.Type]int32{
	devices.Block: 1,
	devices.Char:  2,
}

// deviceFilter compiles rules into the device program. Rules before the
// last deny-all or allow-all decide nothing and are left out.
func deviceFilter(rules []devices.Rule) (asm.Instructions, error) {
	start, from := devices.AllAccess, 0
	for i, r := range rules {
		if r.IsAll() {
			start, from = 0, i+1
			if r.Allow {
				start = devices.AllAccess
			}
		}
	}
	rules = rules[from:]
	label := func(i int) string { return fmt.Sprintf("rule%d", i) }
	insns := asm.Instructions{
		asm.LoadMem(regType, asm.R1, 0, asm.Word),
		asm.Mov.Reg32(regAccess, regType),
		asm.RSh.Imm32(regAccess, 16),
		asm.And.Imm32(regType, 0xffff),
		asm.LoadMem(regMajor, asm.R1, 4, asm.Word),
		asm.LoadMem(regMinor, asm.R1, 8, asm.Word),
		asm.Mov.Imm32(regAllowed, int32(start)),
	}
	for i, r := range rules {
		next := label(i + 1)
		var block asm.Instructions
		if r.Type != devices.AllTypes {
			t, ok := bpfDeviceType[r.Type]
			if !ok {
				return nil, fmt.Errorf("device rule %s: unknown type", r)
			}
			block = append(block, asm.JNE.Imm(regType, t, next))
		}
		if r.Major != devices.Wildcard {
			block = append(block, asm.JNE.Imm(regMajor, int32(r.Major), next))
		}
		if r.Minor != devices.Wildcard {
			block = append(block, asm.JNE.Imm(regMinor, int32(r.Minor), next))
		}
		if r.Allow {
			block = append(block, asm.Or.Imm32(regAllowed, int32(r.Access)))
		} else {
			block = append(block, asm.And.Imm32(regAllowed, int32(devices.AllAccess&^r.Access)))
		}
		block[0] = block[0].WithSymbol(label(i))
		insns = append(insns, block...)
	}
	return append(insns,
		asm.Xor.Imm32(regAllowed, int32(devices.AllAccess)).WithSymbol(label(len(rules))),
		asm.And.Reg32(regAllowed, regAccess),
		asm.Mov.Imm32(asm.R0, 0),
		asm.JNE.Imm(regAllowed, 0, "exit"),
		asm.Mov.Imm32(asm.R0, 1),
		asm.Return().WithSymbol("exit"),
	), nil
}

// attachDeviceFilter loads the program and attaches it to the cgroup dir
// (BPF_CGROUP_DEVICE, with BPF_F_ALLOW_MULTI so that the programs of the
// cgroups above, systemd's for one, keep running beside it). It uses
// BPF_PROG_ATTACH, not a bpf link: the attachment, not a file descriptor
// of this process, holds the program, so it outlives the process that
// created the container (minimal-runc create); the kernel releases it with
// the cgroup, when Destroy removes the directory.
func attachDeviceFilter(dir string, insns asm.Instructions) error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "md_devices",
		Type:         ebpf.CGroupDevice,
		Instructions: insns,
		License:      "Apache-2.0",
	})
	if err != nil {
		return fmt.Errorf("cgroup v2 devices: load the device program: %w", err)
	}
	defer prog.Close()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	err = link.RawAttachProgram(link.RawAttachProgramOptions{
		Target:  fd,
		Program: prog,
		Attach:  ebpf.AttachCGroupDevice,
		Flags:   unix.BPF_F_ALLOW_MULTI,
	})
	if err != nil {
		return fmt.Errorf("cgroup v2 devices: attach the device program to %s: %w", dir, err)
	}
	return nil
}
