//go:build cgo

package seccomp

import (
	"fmt"
	"io"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// compileBPF is the compiler in this binary: libseccomp.
var compileBPF = compile

// newCompiler: a binary built with cgo (the helper, the tests) compiles
// with its own libseccomp.
func newCompiler() compiler {
	v := compilerVersion()
	return compiler{compile: compile, version: v, name: v + " in this binary"}
}

// compilerVersion names the libseccomp in use, for the cache key: another
// libseccomp may compile the same profile differently.
func compilerVersion() string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("libseccomp %d.%d.%d", major, minor, micro)
}

// scmpActions is each action's libseccomp value.
var scmpActions = map[action]libseccomp.ScmpAction{
	actKillThread:  libseccomp.ActKillThread,
	actKillProcess: libseccomp.ActKillProcess,
	actTrap:        libseccomp.ActTrap,
	actErrno:       libseccomp.ActErrno,
	actTrace:       libseccomp.ActTrace,
	actAllow:       libseccomp.ActAllow,
	actLog:         libseccomp.ActLog,
}

// scmpOps is each operator's libseccomp value.
var scmpOps = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

// scmpAction resolves an action name (checked by check) and its errno.
func scmpAction(a specs.LinuxSeccompAction, errnoRet *uint) libseccomp.ScmpAction {
	act := scmpActions[actions[a]]
	if act == libseccomp.ActErrno || act == libseccomp.ActTrace {
		act = act.SetReturnCode(int16(errnoOf(errnoRet)))
	}
	return act
}

// compile turns p (already checked) into a classic BPF program with
// libseccomp, as runc does: a syscall name unknown to this libseccomp is
// skipped (and returned in unknown, each name once, in the profile's
// order); a rule with the default action is left out (libseccomp refuses
// it, and it changes nothing); conditions on distinct arguments are ANDed
// in one rule, and when one argument is compared more than once each
// condition becomes a rule of its own (ORed), since libseccomp cannot AND
// two comparisons of one argument.
func compile(p *specs.LinuxSeccomp) (prog []byte, unknown []string, err error) {
	if _, err := check(p); err != nil {
		return nil, nil, err
	}
	def := scmpAction(p.DefaultAction, p.DefaultErrnoRet)
	filter, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, nil, fmt.Errorf("linux.seccomp: libseccomp: new filter: %w", err)
	}
	defer filter.Release()
	for _, a := range p.Architectures {
		arch, err := libseccomp.GetArchFromString(arches[a])
		if err == nil {
			err = filter.AddArch(arch)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("linux.seccomp.architectures: %s: %s: %w", a, compilerVersion(), err)
		}
	}
	for i, sc := range p.Syscalls {
		act := scmpAction(sc.Action, sc.ErrnoRet)
		if act == def {
			continue
		}
		rules, err := conditions(sc.Args)
		if err != nil {
			return nil, nil, fmt.Errorf("linux.seccomp.syscalls[%d]: %w", i, err)
		}
		for _, name := range sc.Names {
			nr, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				// Not a syscall here (another arch, a newer kernel).
				if !slices.Contains(unknown, name) {
					unknown = append(unknown, name)
				}
				continue
			}
			for _, conds := range rules {
				if err := filter.AddRuleConditional(nr, act, conds); err != nil {
					return nil, nil, fmt.Errorf("linux.seccomp.syscalls[%d] %s: libseccomp: add rule: %w", i, name, err)
				}
			}
		}
	}
	prog, err = export(filter)
	if err != nil {
		return nil, nil, err
	}
	return prog, unknown, nil
}

// conditions turns a rule's args into the condition lists of the
// libseccomp rules to add: one list (ANDed), or one per condition when an
// argument index repeats.
func conditions(args []specs.LinuxSeccompArg) ([][]libseccomp.ScmpCondition, error) {
	if len(args) == 0 {
		return [][]libseccomp.ScmpCondition{nil}, nil
	}
	var conds []libseccomp.ScmpCondition
	var seen [maxArgs]int
	repeat := false
	for j, a := range args {
		c, err := libseccomp.MakeCondition(a.Index, scmpOps[a.Op], a.Value, a.ValueTwo)
		if err != nil {
			return nil, fmt.Errorf("args[%d]: %w", j, err)
		}
		conds = append(conds, c)
		seen[a.Index]++
		repeat = repeat || seen[a.Index] > 1
	}
	if !repeat {
		return [][]libseccomp.ScmpCondition{conds}, nil
	}
	out := make([][]libseccomp.ScmpCondition, len(conds))
	for i, c := range conds {
		out[i] = []libseccomp.ScmpCondition{c}
	}
	return out, nil
}

// export writes the filter's BPF program to memory: libseccomp 2.6 does it
// directly; before that, through a memfd.
func export(filter *libseccomp.ScmpFilter) ([]byte, error) {
	if b, err := filter.ExportBPFMem(); err == nil {
		return b, nil
	}
	fd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	f := os.NewFile(uintptr(fd), "seccomp-bpf")
	defer f.Close()
	if err := filter.ExportBPF(f); err != nil {
		return nil, fmt.Errorf("linux.seccomp: libseccomp: export BPF: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: read exported BPF: %w", err)
	}
	return b, nil
}
