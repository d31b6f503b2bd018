package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewUserWebServer is issue 15's "done when", as a new user would try
// it: a web server (busybox httpd) started detached, seen in ps, its logs
// read, a shell exec'd in it with -it on a terminal, stopped, started
// again, restarted, removed — and nothing left behind.
func TestNewUserWebServer(t *testing.T) {
	root := t.TempDir()
	www := t.TempDir()
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte("hello from httpd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := detached(t, root, "--name", "web", "--read-only", "-v", www+":/www:ro",
		env.rootfs, "httpd", "-f", "-v", "-p", "8080", "-h", "/www")

	if got := psStatus(t, root, "web"); !strings.HasPrefix(got, "web Up ") {
		t.Fatalf("ps -a after run -d: %q, want web Up ...", got)
	}
	// The server answers inside the container's network namespace
	// (--network none: loopback only); it may need a moment to listen.
	fetch := func() bool {
		r := mdi(t, root, "exec", "web", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/")
		return r.code == 0 && r.stdout == "hello from httpd\n"
	}
	waitFor(t, "httpd to answer", fetch)
	// httpd -v logs each request on stderr: logs shows it.
	waitFor(t, "the request in the logs", func() bool {
		r := mdi(t, root, "logs", "web")
		return r.code == 0 && strings.Contains(r.stderr, "response:200")
	})

	// A shell on a terminal, through exec -it.
	p := startOnPty(t, 24, 80, "--root", root, "exec", "-it", "web", "sh")
	p.typeIn(t, "echo $((6*7))-answer\r")
	p.waitLine(t, "42-answer")
	p.typeIn(t, "exit 0\r")
	p.wait(t).wantExit(t, 0)
	p.wantRestored(t)

	mdi(t, root, "stop", "web").wantExit(t, 0)
	if got := psStatus(t, root, "web"); !strings.HasPrefix(got, "web Exited ") {
		t.Fatalf("ps -a after stop: %q, want web Exited ...", got)
	}
	mdi(t, root, "start", "web").wantExit(t, 0)
	if got := psStatus(t, root, "web"); !strings.HasPrefix(got, "web Up ") {
		t.Fatalf("ps -a after start: %q, want web Up ...", got)
	}
	waitFor(t, "httpd to answer after start", fetch)
	before := inspectContainer(t, root, "web").State.Pid
	mdi(t, root, "restart", "-t", "1", "web").wantExit(t, 0)
	after := inspectContainer(t, root, "web")
	if after.ID != id || !after.State.Running || after.State.Pid == before {
		t.Fatalf("after restart: %s running %v, pid %d (before %d): want %s with a new process", after.ID, after.State.Running, after.State.Pid, before, id)
	}
	waitFor(t, "httpd to answer after restart", fetch)

	r := mdi(t, root, "rm", "-f", "web")
	r.wantExit(t, 0)
	if strings.TrimSpace(r.stdout) != "web" {
		t.Errorf("rm -f web printed %q, want web", r.stdout)
	}
	wantNothingLeft(t, root, after)
	if r := mdi(t, root, "ps", "-a", "-q"); r.stdout != "" {
		t.Errorf("ps -a after rm: %q, want nothing", r.stdout)
	}
}
