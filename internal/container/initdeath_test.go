package container

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
)

// TestExplainDeath: a broken handshake with an init that died becomes an
// *InitDiedError saying how it died, and the init is reaped; other errors
// stay as they are.
func TestExplainDeath(t *testing.T) {
	broken := fmt.Errorf("handshake wait ready: %w", unix.ECONNRESET)
	for _, tc := range []struct {
		name   string
		script string
		err    error
		want   string // "" when err must come back as it is
	}{
		{"killed", "kill -9 $$", broken, "the container's init died during setup: killed by signal 9 (SIGKILL)"},
		{"exited", "exit 2", broken, "the container's init died during setup: exited with status 2"},
		{"peer closed", "exit 3", fmt.Errorf("handshake wait ready: %w", handshake.ErrClosed), "exited with status 3"},
		{"typed step error", "exit 125", &handshake.Error{Step: "mounts", Msg: "no"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &child{cmd: exec.Command("/bin/sh", "-c", tc.script)}
			if err := c.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			c.proc = c.cmd.Process
			defer func() { _ = c.cmd.Process.Kill(); _ = c.cmd.Wait() }()
			got := c.explainDeath(tc.err)
			if tc.want == "" {
				if got != tc.err {
					t.Fatalf("explainDeath(%v) = %v, want it unchanged", tc.err, got)
				}
				return
			}
			var died *InitDiedError
			if !errors.As(got, &died) || !strings.Contains(got.Error(), tc.want) {
				t.Fatalf("explainDeath = %v, want an *InitDiedError saying %q", got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("explainDeath = %v: does not wrap the handshake's error", got)
			}
			if c.cmd.ProcessState == nil {
				t.Error("the init was not reaped")
			}
		})
	}
}

func TestFormatLimit(t *testing.T) {
	for in, want := range map[int64]string{256 << 10: "256KiB", 256 << 20: "256MiB", 1000: "1000 bytes"} {
		if got := formatLimit(in); got != want {
			t.Errorf("formatLimit(%d) = %q, want %q", in, got, want)
		}
	}
}
