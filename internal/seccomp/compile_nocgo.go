//go:build !cgo

package seccomp

import specs "github.com/opencontainers/runtime-spec/specs-go"

// compileBPF is nil without cgo: there is no libseccomp in this binary.
var compileBPF func(*specs.LinuxSeccomp) ([]byte, []string, error)

// newCompiler: a pure-Go binary (the runtimes, as make build makes them)
// compiles in minimal-docker-helper.
func newCompiler() compiler { return helperCompiler() }
