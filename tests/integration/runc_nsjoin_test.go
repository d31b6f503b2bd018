package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// joinPath sets the path of the spec's namespace of type typ (adding the
// namespace when the spec has none of that type).
func joinPath(s *specs.Spec, typ specs.LinuxNamespaceType, path string) {
	for i, n := range s.Linux.Namespaces {
		if n.Type == typ {
			s.Linux.Namespaces[i].Path = path
			return
		}
	}
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
}

// nsLink is the namespace link of pid for kind ("pid", "mnt").
func nsLink(t *testing.T, pid int, kind string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestRuncJoinPID: a container whose config gives the pid namespace of
// another container by path is in that namespace: its init has the same
// namespace link, and its processes (run and exec'd) see the first
// container's process and their own, and no one else's.
func TestRuncJoinPID(t *testing.T) {
	first := newBundle(t, "sleep", "1001")
	firstID := uniqueName("pidns-owner")
	runc(t, first, "run", "-d", "--bundle", first.dir, firstID).wantExit(t, 0)
	owner := first.state(t, firstID).Pid
	path := fmt.Sprintf("/proc/%d/ns/pid", owner)
	want := nsLink(t, owner, "pid")

	// The joining container is deleted before the owner (newBundle's
	// cleanups run last-registered first): the namespace dies with the
	// owner's process, and the joiner's init with it.
	b := newBundle(t, "sleep", "1002")
	b.edit(t, func(s *specs.Spec) { joinPath(s, specs.PIDNamespace, path) })

	t.Run("run", func(t *testing.T) {
		b := newBundle(t, "sh", "-c", "readlink /proc/self/ns/pid; ps -o pid,args")
		b.edit(t, func(s *specs.Spec) { joinPath(s, specs.PIDNamespace, path) })
		r := runc(t, b, "run", "--bundle", b.dir, uniqueName("pidns"))
		r.wantExit(t, 0)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the container's pid namespace is not %s (%s)\n%s", path, want, r)
		}
		if !strings.Contains(r.stdout, "1 sleep 1001") {
			t.Errorf("the container does not see the namespace's init (sleep 1001) as pid 1\n%s", r)
		}
	})

	t.Run("create, start and exec", func(t *testing.T) {
		id := uniqueName("pidns")
		runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
		runc(t, b, "start", id).wantExit(t, 0)
		st := b.state(t, id)
		if got := nsLink(t, st.Pid, "pid"); got != want {
			t.Errorf("the init's pid namespace is %s, want the owner's %s", got, want)
		}
		r := runc(t, b, "exec", id, "sh", "-c", "readlink /proc/self/ns/pid; ps -o pid,args")
		r.wantExit(t, 0)
		if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "1 sleep 1001") || !strings.Contains(r.stdout, "sleep 1002") {
			t.Errorf("exec: want the namespace %s with sleep 1001 as pid 1 and sleep 1002\n%s", want, r)
		}
		runc(t, b, "delete", "--force", id).wantExit(t, 0)
	})
}

// holdMountNamespace starts `unshare -m --propagation private sleep 1000`
// (a mount namespace of its own whose mounts are all private: nothing
// done in it reaches this one), waits until it execs sleep, and kills it
// (by its pid) when the test ends. It returns its pid.
func holdMountNamespace(t *testing.T) int {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare command (util-linux)")
	}
	holder := exec.Command("unshare", "-m", "--propagation", "private", "sleep", "1000")
	holder.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := holder.Start(); err != nil {
		t.Skip("unshare -m:", err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	pid := holder.Process.Pid
	// sleep runs once unshare has made its namespace and its mounts
	// private.
	deadline := time.Now().Add(env.timeout)
	for {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.TrimSpace(string(comm)) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("unshare -m did not exec sleep")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if nsLink(t, pid, "mnt") == hostNamespace(t, "mnt") {
		t.Fatal("unshare -m left sleep in this mount namespace")
	}
	return pid
}

// TestRuncJoinMount: a container whose config gives a mount namespace by
// path sets up its root in that namespace (which holdMountNamespace made
// private): its init and exec'd processes are in it and see the rootfs,
// and this namespace's mounts are left as they were. Each container has
// a namespace of its own to join: the first one's pivot_root takes the
// host's paths (the rootfs's among them) out of its namespace.
func TestRuncJoinMount(t *testing.T) {
	before, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		after, err := os.ReadFile("/proc/self/mountinfo")
		if err == nil && string(after) != string(before) {
			t.Errorf("this mount namespace changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
	t.Run("run", func(t *testing.T) {
		holder := holdMountNamespace(t)
		want := nsLink(t, holder, "mnt")
		b := newBundle(t, "sh", "-c", "readlink /proc/self/ns/mnt; ls /bin/probe")
		b.edit(t, func(s *specs.Spec) { joinPath(s, specs.MountNamespace, fmt.Sprintf("/proc/%d/ns/mnt", holder)) })
		r := runc(t, b, "run", "--bundle", b.dir, uniqueName("mntns"))
		r.wantExit(t, 0)
		if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "/bin/probe") {
			t.Errorf("want the joined namespace %s and the rootfs (/bin/probe)\n%s", want, r)
		}
	})
	t.Run("run -d and exec", func(t *testing.T) {
		holder := holdMountNamespace(t)
		want := nsLink(t, holder, "mnt")
		b := newBundle(t, "sleep", "1000")
		b.edit(t, func(s *specs.Spec) { joinPath(s, specs.MountNamespace, fmt.Sprintf("/proc/%d/ns/mnt", holder)) })
		id := uniqueName("mntns")
		runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
		if got := nsLink(t, b.state(t, id).Pid, "mnt"); got != want {
			t.Errorf("the init's mount namespace is %s, want %s", got, want)
		}
		r := runc(t, b, "exec", id, "sh", "-c", "readlink /proc/self/ns/mnt; ls /bin/probe")
		r.wantExit(t, 0)
		if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "/bin/probe") {
			t.Errorf("exec: want the joined namespace %s and the rootfs (/bin/probe)\n%s", want, r)
		}
		runc(t, b, "delete", "--force", id).wantExit(t, 0)
	})
}

// TestRuncJoinBadPath: a namespace path that is no namespace of its type
// is refused before anything is made, naming the field and the path.
func TestRuncJoinBadPath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-namespace")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		typ  specs.LinuxNamespaceType
		path string
		want string
	}{
		{"pid given a net namespace", specs.PIDNamespace, "/proc/self/ns/net", "namespace pid: /proc/self/ns/net is a network namespace, not a pid namespace"},
		{"mount given a file", specs.MountNamespace, file, "namespace mount: " + file + " is not a namespace file"},
		{"missing", specs.PIDNamespace, "/nonexistent/ns/pid", "namespace pid: open /nonexistent/ns/pid: no such file or directory"},
		{"user given a net namespace", specs.UserNamespace, "/proc/self/ns/net", "namespace user: /proc/self/ns/net is a network namespace, not a user namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "true")
			b.edit(t, func(s *specs.Spec) { joinPath(s, tc.typ, tc.path) })
			r := runc(t, b, "run", "--bundle", b.dir, uniqueName("join"))
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want a failure with %q\n%s", tc.want, r)
			}
			if ids := runc(t, b, "list", "-q"); strings.TrimSpace(ids.stdout) != "" {
				t.Errorf("the refused run left %q", ids.stdout)
			}
		})
	}
}

// TestRuncRunKilled: when a foreground `run` is SIGKILLed, the container's
// process dies with it (the parent-death signal the init asks for), also
// in a joined pid namespace, where the init cannot see its parent, and
// for a process that runs as another user; the
// container is then left for delete --force (newBundle's cleanup).
func TestRuncRunKilled(t *testing.T) {
	first := newBundle(t, "sleep", "1001")
	firstID := uniqueName("pidns-owner")
	runc(t, first, "run", "-d", "--bundle", first.dir, firstID).wantExit(t, 0)
	ownerNS := fmt.Sprintf("/proc/%d/ns/pid", first.state(t, firstID).Pid)
	for _, tc := range []struct {
		name   string
		join   bool
		nobody bool // process.user 65534: the uid change clears the signal, the init sets it again
	}{{"own pid namespace", false, false}, {"joined pid namespace", true, false}, {"as nobody", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "sleep", "1000")
			if tc.join {
				b.edit(t, func(s *specs.Spec) { joinPath(s, specs.PIDNamespace, ownerNS) })
			}
			if tc.nobody {
				b.edit(t, func(s *specs.Spec) { s.Process.User = specs.User{UID: 65534, GID: 65534} })
			}
			id := uniqueName("killed")
			cmd := exec.Command(env.runc, "--root", b.root, "run", "--bundle", b.dir, id)
			cmd.Dir = b.dir
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			killed := false
			t.Cleanup(func() {
				if !killed {
					cmd.Process.Kill()
					cmd.Wait()
				}
			})
			// The state appears once the init is set up.
			var pid int
			for deadline := time.Now().Add(env.timeout); pid == 0; time.Sleep(20 * time.Millisecond) {
				var st specs.State
				if r := runc(t, b, "state", id); r.code == 0 && json.Unmarshal([]byte(r.stdout), &st) == nil && st.Status == specs.StateRunning {
					pid = st.Pid
				} else if time.Now().After(deadline) {
					t.Fatalf("no running container %s after %v\n%s", id, env.timeout, r)
				}
			}
			cmd.Process.Kill()
			cmd.Wait()
			killed = true
			deadline := time.Now().Add(env.timeout)
			for {
				stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
				// Gone, or a zombie ("pid (comm) Z ...") that its new
				// parent has not reaped yet (in the joined namespace,
				// the owner's sleep, which never does).
				if err != nil || strings.Contains(string(stat), ") Z ") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the container's process %d still runs %v after its runtime was killed: %s", pid, env.timeout, stat)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestRuncJoinOwnMountNamespaceRefused: a config that names the runtime's
// own mount namespace by path would have the init set its rootfs up
// (propagation, mounts, pivot_root) in the caller's mount table. It is
// refused before anything is made. The runtime runs in a mount namespace
// of the test's own (testenv.RunInOwnMountNS), so a regression changes
// only that one, and the test sees it.
func TestRuncJoinOwnMountNamespaceRefused(t *testing.T) {
	b := newBundle(t, "true")
	b.edit(t, func(s *specs.Spec) { joinPath(s, specs.MountNamespace, "/proc/self/ns/mnt") })
	r, err := testenv.RunInOwnMountNS(`"$RUNC" --root "$R" run --bundle "$B" "$ID" </dev/null; echo "exit $?"`,
		2*env.timeout, "RUNC="+env.runc, "R="+b.root, "B="+b.dir, "ID="+uniqueName("join-own"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.Output, "exit 0") || !strings.Contains(r.Output, "is the mount namespace of the runtime or of the host") {
		t.Errorf("want a refusal naming the runtime's own mount namespace, got:\n%s", r.Output)
	}
	if r.Before != r.After {
		t.Errorf("the caller's mount table changed:\nbefore:\n%s\nafter:\n%s", r.Before, r.After)
	}
}
