package namespaces

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

func TestCloneFlags(t *testing.T) {
	ns := func(list ...string) []specs.LinuxNamespace {
		var out []specs.LinuxNamespace
		for _, s := range list {
			typ, path, _ := strings.Cut(s, "=")
			out = append(out, specs.LinuxNamespace{Type: specs.LinuxNamespaceType(typ), Path: path})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ns   []specs.LinuxNamespace
		want uintptr
		err  string
	}{
		{"new ones", ns("pid", "mount", "network", "ipc", "uts", "cgroup"),
			unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS, ""},
		{"joined are not cloned", ns("pid", "mount", "network=/run/netns/x", "ipc=/proc/1/ns/ipc", "uts=/proc/1/ns/uts", "cgroup=/proc/1/ns/cgroup"),
			unix.CLONE_NEWPID | unix.CLONE_NEWNS, ""},
		{"pid and mount by path", ns("pid=/proc/1/ns/pid", "mount=/proc/1/ns/mnt", "network"), unix.CLONE_NEWNET, ""},
		{"user", ns("user", "mount"), unix.CLONE_NEWUSER | unix.CLONE_NEWNS, ""},
		{"user by path", ns("user=/proc/1/ns/user", "mount", "pid"), unix.CLONE_NEWNS | unix.CLONE_NEWPID, ""},
		{"user by relative path", ns("user=proc/1/ns/user"), 0, "not absolute"},
		{"time", ns("time"), 0, "namespace time: not supported yet"},
		{"relative path", ns("network=netns/x"), 0, "not absolute"},
		{"twice", ns("network", "network=/run/netns/x"), 0, "listed twice"},
		{"unknown", ns("bogus"), 0, "unknown type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CloneFlags(tc.ns)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CloneFlags = %#x, %v; want %#x", got, err, tc.want)
			}
		})
	}
}

func TestHasInJoins(t *testing.T) {
	ns := []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: "/run/netns/x"}}
	if !Has(ns, specs.PIDNamespace) || Has(ns, specs.NetworkNamespace) {
		t.Error("Has: want new namespaces only")
	}
	if !In(ns, specs.NetworkNamespace) || In(ns, specs.UTSNamespace) {
		t.Error("In: want new and joined namespaces")
	}
	if !Joins(ns) || Joins(ns[:1]) {
		t.Error("Joins is wrong")
	}
}

func inode(t *testing.T, path string) string {
	l, err := os.Readlink(path)
	if err != nil {
		return "error: " + err.Error()
	}
	return l
}

// TestCheckPaths: a path must name a namespace file of its type, and a
// mount namespace not the caller's own.
func TestCheckPaths(t *testing.T) {
	file := t.TempDir() + "/file"
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typ  specs.LinuxNamespaceType
		path string
		err  string
	}{
		{specs.PIDNamespace, "/proc/self/ns/pid", ""},
		// The caller's own mount namespace: the init would set its root up in it.
		{specs.MountNamespace, "/proc/self/ns/mnt", "namespace mount: /proc/self/ns/mnt is the mount namespace of the runtime or of the host"},
		{specs.NetworkNamespace, "/proc/self/ns/net", ""},
		{specs.PIDNamespace, "/proc/self/ns/net", "namespace pid: /proc/self/ns/net is a network namespace, not a pid namespace"},
		{specs.MountNamespace, "/proc/self/ns/user", "namespace mount: /proc/self/ns/user is a user namespace, not a mount namespace"},
		{specs.MountNamespace, file, "namespace mount: " + file + " is not a namespace file (such as /proc/PID/ns/mnt)"},
		{specs.PIDNamespace, "/nonexistent/pid", "namespace pid: open /nonexistent/pid: no such file"},
	} {
		err := CheckPaths([]specs.LinuxNamespace{{Type: specs.UTSNamespace}, {Type: tc.typ, Path: tc.path}})
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s %s: err = %v, want %q", tc.typ, tc.path, err, tc.err)
		}
	}
}

// TestForkInPID: a process started through ForkInPID is in the given pid
// namespace (Go forks from the locked thread), and afterwards every
// thread of this process starts its children in its own again. A
// namespace whose init has exited is named as such.
func TestForkInPID(t *testing.T) {
	testenv.RequireRoot(t)
	start := func(t *testing.T, cmd *exec.Cmd) {
		t.Helper()
		t.Cleanup(func() {
			if cmd.Process != nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
	}
	holder := exec.Command("sleep", "1000")
	holder.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID}
	start(t, holder)
	if err := holder.Start(); err != nil {
		t.Skip("cannot make a pid namespace here:", err)
	}
	path := fmt.Sprintf("/proc/%d/ns/pid", holder.Process.Pid)
	want := inode(t, path)

	child := exec.Command("sleep", "1000")
	start(t, child)
	if err := ForkInPID(path, child.Start); err != nil {
		t.Fatal(err)
	}
	if got := inode(t, fmt.Sprintf("/proc/%d/ns/pid", child.Process.Pid)); got != want {
		t.Errorf("the started process's pid namespace = %s, want %s", got, want)
	}
	own := inode(t, "/proc/self/ns/pid")
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		p := "/proc/self/task/" + task.Name() + "/ns/pid_for_children"
		if got := inode(t, p); got != own && !strings.Contains(got, "no such file") {
			t.Errorf("%s = %s, want this process's own %s", p, got, own)
		}
	}

	// The namespace outlives its init while its file is open; a fork
	// into it fails then.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	holder.Process.Kill()
	// The child dies with the namespace's init, which exits only once
	// every other process in it is reaped: the child first.
	child.Wait()
	holder.Wait()
	late := exec.Command("true")
	err = ForkInPID(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), late.Start)
	if late.Process != nil {
		late.Wait()
	}
	if err == nil || !strings.Contains(err.Error(), "has no init left") {
		t.Errorf("fork into a namespace without init: err = %v", err)
	}
}

func TestIsInitialMap(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"         0          0 4294967295\n", true},
		{"         0       1000          1\n", false},
		{"         0     100000      65536\n", false},
		{"0 0 4294967295\n1 1 1\n", false},
		{"", false},
	} {
		if got := isInitialMap([]byte(c.text)); got != c.want {
			t.Errorf("isInitialMap(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}
