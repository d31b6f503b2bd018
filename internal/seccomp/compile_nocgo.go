//go:build !cgo

package seccomp

import specs "github.com/opencontainers/runtime-spec/specs-go"

// compileBPF is nil without cgo: Cache.Filter refuses with ErrNoCgo.
var compileBPF func(*specs.LinuxSeccomp) ([]byte, error)

// Available reports whether this binary can compile profiles (it was
// built with cgo and libseccomp).
const Available = false

func compilerVersion() string { return "" }
