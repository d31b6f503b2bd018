package rootless

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPublish: a user-mode network (pasta, slirp4netns) gives the
// container an interface with the large MTU, and -p publishes its port
// on the host's loopback, reached by a client on the host.
func TestPublish(t *testing.T) {
	h := newHome(t)
	for _, tool := range []string{"pasta", "slirp4netns"} {
		t.Run(tool, func(t *testing.T) {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("%s is not installed: %v", tool, err)
			}
			if tool == "pasta" && !hasDefaultRoute() {
				t.Skip("pasta copies the host's routable interface, and this host (the v2 guest) has none")
			}
			r := h.run(t, []string{"--network", tool}, "sh", "-c", "cat /sys/class/net/*/mtu")
			r.wantExit(t, 0)
			if !strings.Contains(r.stdout, "65520") {
				t.Errorf("no interface with MTU 65520\n%s", r)
			}

			port := freePort(t)
			cmd := h.command(nil, env.bin, "run", "--network", tool, "-p", "127.0.0.1:"+strconv.Itoa(port)+":8080", env.rootfs,
				"sh", "-c", "echo hello-from-the-container | nc -l -p 8080")
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			got := dialUntil(t, "127.0.0.1:"+strconv.Itoa(port), "hello-from-the-container", done)
			if !strings.Contains(got, "hello-from-the-container") {
				_ = cmd.Process.Kill()
			}
			select {
			case <-done:
			case <-time.After(env.timeout):
				_ = cmd.Process.Kill()
				<-done
			}
			if !strings.Contains(got, "hello-from-the-container") || cmd.ProcessState.ExitCode() != 0 {
				t.Errorf("read %q from the published port; the run exited %d\nstdout:\n%s\nstderr:\n%s", got, cmd.ProcessState.ExitCode(), out.String(), errb.String())
			}
		})
	}
	// Ports below net.ipv4.ip_unprivileged_port_start: a clear error.
	r := h.run(t, []string{"--network", "pasta", "-p", "80:80"}, "true")
	r.wantExit(t, 125)
	r.wantStderr(t, "net.ipv4.ip_unprivileged_port_start")
}

// freePort is a TCP port of 127.0.0.1 free now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// dialUntil connects to addr again and again until what it reads holds
// want, the run ends (done) or the suite's timeout passes; it returns
// what it read last.
func dialUntil(t *testing.T, addr, want string, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	got := ""
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Errorf("the run ended before the port answered: %v", err)
			return got
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			b, _ := io.ReadAll(c)
			c.Close()
			if got = string(b); strings.Contains(got, want) {
				return got
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return got
}

// hasDefaultRoute says whether the host has an IPv4 default route
// (/proc/net/route), which pasta needs to start.
func hasDefaultRoute() bool {
	b, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(l); len(f) > 1 && f[1] == "00000000" {
			return true
		}
	}
	return false
}
