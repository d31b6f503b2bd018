// Package bpf is a compiled seccomp filter as it travels to the child in
// the plan (see package seccomp), with no cgo and no libseccomp, so that
// the runtimes link neither; the child (the plan's C interpreter) installs
// it with one seccomp(2) call. Install does the same in Go, for the tests
// that check a compiled filter against the kernel.
package bpf

import "fmt"

// Filter is a compiled linux.seccomp: a classic BPF program (an array of
// struct sock_filter in the host's byte order) and the seccomp(2) flags to
// install it with. It travels to the child in the handshake.
type Filter struct {
	Program []byte `json:"program"`
	Flags   uint   `json:"flags,omitempty"`
}

// Instructions is the program's length in BPF instructions.
func (f *Filter) Instructions() int { return len(f.Program) / SockFilterSize }

// Check refuses a program the kernel would: empty, not whole
// instructions, or longer than MaxInsns.
func (f *Filter) Check() error {
	n := f.Instructions()
	if n == 0 || len(f.Program)%SockFilterSize != 0 || n > MaxInsns {
		return fmt.Errorf("seccomp: bad program of %d bytes (want a multiple of %d, 1 to %d instructions)", len(f.Program), SockFilterSize, MaxInsns)
	}
	return nil
}

// SockFilterSize is sizeof(struct sock_filter): code u16, jt u8, jf u8, k u32.
const SockFilterSize = 8

// MaxInsns is the kernel's limit on a filter's length (BPF_MAXINSNS).
const MaxInsns = 4096
