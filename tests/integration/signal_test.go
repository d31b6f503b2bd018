package integration

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestSignalForwarding sends each forwarded signal to the minimal-docker
// process; a shell trap in the container reports it and exits with a code
// of its own.
func TestSignalForwarding(t *testing.T) {
	testenv.RequireRoot(t)
	signals := []struct {
		name string
		sig  syscall.Signal
		code int
	}{
		{"TERM", syscall.SIGTERM, 7},
		{"INT", syscall.SIGINT, 8},
		{"HUP", syscall.SIGHUP, 9},
		{"QUIT", syscall.SIGQUIT, 10},
		{"USR1", syscall.SIGUSR1, 11},
		{"USR2", syscall.SIGUSR2, 12},
	}
	for _, init := range []bool{false, true} {
		for _, s := range signals {
			name, flags := s.name, []string(nil)
			if init {
				name, flags = s.name+" with --init", []string{"--init"}
			}
			t.Run(name, func(t *testing.T) {
				// wait, unlike a foreground command, lets the trap run at once.
				script := fmt.Sprintf("trap 'echo got-%s; exit %d' %s; echo ready; sleep 1000 & wait", s.name, s.code, s.name)
				p := start(t, runArgs(flags, "sh", "-c", script)...)
				p.waitLine(t, "ready")
				p.signal(t, s.sig)
				r := p.wait(t)
				r.wantExit(t, s.code)
				if !strings.Contains(r.stdout, "got-"+s.name) {
					t.Errorf("the trap did not run\n%s", r)
				}
			})
		}
	}
}
