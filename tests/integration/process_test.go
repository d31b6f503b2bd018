package integration

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestEnvironment checks the default environment, -e and -w.
func TestEnvironment(t *testing.T) {
	testenv.RequireRoot(t)
	const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	tests := []struct {
		name   string
		flags  []string
		script string
		want   string
	}{
		{"default PATH", nil, "echo $PATH", defaultPath},
		{"default HOME", nil, "echo $HOME", "/root"},
		{"no TERM without a terminal", nil, "echo ${TERM-unset}", "unset"},
		{"TERM=xterm with -t", []string{"-t"}, "echo $TERM", "xterm"},
		{"-e TERM over -t's", []string{"-t", "-e", "TERM=dumb"}, "echo $TERM", "dumb"},
		{"env", []string{"-e", "FOO=bar"}, "echo $FOO", "bar"},
		{"long env with = in the value", []string{"--env", "FOO=a=b"}, "echo $FOO", "a=b"},
		{"repeated env", []string{"-e", "A=1", "-e", "B=2"}, "echo $A$B", "12"},
		{"empty value", []string{"-e", "EMPTY="}, "echo ${EMPTY-unset}.", "."},
		{"PATH override", []string{"-e", "PATH=/bin"}, "echo $PATH", "/bin"},
		{"default workdir", nil, "pwd", "/"},
		{"workdir", []string{"-w", "/tmp"}, "pwd", "/tmp"},
		{"long workdir", []string{"--workdir", "/etc"}, "pwd", "/etc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.flags, "sh", "-c", tt.script)
			r.wantExit(t, 0)
			if got := strings.TrimSpace(r.stdout); got != tt.want {
				t.Errorf("stdout %q, want %q\n%s", got, tt.want, r)
			}
		})
	}
}

// TestStdio: stdin reaches the container (-i); stdout and stderr stay apart.
func TestStdio(t *testing.T) {
	testenv.RequireRoot(t)
	p := startWithStdin(t, runArgs([]string{"-i"}, "sh", "-c", "read line; echo out:$line; echo err:$line >&2")...)
	if _, err := p.stdin.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	p.stdin.Close()
	r := p.wait(t)
	r.wantExit(t, 0)
	if r.stdout != "out:hello\n" {
		t.Errorf("stdout %q, want %q\n%s", r.stdout, "out:hello\n", r)
	}
	if !strings.Contains(r.stderr, "err:hello\n") {
		t.Errorf("stderr lacks %q\n%s", "err:hello", r)
	}
}

// TestNoLeakedFileDescriptors: the command gets stdin, stdout and stderr
// and nothing else: neither minimal-docker's own descriptors (such as its
// end of the socketpair) nor any it inherited from its caller. The test
// hands minimal-docker extra open descriptors (fds 3 to 8, on a host file)
// to make the second case certain.
func TestNoLeakedFileDescriptors(t *testing.T) {
	testenv.RequireRoot(t)
	hostFile, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer hostFile.Close()
	p := startProc(t, false, func(c *exec.Cmd) {
		for range 6 {
			c.ExtraFiles = append(c.ExtraFiles, hostFile)
		}
	}, runArgs(nil, "probe", "fds"))
	r := p.wait(t)
	r.wantExit(t, 0)
	var fds []string
	for _, l := range r.lines() {
		fds = append(fds, strings.Fields(l)[0])
	}
	if strings.Join(fds, " ") != "0 1 2" {
		t.Errorf("open fds %v, want 0 1 2\n%s", fds, r)
	}
}

// TestRootfsUnchanged: a run leaves no mount on the rootfs and the rootfs's
// top level as it was (the leftover check covers the mount table).
func TestRootfsUnchanged(t *testing.T) {
	testenv.RequireRoot(t)
	before := topLevel(t, env.rootfs)
	run(t, nil, "true").wantExit(t, 0)
	if after := topLevel(t, env.rootfs); after != before {
		t.Errorf("rootfs top level changed:\nbefore %s\nafter  %s", before, after)
	}
}

func topLevel(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name()+":"+info.Mode().String())
	}
	return strings.Join(names, " ")
}
