package seccomp

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	profiles "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultProfile is Docker's default profile (github.com/moby/profiles)
// resolved for a container whose bounding set is caps ("CAP_SYS_ADMIN" or
// "SYS_ADMIN", any case), this architecture and this kernel: an allow-list
// with EPERM as the default action; clone3 answers ENOSYS (so that libc
// falls back to clone, whose flags are filtered) and clone may not create
// namespaces, unless the container has CAP_SYS_ADMIN; the syscalls a
// capability guards (mount, bpf, ptrace, reboot, settimeofday, ...) are
// allowed only when the container has that capability.
func DefaultProfile(caps []string) *specs.LinuxSeccomp {
	rs := capsSpec(caps)
	p, err := profiles.GetDefaultProfile(rs)
	if err == nil {
		return p
	}
	// Only the kernel's version can fail (a release uname does not give
	// as N.N): leave out the rules that depend on it, which all allow more
	// on newer kernels.
	d := profiles.DefaultProfile()
	kept := d.Syscalls[:0]
	for _, sc := range d.Syscalls {
		if (sc.Includes == nil || sc.Includes.MinKernel == nil) && (sc.Excludes == nil || sc.Excludes.MinKernel == nil) {
			kept = append(kept, sc)
		}
	}
	d.Syscalls = kept
	js, err := json.Marshal(d)
	if err == nil {
		p, err = profiles.LoadProfile(string(js), rs)
	}
	if err != nil || p == nil {
		// Not reached: the profile has no other condition that can fail.
		// Deny everything rather than run unconfined.
		return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}
	}
	return p
}

// LoadDockerProfile reads a profile in Docker's format (docker run
// --security-opt seccomp=PATH: names or name, includes/excludes by caps,
// arches and minKernel, archMap) and resolves it as DefaultProfile does.
// A profile with neither a default action nor syscalls is nil: no filter
// (Docker's rule). "unconfined" is the caller's to handle.
func LoadDockerProfile(path string, caps []string) (*specs.LinuxSeccomp, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	p, err := profiles.LoadProfile(string(b), capsSpec(caps))
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", path, err)
	}
	return p, nil
}

// capsSpec is the little of a spec that moby/profiles reads: the bounding
// set, named CAP_*.
func capsSpec(caps []string) *specs.Spec {
	names := make([]string, 0, len(caps))
	for _, c := range caps {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		names = append(names, c)
	}
	return &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: names}}}
}
