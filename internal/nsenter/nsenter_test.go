package nsenter

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/initproc"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// The test binary re-executes itself in two roles, chosen by envRole: the
// target (new UTS and pid namespaces, a hostname of its own) and the
// process that Start puts in the target's namespaces.
const (
	envRole      = "NSENTER_TEST_ROLE"
	testHostname = "nsenter-test"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "target":
		if err := unix.Sethostname([]byte(testHostname)); err != nil {
			fmt.Println("sethostname:", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		time.Sleep(time.Minute) // killed by the test
		os.Exit(0)
	case "joined":
		host, _ := os.Hostname()
		fmt.Println(host, os.Getpid())
		os.Exit(0)
	}
	code := m.Run()
	if helper.dir != "" {
		os.RemoveAll(helper.dir)
	}
	os.Exit(code)
}

func TestParseReport(t *testing.T) {
	for _, tc := range []struct {
		in      string
		pid     int
		wantErr string
	}{
		{"1234\n", 1234, ""},
		{"error: setns mnt: Operation not permitted\n", 0, "nsenter: setns mnt: Operation not permitted"},
		{"error: fork: Cannot allocate memory\n", 0, "exiting?"},
		{"", 0, "bad report"},
		{"0\n", 0, "bad report"},
		{"12ab\n", 0, "bad report"},
		{"1234\nerror: fcntl(FD_CLOEXEC): Bad file descriptor\n", 1234, "fcntl"},
		{"error: fcntl(FD_CLOEXEC): Bad file descriptor\n1234\n", 1234, "fcntl"},
		{"1\n2\n", 0, "bad report"},
	} {
		pid, err := parseReport(tc.in)
		if pid != tc.pid || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("parseReport(%q) = %d, %v; want %d, error with %q", tc.in, pid, err, tc.pid, tc.wantErr)
		}
	}
}

// TestOpenSelf: a process shares every namespace with itself, so there is
// nothing to join.
func TestOpenSelf(t *testing.T) {
	nss, err := Open(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	defer Close(nss)
	if len(nss) != 0 {
		t.Errorf("Open(self) = %v, want none", nss)
	}
	if _, err := Open(1 << 30); err == nil {
		t.Error("Open of a missing pid succeeded")
	}
}

// helper builds minimal-docker-helper (the constructor's binary) once,
// into a directory removed when the tests end; the plans the tests send
// exec the test binary itself in the namespaces (its role in envRole).
var helper = struct {
	once      sync.Once
	dir, path string
	err       error
}{}

func buildHelper(t *testing.T) string {
	t.Helper()
	helper.once.Do(func() {
		root, err := testenv.ModuleRoot()
		if err == nil {
			helper.dir, err = os.MkdirTemp("", "nsenter-test-")
		}
		if err == nil {
			helper.path = filepath.Join(helper.dir, "minimal-docker-helper")
			err = testenv.GoBuild(root, helper.path, "./cmd/minimal-docker-helper", "CGO_ENABLED=1")
		}
		helper.err = err
	})
	if helper.err != nil {
		t.Fatalf("build the helper: %v", helper.err)
	}
	return helper.path
}

// start starts the helper in nss (Start), sends it a plan that execs the
// test binary in its "joined" role (initproc.BuildExec; args[0] the
// test binary, or exe when set), gives the go-ahead and waits for the
// exec: the runtime's side of exec. It returns the pid, and the error of
// Start or of the plan.
func start(t *testing.T, h string, nss []Namespace, stdout *os.File, exe string) (int, error) {
	t.Helper()
	if exe == "" {
		var err error
		if exe, err = filepath.Abs(os.Args[0]); err != nil {
			t.Fatal(err)
		}
	}
	pl, err := initproc.BuildExec(&handshake.Config{Spec: &specs.Spec{Process: &specs.Process{
		Args: []string{exe}, Env: []string{envRole + "=joined"}, Cwd: "/",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	conn, childEnd, err := handshake.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pid, err := Start(&Cmd{
		Helper:     h,
		Args:       []string{"minimal-docker-init"},
		Env:        []string{handshake.EnvPlanFD + "=3"},
		Files:      []*os.File{childEnd},
		Stdout:     stdout,
		Stderr:     os.Stderr,
		Namespaces: nss,
	})
	childEnd.Close()
	if err != nil {
		return 0, err
	}
	err = conn.SendPlan(pl)
	if err == nil {
		err = conn.SendGo()
	}
	if err == nil {
		err = conn.WaitExec()
	}
	return pid, err
}

// TestStartError: the constructor's failure comes back as Start's error,
// naming the step; so does a plan that fails once the namespaces are
// joined, and nothing is left running.
func TestStartError(t *testing.T) {
	testenv.RequireRoot(t)
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := buildHelper(t)
	_, err = start(t, h, []Namespace{{Name: "mnt", File: f}}, nil, "")
	if err == nil || !strings.Contains(err.Error(), "setns mnt: Invalid argument") {
		t.Errorf("Start with /dev/null as a namespace: err = %v, want setns mnt: Invalid argument", err)
	}
	if _, err := Start(&Cmd{Helper: h}); err == nil || !strings.Contains(err.Error(), handshake.EnvPlanFD) {
		t.Errorf("Start without a plan: err = %v, want one naming %s", err, handshake.EnvPlanFD)
	}
	// An init may make only the namespaces the constructor knows to make
	// (not a user namespace: it joins one).
	conn, childEnd, err := handshake.Pair()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(&Cmd{Helper: h, Env: []string{handshake.EnvPlanFD + "=3"}, Files: []*os.File{childEnd}, Init: true, Unshare: unix.CLONE_NEWUSER})
	childEnd.Close()
	conn.Close()
	if want := "bad " + EnvUnshare + "=268435456"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Start of an init that would unshare a user namespace: err = %v, want %q", err, want)
	}
	// Nothing to join, a directory to execute: the plan's exec fails.
	pid, err := start(t, h, nil, nil, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "init exec") {
		t.Errorf("a plan that execs a directory: err = %v, want init exec's", err)
	}
	if pid > 0 {
		Kill(pid)
	}
	var ws unix.WaitStatus
	if pid, werr := unix.Wait4(-1, &ws, unix.WNOHANG, nil); werr != unix.ECHILD {
		t.Errorf("after a failed Start: wait4 = %d, %v; want no child left", pid, werr)
	}
}

// TestJoin: Start runs a process in another's UTS and pid namespaces.
func TestJoin(t *testing.T) {
	testenv.RequireRoot(t)
	h := buildHelper(t)
	target := exec.Command(os.Args[0])
	target.Env = append(os.Environ(), envRole+"=target")
	target.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUTS | unix.CLONE_NEWPID}
	out, err := target.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = target.Process.Kill(); _ = target.Wait() }()
	buf := make([]byte, 64)
	if n, _ := out.Read(buf); !strings.HasPrefix(string(buf[:n]), "ready") {
		t.Fatalf("target: %q", buf[:n])
	}

	nss, err := Open(target.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(nss)
	var names []string
	for _, ns := range nss {
		names = append(names, ns.Name)
	}
	if got := strings.Join(names, ","); got != "uts,pid" {
		t.Fatalf("Open(target) = %s, want uts,pid", got)
	}

	outFile, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	pid, err := start(t, h, nss, outFile, "")
	if err != nil {
		if pid > 0 {
			Kill(pid)
		}
		t.Fatal(err)
	}
	// Start made this process a subreaper only while it started the
	// process (now its child, which Wait can reap), and undid it.
	if isSubreaper(t) {
		t.Error("the test process is still a child subreaper after Start")
	}
	ws, err := Wait(pid)
	if err != nil || ws.ExitStatus() != 0 {
		t.Fatalf("joined process: %v, status %v", err, ws)
	}
	b, _ := os.ReadFile(outFile.Name())
	f := strings.Fields(string(b))
	if len(f) != 2 || f[0] != testHostname {
		t.Fatalf("joined process printed %q, want the target's hostname %s and its pid", b, testHostname)
	}
	if nsPid, _ := strconv.Atoi(f[1]); nsPid <= 1 || nsPid >= pid {
		t.Errorf("pid in the target's namespace = %s, want small (host pid %d)", f[1], pid)
	}
}

// isSubreaper says whether the test process is a child subreaper.
func isSubreaper(t *testing.T) bool {
	t.Helper()
	var v int32
	if err := unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&v)), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	return v != 0
}
