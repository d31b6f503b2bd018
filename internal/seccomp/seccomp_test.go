package seccomp

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func uptr(v uint) *uint { return &v }

// smallProfile allows everything but mkdir/mkdirat (EPERM) and uname
// (errno 38), with one argument comparison.
func smallProfile() *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat", "no_such_syscall"}, Action: specs.ActErrno},
			{Names: []string{"uname"}, Action: specs.ActErrno, ErrnoRet: uptr(38)},
			{Names: []string{"personality"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 0xffffffff, Op: specs.OpEqualTo},
			}},
		},
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*specs.LinuxSeccomp)
		want string // substring of the error; "" for none
	}{
		{"valid", func(*specs.LinuxSeccomp) {}, ""},
		{"unknown default action", func(p *specs.LinuxSeccomp) { p.DefaultAction = "SCMP_ACT_NOPE" }, `defaultAction: unknown action "SCMP_ACT_NOPE"`},
		{"empty default action", func(p *specs.LinuxSeccomp) { p.DefaultAction = "" }, `defaultAction: unknown action ""`},
		{"unknown rule action", func(p *specs.LinuxSeccomp) { p.Syscalls[1].Action = "SCMP_ACT_MAYBE" }, `syscalls[1].action: unknown action "SCMP_ACT_MAYBE"`},
		{"unknown operator", func(p *specs.LinuxSeccomp) { p.Syscalls[2].Args[0].Op = "SCMP_CMP_ALMOST" }, `syscalls[2].args[0].op: unknown operator "SCMP_CMP_ALMOST"`},
		{"argument index", func(p *specs.LinuxSeccomp) { p.Syscalls[2].Args[0].Index = 6 }, `syscalls[2].args[0].index: 6`},
		{"unknown arch", func(p *specs.LinuxSeccomp) { p.Architectures = append(p.Architectures, "SCMP_ARCH_Z80") }, `unknown architecture "SCMP_ARCH_Z80"`},
		{"unknown flag", func(p *specs.LinuxSeccomp) { p.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_FAST"} }, `unknown flag "SECCOMP_FILTER_FLAG_FAST"`},
		{"notify default", func(p *specs.LinuxSeccomp) { p.DefaultAction = specs.ActNotify }, "SCMP_ACT_NOTIFY"},
		{"notify rule", func(p *specs.LinuxSeccomp) { p.Syscalls[0].Action = specs.ActNotify }, "syscalls[0].action: SCMP_ACT_NOTIFY"},
		{"listener path", func(p *specs.LinuxSeccomp) { p.ListenerPath = "/run/l.sock" }, "listenerPath"},
		{"errno too big", func(p *specs.LinuxSeccomp) { p.Syscalls[1].ErrnoRet = uptr(70000) }, "syscalls[1].errnoRet: 70000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := smallProfile()
			tc.edit(p)
			_, err := check(p)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("check: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestCheckFlags(t *testing.T) {
	p := smallProfile()
	p.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv, "SECCOMP_FILTER_FLAG_TSYNC"}
	fl, err := check(p)
	if err != nil {
		t.Fatal(err)
	}
	want := uint(unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW | unix.SECCOMP_FILTER_FLAG_TSYNC)
	if fl != want {
		t.Errorf("flags = %#x, want %#x (WAIT_KILLABLE_RECV dropped: no listener)", fl, want)
	}
}

// countingCache is a cache whose compiler counts its calls and returns a
// fixed two-instruction program (RET ALLOW twice).
func countingCache(t *testing.T) (*Cache, *int) {
	n := 0
	prog := []byte{0x06, 0, 0, 0, 0, 0, 0xff, 0x7f, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f}
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache"), compiler: compiler{version: "test 1", compile: func(*specs.LinuxSeccomp) ([]byte, []string, error) {
		n++
		return prog, nil, nil
	}}}
	return c, &n
}

func TestCacheHitDoesNotCompile(t *testing.T) {
	c, n := countingCache(t)
	r1, err := c.Filter(smallProfile())
	if err != nil {
		t.Fatal(err)
	}
	if r1.Cached || *n != 1 || r1.CacheErr != nil {
		t.Fatalf("first: cached %v, compilations %d, cache error %v; want compiled once and written", r1.Cached, *n, r1.CacheErr)
	}
	r2, err := c.Filter(smallProfile())
	if err != nil {
		t.Fatal(err)
	}
	if !r2.Cached || *n != 1 {
		t.Fatalf("second: cached %v, compilations %d; want a hit and no compilation", r2.Cached, *n)
	}
	if string(r2.Filter.Program) != string(r1.Filter.Program) || r2.Key != r1.Key {
		t.Errorf("the hit differs from what was compiled")
	}
	// A fresh Cache on the same directory (another run) hits too.
	c2 := &Cache{Dir: c.Dir, compiler: c.compiler}
	if r3, err := c2.Filter(smallProfile()); err != nil || !r3.Cached || *n != 1 {
		t.Fatalf("another run: cached %v (%v), compilations %d", r3.Cached, err, *n)
	}
	files, _ := filepath.Glob(filepath.Join(c.Dir, "*"))
	if len(files) != 1 || !strings.HasSuffix(files[0], r1.Key+".bpf") {
		t.Errorf("cache holds %v, want only %s.bpf (no temporary files)", files, r1.Key)
	}
}

func TestCacheKey(t *testing.T) {
	c, _ := countingCache(t)
	base := c.Key(smallProfile())
	if c.Key(smallProfile()) != base {
		t.Fatal("the key of an equal profile differs")
	}
	for name, edit := range map[string]func(*specs.LinuxSeccomp){
		"default action": func(p *specs.LinuxSeccomp) { p.DefaultAction = specs.ActLog },
		"errno":          func(p *specs.LinuxSeccomp) { p.Syscalls[1].ErrnoRet = uptr(1) },
		"name":           func(p *specs.LinuxSeccomp) { p.Syscalls[0].Names[0] = "rmdir" },
		"argument":       func(p *specs.LinuxSeccomp) { p.Syscalls[2].Args[0].Value = 8 },
		"arches":         func(p *specs.LinuxSeccomp) { p.Architectures = p.Architectures[:1] },
		"errno nil to 0": func(p *specs.LinuxSeccomp) { p.Syscalls[0].ErrnoRet = uptr(0) },
		"names joined":   func(p *specs.LinuxSeccomp) { p.Syscalls[0].Names = []string{"mkdirmkdirat", "no_such_syscall"} },
		"name moved": func(p *specs.LinuxSeccomp) {
			p.Syscalls[0].Names = p.Syscalls[0].Names[:2]
			p.Syscalls[1].Names = append([]string{"no_such_syscall"}, p.Syscalls[1].Names...)
		},
		"flags":    func(p *specs.LinuxSeccomp) { p.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog} },
		"valueTwo": func(p *specs.LinuxSeccomp) { p.Syscalls[2].Args[0].ValueTwo = 1 },
	} {
		p := smallProfile()
		edit(p)
		if c.Key(p) == base {
			t.Errorf("changing the %s leaves the key unchanged", name)
		}
	}
	other := &Cache{compiler: compiler{version: "test 2"}}
	if other.Key(smallProfile()) == base {
		t.Error("another compiler version gives the same key")
	}
}

// TestCanonicalCoversEveryField: the key's encoding (appendProfile) writes
// every field of the spec's seccomp types; a runtime-spec that adds one
// must be matched there, or profiles differing only in it would share a
// cached program.
func TestCanonicalCoversEveryField(t *testing.T) {
	for _, tc := range []struct {
		typ  reflect.Type
		want int
	}{
		{reflect.TypeFor[specs.LinuxSeccomp](), 7},
		{reflect.TypeFor[specs.LinuxSyscall](), 4},
		{reflect.TypeFor[specs.LinuxSeccompArg](), 4},
	} {
		if n := tc.typ.NumField(); n != tc.want {
			t.Errorf("%s has %d fields, appendProfile writes %d: add the new ones to it (and bump keyFormat)", tc.typ, n, tc.want)
		}
	}
}

func TestCacheCorruptFileIsRecompiled(t *testing.T) {
	c, n := countingCache(t)
	r, err := c.Filter(smallProfile())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.Dir, r.Key+".bpf")
	for _, bad := range [][]byte{nil, []byte("short"), append(r.Filter.Program, make([]byte, 32)...)} {
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		before := *n
		r2, err := c.Filter(smallProfile())
		if err != nil || r2.Cached || *n != before+1 {
			t.Fatalf("corrupt file (%d bytes): cached %v, err %v, compilations %d->%d; want a recompile", len(bad), r2.Cached, err, before, *n)
		}
	}
	if r3, _ := c.Filter(smallProfile()); !r3.Cached {
		t.Error("the rewritten file is not a hit")
	}
}

func TestCacheBadProfileIsAnErrorEvenWhenCached(t *testing.T) {
	c, n := countingCache(t)
	p := smallProfile()
	p.Syscalls[0].Action = "SCMP_ACT_BOGUS"
	if _, err := c.Filter(p); err == nil || !strings.Contains(err.Error(), "SCMP_ACT_BOGUS") {
		t.Fatalf("bad action: error %v, want one naming it", err)
	}
	p = smallProfile()
	p.Syscalls[2].Args[0].Op = "SCMP_CMP_BOGUS"
	if _, err := c.Filter(p); err == nil || !strings.Contains(err.Error(), "SCMP_CMP_BOGUS") {
		t.Fatalf("bad op: error %v, want one naming it", err)
	}
	if *n != 0 {
		t.Errorf("a bad profile was compiled %d times", *n)
	}
}

func TestCacheUnwritableDirStillGivesAFilter(t *testing.T) {
	c, n := countingCache(t)
	// A file where the directory should be: MkdirAll fails, as a read-only
	// cache would.
	if err := os.WriteFile(c.Dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := c.Filter(smallProfile())
	if err != nil || r.Filter == nil || r.CacheErr == nil || *n != 1 {
		t.Fatalf("filter %v, err %v, cache error %v, compilations %d; want a filter and a cache error", r.Filter, err, r.CacheErr, *n)
	}
}

// TestCacheUntrustedDirIsNotUsed: a cache directory others can write to
// might hold a planted program: it is neither read nor written.
func TestCacheUntrustedDirIsNotUsed(t *testing.T) {
	c, n := countingCache(t)
	if _, err := c.Filter(smallProfile()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(c.Dir, 0o777); err != nil {
		t.Fatal(err)
	}
	r, err := c.Filter(smallProfile())
	if err != nil || r.Cached || *n != 2 || r.CacheErr == nil || !strings.Contains(r.CacheErr.Error(), "writable by nobody else") {
		t.Fatalf("cached %v, err %v, cache error %v, compilations %d; want a compile and a cache error", r.Cached, err, r.CacheErr, *n)
	}
	if fi, _ := os.Stat(c.Dir); fi.Mode().Perm() != 0o777 {
		t.Errorf("the directory's mode changed to %v", fi.Mode())
	}
}

func TestCacheWithoutCompiler(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	if _, err := c.Filter(smallProfile()); !errors.Is(err, ErrNoCompiler) || !strings.Contains(err.Error(), "no compiler") {
		t.Fatalf("error %v, want ErrNoCompiler", err)
	}
}
