//go:build !(amd64 || arm64 || riscv64 || loong64 || ppc64 || ppc64le || s390x || mips64 || mips64le)

package initproc

// threadIDs: on the 32-bit ABIs (where the 32-bit-id calls are named
// setresuid32 and so on) every thread changes, as Go's syscall package does.
var threadIDs = processIDs
