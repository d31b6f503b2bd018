package rootless

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDetachedPublish: a detached container (run -d) on a user-mode
// network (pasta, slirp4netns) publishes its port on the host's loopback
// while it runs; ps, port and inspect show the port; stop ends the
// network's program, start brings it (and the port) back, kill ends it
// too, rm -f leaves no program behind (its monitor killed, too).
func TestDetachedPublish(t *testing.T) {
	h := newHome(t)
	for _, tool := range []string{"pasta", "slirp4netns"} {
		t.Run(tool, func(t *testing.T) {
			needTool(t, tool)
			port := strconv.Itoa(freePort(t))
			addr := "127.0.0.1:" + port
			r := h.md(t, "run", "-d", "--network", tool, "-p", addr+":8080", "--name", "web", env.rootfs,
				"sh", "-c", "while true; do echo hello-from-the-container | nc -l -p 8080; done")
			r.wantExit(t, 0)
			id := strings.TrimSpace(r.stdout)
			t.Cleanup(func() { h.md(t, "rm", "-f", "web") })
			wantAnswer(t, addr, "hello-from-the-container")
			wantTool(t, h, tool, 1)

			r = h.md(t, "port", "web")
			r.wantExit(t, 0)
			if want := "8080/tcp -> " + addr + "\n"; r.stdout != want {
				t.Errorf("port: %q, want %q\n%s", r.stdout, want, r)
			}
			r = h.md(t, "ps", "--format", "{{.Ports}}")
			r.wantExit(t, 0)
			if want := addr + "->8080/tcp"; strings.TrimSpace(r.stdout) != want {
				t.Errorf("ps: ports %q, want %q\n%s", r.stdout, want, r)
			}
			r = h.md(t, "inspect", "--format", "{{json .NetworkSettings.Ports}}", "web")
			r.wantExit(t, 0)
			if want := `{"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":"` + port + `"}]}`; strings.TrimSpace(r.stdout) != want {
				t.Errorf("inspect: NetworkSettings.Ports %q, want %q\n%s", r.stdout, want, r)
			}

			r = h.md(t, "stop", "-t", "1", "web")
			r.wantExit(t, 0)
			wantTool(t, h, tool, 0)

			r = h.md(t, "start", "web")
			r.wantExit(t, 0)
			wantAnswer(t, addr, "hello-from-the-container")
			wantTool(t, h, tool, 1)
			r = h.md(t, "kill", "web")
			r.wantExit(t, 0)
			wantTool(t, h, tool, 0)

			// rm -f stops the program even when the container's monitor,
			// which would have, was killed.
			r = h.md(t, "start", "web")
			r.wantExit(t, 0)
			wantAnswer(t, addr, "hello-from-the-container")
			killMonitor(t, h, id)
			r = h.md(t, "rm", "-f", "web")
			r.wantExit(t, 0)
			wantTool(t, h, tool, 0)
			wantNoFiles(t, filepath.Join(h.dir, "run", "minimal-docker", "net"))
		})
	}
}

// TestCreatedPublishRestarts: create + start of a container on a
// user-mode network with a host port chosen at start (-p IP::PORT); its
// monitor's restart (--restart on-failure) starts the network's program
// again, and when the container ends for good it goes too.
func TestCreatedPublishRestarts(t *testing.T) {
	h := newHome(t)
	for _, tool := range []string{"pasta", "slirp4netns"} {
		t.Run(tool, func(t *testing.T) {
			needTool(t, tool)
			r := h.md(t, "create", "--network", tool, "-p", "127.0.0.1::8080", "--restart", "on-failure:1", "--name", "once", env.rootfs,
				"sh", "-c", "echo answered | nc -l -p 8080; exit 3")
			r.wantExit(t, 0)
			t.Cleanup(func() { h.md(t, "rm", "-f", "once") })
			wantTool(t, h, tool, 0) // created: nothing runs yet
			r = h.md(t, "start", "once")
			r.wantExit(t, 0)
			// Each run answers once, then exits 3: the first is restarted,
			// the second is not (on-failure:1).
			for run := 1; run <= 2; run++ {
				wantPublishedAnswer(t, h, "once", "answered")
			}
			r = h.md(t, "wait", "once")
			r.wantExit(t, 0)
			if strings.TrimSpace(r.stdout) != "3" {
				t.Errorf("wait: %q, want 3\n%s", r.stdout, r)
			}
			wantTool(t, h, tool, 0)
			r = h.md(t, "inspect", "--format", "{{.RestartCount}}", "once")
			r.wantExit(t, 0)
			if strings.TrimSpace(r.stdout) != "1" {
				t.Errorf("RestartCount %q, want 1\n%s", r.stdout, r)
			}
			r = h.md(t, "rm", "once")
			r.wantExit(t, 0)
			wantNoFiles(t, filepath.Join(h.dir, "run", "minimal-docker", "net"))
		})
	}
}

// killMonitor kills (SIGKILL) the monitor of h's container id and
// waits until it is gone.
func killMonitor(t *testing.T, h *home, id string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, "data", "minimal-docker", "containers", id, "monitor.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		t.Fatalf("monitor.pid: %q", b)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(env.timeout)
	for time.Now().Before(deadline) {
		st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil || strings.Contains(string(st), ") Z ") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("monitor %d still runs %v after SIGKILL", pid, env.timeout)
}

// TestDetachedSweep: a container whose monitor was killed and which then
// ended leaves its network's program running (no poststop hook ran);
// the next start of a container on a user-mode network stops it.
func TestDetachedSweep(t *testing.T) {
	h := newHome(t)
	needTool(t, "slirp4netns")
	r := h.md(t, "run", "-d", "--network", "slirp4netns", "--name", "sa", env.rootfs, "sleep", "1000")
	r.wantExit(t, 0)
	id := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { h.md(t, "rm", "-f", "sa") })
	wantTool(t, h, "slirp4netns", 1)
	killMonitor(t, h, id)
	killInit(t, h, id)
	wantTool(t, h, "slirp4netns", 1) // nothing ran sa's poststop hook

	r = h.md(t, "run", "-d", "--network", "slirp4netns", "--name", "sb", env.rootfs, "sleep", "1000")
	r.wantExit(t, 0)
	t.Cleanup(func() { h.md(t, "rm", "-f", "sb") })
	wantTool(t, h, "slirp4netns", 1) // sb's alone

	r = h.md(t, "rm", "-f", "sa", "sb")
	r.wantExit(t, 0)
	wantTool(t, h, "slirp4netns", 0)
	wantNoFiles(t, filepath.Join(h.dir, "run", "minimal-docker", "net"))
}

// killInit kills (SIGKILL) the init of h's container id.
func killInit(t *testing.T, h *home, id string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, "data", "minimal-docker", "containers", id, "init.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		t.Fatalf("init.pid: %q", b)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// needTool skips where tool can't run here.
func needTool(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("%s is not installed: %v", tool, err)
	}
	if tool == "pasta" && !hasDefaultRoute() {
		t.Skip("pasta copies the host's routable interface, and this host (the v2 guest) has none")
	}
}

// wantPublishedAnswer fails the test unless container name's port 8080,
// published where port says (a restart chooses its host port again),
// answers want within the suite's timeout.
func wantPublishedAnswer(t *testing.T, h *home, name, want string) {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	var r result
	got := ""
	for time.Now().Before(deadline) {
		r = h.md(t, "port", name, "8080")
		if addr := strings.TrimSpace(r.stdout); r.code == 0 && strings.HasPrefix(addr, "127.0.0.1:") {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				_ = c.SetDeadline(time.Now().Add(2 * time.Second))
				b, _ := io.ReadAll(c)
				c.Close()
				if got = string(b); strings.Contains(got, want) {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("container %s's published port 8080 did not answer %q within %v (read %q)\nlast port:\n%s", name, want, env.timeout, got, r)
}

// wantAnswer fails the test unless addr answers want within the suite's
// timeout.
func wantAnswer(t *testing.T, addr, want string) {
	t.Helper()
	if got := dialUntil(t, addr, want, nil); !strings.Contains(got, want) {
		t.Fatalf("read %q from %s, want %q", got, addr, want)
	}
}

// wantTool fails the test unless n processes of tool (pasta,
// slirp4netns) of h run as the user or its range, once those on their way
// in or out have had the suite's timeout.
func wantTool(t *testing.T, h *home, tool string, n int) {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	var pids []int
	for {
		pids = toolProcs(h, tool)
		if len(pids) == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(pids) != n {
		t.Fatalf("%d %s processes of %s (%v), want %d", len(pids), tool, UserName, pids, n)
	}
}

// toolProcs lists the live processes of the user or its range run as
// tool (argv[0]: pasta runs the binary passt.avx2 as "pasta") for h:
// slirp4netns' arguments name its files in h's $XDG_RUNTIME_DIR; pasta's
// name its pid file from its working directory (network.UserMode), so
// every pasta of the user's is counted (the suite's tests run one at a
// time).
func toolProcs(h *home, tool string) []int {
	var pids []int
	for _, pid := range liveUserProcs() {
		cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil {
			continue
		}
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		name := filepath.Base(argv0)
		if (name == tool || strings.HasPrefix(name, tool+".")) && (tool == "pasta" || strings.Contains(string(cmdline), h.dir+"/")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// wantNoFiles fails the test if dir holds anything (a missing dir is
// empty).
func wantNoFiles(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) > 0 {
		t.Errorf("%s holds %v after rm", dir, names)
	}
}
