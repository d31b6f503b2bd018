package seccomp

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestSummary: a compiled filter says what compiled it and where it was
// kept; the same filter from the cache says which file, and still knows
// the names libseccomp did not know (kept in the file).
func TestSummary(t *testing.T) {
	c, n := countingCache(t)
	c.name = "the test compiler"
	compile := c.compile
	c.compile = func(p *specs.LinuxSeccomp) ([]byte, []string, error) {
		prog, _, err := compile(p)
		return prog, []string{"no_such_syscall"}, err
	}
	p := smallProfile()
	r, err := c.Filter(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.Dir, r.Key+".bpf")
	if r.Path != path || r.Compiler != "the test compiler" || !slices.Equal(r.Unknown, []string{"no_such_syscall"}) {
		t.Fatalf("compiled: path %q, compiler %q, unknown %q", r.Path, r.Compiler, r.Unknown)
	}
	rest := "; default action SCMP_ACT_ALLOW; architectures SCMP_ARCH_X86_64,SCMP_ARCH_X86,SCMP_ARCH_X32; 3 rules naming 5 syscalls; 2 instructions; no flags; 1 syscalls libseccomp did not know: no_such_syscall"
	if got, want := Summary(p, r), "seccomp filter compiled now by the test compiler, kept in "+path+rest; got != want {
		t.Errorf("compiled:\n%s\nwant\n%s", got, want)
	}
	r, err = c.Filter(p)
	if err != nil || !r.Cached || *n != 1 {
		t.Fatalf("second run: cached %v, err %v, compilations %d", r.Cached, err, *n)
	}
	if got, want := Summary(p, r), "seccomp filter from the cache file "+path+rest; got != want {
		t.Errorf("cached:\n%s\nwant\n%s", got, want)
	}

	p = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}
	r = Result{Filter: &Filter{Program: make([]byte, 4*sockFilterSize)}, Compiler: "x", CacheErr: errors.New("seccomp cache /c: not used")}
	want := "seccomp filter compiled now by x, not kept (seccomp cache /c: not used); default action SCMP_ACT_ERRNO (EPERM); the native architecture only; 1 rules naming 1 syscalls; 4 instructions; flags SECCOMP_FILTER_FLAG_LOG; every syscall name known to libseccomp"
	if got := Summary(p, r); got != want {
		t.Errorf("not kept:\n%s\nwant\n%s", got, want)
	}
	if got := Summary(nil, Result{}); got != "no seccomp filter" {
		t.Errorf("no profile: %q", got)
	}
}

// TestCacheFileKeepsUnknown: the cache file keeps the names beside the
// program; a file whose names changed fails its checksum.
func TestCacheFileKeepsUnknown(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.bpf")
	prog := make([]byte, 3*sockFilterSize)
	if err := writeProgram(dir, path, prog, []string{"a_call", "b_call"}); err != nil {
		t.Fatal(err)
	}
	got, unknown, ok := readProgram(path)
	if !ok || len(got) != len(prog) || !slices.Equal(unknown, []string{"a_call", "b_call"}) {
		t.Fatalf("read back: ok %v, %d bytes, unknown %q", ok, len(got), unknown)
	}
	if err := writeProgram(dir, path, prog, nil); err != nil {
		t.Fatal(err)
	}
	if got, unknown, ok := readProgram(path); !ok || len(got) != len(prog) || unknown != nil {
		t.Fatalf("read back without names: ok %v, %d bytes, unknown %q", ok, len(got), unknown)
	}
	if err := writeProgram(dir, path, prog, []string{"a_call"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(prog)] = 'x' // a name changed: the checksum fails
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := readProgram(path); ok {
		t.Error("a file whose names changed was read")
	}
}
