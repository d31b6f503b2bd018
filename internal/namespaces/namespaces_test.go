package namespaces

import (
	"fmt"
	"os"
	"runtime"
	"strings"
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
		{"pid by path", ns("pid=/proc/1/ns/pid"), 0, "namespace pid: joining by path (/proc/1/ns/pid) is not supported yet"},
		{"mount by path", ns("mount=/proc/1/ns/mnt"), 0, "namespace mount: joining by path"},
		{"user", ns("user"), 0, "namespace user: not supported yet"},
		{"user by path", ns("user=/proc/1/ns/user"), 0, "namespace user: not supported yet"},
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

// TestJoin: a locked thread joins a network namespace that another thread
// made, by its path; the other threads keep theirs.
func TestJoin(t *testing.T) {
	testenv.RequireRoot(t)
	made := make(chan string)
	done := make(chan struct{})
	defer close(done)
	go func() {
		// This thread is never unlocked: it ends with the goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			made <- "error: " + err.Error()
			return
		}
		made <- fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
		<-done
	}()
	path := <-made
	if strings.HasPrefix(path, "error: ") {
		t.Skip("cannot make a network namespace here:", path)
	}
	want := inode(t, path)
	got := make(chan string)
	go func() {
		runtime.LockOSThread()
		err := Join([]specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: path}})
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- inode(t, "/proc/thread-self/ns/net")
	}()
	if g := <-got; g != want {
		t.Errorf("joined thread's netns = %s, want %s", g, want)
	}
	if own := inode(t, "/proc/thread-self/ns/net"); own == want {
		t.Error("the test's own thread moved too")
	}

	// A file of another type is refused with the path.
	go func() {
		runtime.LockOSThread()
		err := Join([]specs.LinuxNamespace{{Type: specs.UTSNamespace, Path: path}})
		if err == nil {
			got <- "no error"
			return
		}
		got <- err.Error()
	}()
	if g := <-got; !strings.Contains(g, "namespace uts") || !strings.Contains(g, path) {
		t.Errorf("joining a netns file as uts: %s", g)
	}
}

func inode(t *testing.T, path string) string {
	l, err := os.Readlink(path)
	if err != nil {
		return "error: " + err.Error()
	}
	return l
}
