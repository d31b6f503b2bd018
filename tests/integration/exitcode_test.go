package integration

import (
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

func TestExitCodes(t *testing.T) {
	testenv.RequireRoot(t)
	tests := []struct {
		name       string
		flags      []string
		command    []string
		code       int
		stderr     []string       // substrings stderr must hold
		stderrLike *regexp.Regexp // nil: no check
	}{
		{name: "success", command: []string{"true"}, code: 0},
		{name: "status 3", command: []string{"sh", "-c", "exit 3"}, code: 3},
		{name: "status 255", command: []string{"sh", "-c", "exit 255"}, code: 255},
		{name: "not found on PATH", command: []string{"no-such-command"}, code: 127,
			stderr: []string{"executable file not found", "no-such-command", env.rootfs}},
		{name: "absolute path missing", command: []string{"/no/such/command"}, code: 127,
			stderr: []string{"/no/such/command"}},
		{name: "not executable", command: []string{notExecutable}, code: 126,
			stderr: []string{notExecutable}},
		{name: "directory", command: []string{"/tmp"}, code: 126, stderr: []string{"/tmp"}},
		// A setup step fails inside the container: the working directory
		// is a file. minimal-docker names the step and the path.
		{name: "workdir is a file", flags: []string{"-w", "/etc/passwd"}, command: []string{"true"}, code: 125,
			stderr: []string{"/etc/passwd"}, stderrLike: regexp.MustCompile(`init [a-z_]+: `)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.flags, tt.command...)
			r.wantExit(t, tt.code)
			r.wantStderr(t, tt.stderr...)
			if tt.stderrLike != nil && !tt.stderrLike.MatchString(r.stderr) {
				t.Errorf("stderr does not match %v\n%s", tt.stderrLike, r)
			}
		})
	}
}

// TestExitCodeKilledBySignal kills a process from the host and expects
// 128+N. The container's PID 1 only takes SIGKILL from outside its
// namespace (it has no handlers); with --init the command is PID 2 and
// takes SIGTERM too.
func TestExitCodeKilledBySignal(t *testing.T) {
	testenv.RequireRoot(t)
	tests := []struct {
		name   string
		flags  []string
		sig    syscall.Signal
		target string // "pid1": the container's PID 1, "child": its child
	}{
		{"SIGKILL to PID 1", nil, syscall.SIGKILL, "pid1"},
		{"SIGTERM to the command under --init", []string{"--init"}, syscall.SIGTERM, "child"},
		{"SIGKILL to the command under --init", []string{"--init"}, syscall.SIGKILL, "child"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := start(t, runArgs(tt.flags, "sh", "-c", "echo ready; sleep 100")...)
			p.waitLine(t, "ready")
			target := p.containerPID(t)
			if tt.target == "child" {
				kids := children(target)
				if len(kids) != 1 {
					t.Fatalf("container PID 1 (host pid %d) has children %v, want one (the command)", target, kids)
				}
				target = kids[0]
			}
			if err := syscall.Kill(target, tt.sig); err != nil {
				t.Fatal(err)
			}
			r := p.wait(t)
			r.wantExit(t, 128+int(tt.sig))
			if strings.Contains(r.stderr, "out of memory") {
				t.Errorf("stderr reports an OOM kill, but the process was killed by %v\n%s", tt.sig, r)
			}
		})
	}
}
