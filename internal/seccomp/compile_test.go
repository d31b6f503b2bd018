//go:build cgo

package seccomp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestCompile(t *testing.T) {
	for name, p := range map[string]*specs.LinuxSeccomp{
		"small":              smallProfile(),
		"docker default":     DefaultProfile(dockerCaps),
		"with CAP_SYS_ADMIN": DefaultProfile(append(dockerCaps, "CAP_SYS_ADMIN")),
		"repeated argument": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
			Names: []string{"personality"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 1, Op: specs.OpEqualTo}, {Index: 0, Value: 2, Op: specs.OpEqualTo},
			}}}},
		"masked and log": {DefaultAction: specs.ActLog, Syscalls: []specs.LinuxSyscall{{
			Names: []string{"clone"}, Action: specs.ActKillProcess, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: unix.CLONE_NEWUSER, ValueTwo: unix.CLONE_NEWUSER, Op: specs.OpMaskedEqual},
			}}, {Names: []string{"getpid"}, Action: specs.ActLog}}},
		"every action": {DefaultAction: specs.ActKill, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActAllow},
			{Names: []string{"write"}, Action: specs.ActTrap},
			{Names: []string{"getpid"}, Action: specs.ActTrace, ErrnoRet: uptr(3)},
			{Names: []string{"getppid"}, Action: specs.ActKillThread},
			{Names: []string{"getuid"}, Action: specs.ActLog},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			f, err := Compile(p)
			if err != nil {
				t.Fatal(err)
			}
			if n := f.Instructions(); n < 4 || n > bpfMaxInsns || len(f.Program)%sockFilterSize != 0 {
				t.Fatalf("program of %d bytes", len(f.Program))
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for name, p := range map[string]*specs.LinuxSeccomp{
		"bad action": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: "SCMP_ACT_WHATEVER"}}},
		"bad op": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 0, Op: "SCMP_CMP_SOMETIMES"}}}}},
		"notify": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActNotify}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Compile(p); err == nil {
				t.Fatal("compiled")
			}
		})
	}
}

// TestCompileUnknownSyscallIsSkipped: a name this libseccomp does not know
// changes nothing (runc's rule).
func TestCompileUnknownSyscallIsSkipped(t *testing.T) {
	a, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "not_a_syscall_at_all"}, Action: specs.ActErrno}}})
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Program) != string(b.Program) {
		t.Error("an unknown name changed the program")
	}
}

func TestNewCacheUsesLibseccomp(t *testing.T) {
	c := NewCache(t.TempDir())
	if !strings.HasPrefix(c.version, "libseccomp 2.") {
		t.Errorf("version %q", c.version)
	}
	r, err := c.Filter(DefaultProfile(dockerCaps))
	if err != nil || r.Cached || r.CacheErr != nil {
		t.Fatalf("first: %v cached=%v cacheErr=%v", err, r.Cached, r.CacheErr)
	}
	r2, err := c.Filter(DefaultProfile(dockerCaps))
	if err != nil || !r2.Cached || string(r2.Filter.Program) != string(r.Filter.Program) {
		t.Fatalf("second: %v cached=%v", err, r2.Cached)
	}
}

// envHelper makes the test binary, run again, install a filter and report
// what system calls then do (in a process of its own: a filter cannot be
// removed). Its value is MODE:DIR.
const envHelper = "SECCOMP_TEST_INSTALL_HELPER"

// runHelper runs the helper in mode and returns what it printed.
func runHelper(t *testing.T, mode string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelper+"="+mode+":"+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	return string(out)
}

func TestInstall(t *testing.T) {
	if v := os.Getenv(envHelper); v != "" {
		installHelper(v)
		return
	}
	got := runHelper(t, "small")
	want := fmt.Sprintf("mkdir: %v\nuname: %v\nseccomp mode: 2\nother thread mkdir: <nil>\n", unix.EPERM, unix.ENOSYS)
	if !strings.Contains(got, want) {
		t.Fatalf("helper said\n%s\nwant\n%s", got, want)
	}
}

// TestInstallDefaultProfile: under Docker's profile (Docker's capabilities)
// clone3 answers ENOSYS, unshare and mount EPERM, and the Go runtime and
// ordinary calls carry on.
func TestInstallDefaultProfile(t *testing.T) {
	if v := os.Getenv(envHelper); v != "" {
		installHelper(v)
		return
	}
	got := runHelper(t, "default")
	want := fmt.Sprintf("clone3: %v\nunshare: %v\nmount: %v\nmkdir: <nil>\n", unix.ENOSYS, unix.EPERM, unix.EPERM)
	if !strings.Contains(got, want) {
		t.Fatalf("helper said\n%s\nwant\n%s", got, want)
	}
}

// installHelper installs a profile on its locked thread (after
// no_new_privs, so no privilege is needed) and prints what happens.
func installHelper(v string) {
	mode, dir, _ := strings.Cut(v, ":")
	runtime.LockOSThread()
	p := smallProfile()
	if mode == "default" {
		p = DefaultProfile(dockerCaps)
	}
	f, err := Compile(p)
	if err == nil {
		err = unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	}
	if err == nil {
		err = f.Install(0)
	}
	if err != nil {
		fmt.Println("install:", err)
		os.Exit(1)
	}
	if mode == "default" {
		_, _, errno := unix.Syscall(unix.SYS_CLONE3, 0, 0, 0) // EINVAL if it got through
		fmt.Println("clone3:", errno)
		fmt.Println("unshare:", errOf(unix.Unshare(unix.CLONE_NEWUSER)))
		// No such file system type: ENODEV if it got through, nothing mounted.
		fmt.Println("mount:", errOf(unix.Mount("none", dir, "no-such-fs", 0, "")))
		fmt.Println("mkdir:", errOf(unix.Mkdir(filepath.Join(dir, "x"), 0o755)))
		os.Exit(0)
	}
	fmt.Println("mkdir:", errOf(unix.Mkdir(filepath.Join(dir, "x"), 0o755)))
	var u unix.Utsname
	fmt.Println("uname:", errOf(unix.Uname(&u)))
	st, _ := os.ReadFile("/proc/thread-self/status")
	for _, l := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(l, "Seccomp:"); ok {
			fmt.Println("seccomp mode:", strings.TrimSpace(v))
		}
	}
	// A goroutine locked to another thread: that thread is not filtered
	// (no TSYNC; Go starts threads for a locked goroutine from its
	// template thread, not from this one).
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		done <- unix.Mkdir(filepath.Join(dir, "y"), 0o755)
	}()
	fmt.Println("other thread mkdir:", <-done)
	os.Exit(0)
}

func errOf(err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

// TestUnknownNames: libseccomp's compile returns the names it did not
// know, once each, and the helper's command says them on its standard
// error.
func TestUnknownNames(t *testing.T) {
	p := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"mkdir", "not_a_syscall_at_all"}, Action: specs.ActErrno},
		{Names: []string{"not_a_syscall_at_all", "nor_this_one"}, Action: specs.ActErrno, ErrnoRet: uptr(1)},
	}}
	_, unknown, err := compile(p)
	if err != nil || strings.Join(unknown, " ") != "not_a_syscall_at_all nor_this_one" {
		t.Fatalf("compile: unknown %q, %v", unknown, err)
	}
	in, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := ServeCompile(bytes.NewReader(in), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() == 0 || stdout.Len()%sockFilterSize != 0 {
		t.Errorf("ServeCompile wrote a program of %d bytes", stdout.Len())
	}
	if got := stderr.String(); got != "unknown syscalls: not_a_syscall_at_all nor_this_one\n" {
		t.Errorf("ServeCompile's standard error: %q", got)
	}
	// Through a real cache (this binary's libseccomp), the names come
	// back from the file on the next run.
	c := NewCache(filepath.Join(t.TempDir(), "cache"))
	for i, cached := range []bool{false, true} {
		r, err := c.Filter(p)
		if err != nil || r.Cached != cached || strings.Join(r.Unknown, " ") != "not_a_syscall_at_all nor_this_one" {
			t.Errorf("run %d: cached %v, unknown %q, err %v", i, r.Cached, r.Unknown, err)
		}
	}
}
