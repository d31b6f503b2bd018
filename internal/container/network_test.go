package container

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// fakeNetwork records its calls; Attach blocks until release is closed.
type fakeNetwork struct {
	release   chan struct{}
	attachErr error
	detachErr error
	pid       int
	calls     []string
}

func (f *fakeNetwork) Attach(pid int) error {
	<-f.release
	f.pid = pid
	f.calls = append(f.calls, "attach")
	return f.attachErr
}

func (f *fakeNetwork) Detach() error {
	f.calls = append(f.calls, "detach")
	return f.detachErr
}

// TestNetAttach: a foreground run's network is attached beside the rest
// (wait gives Attach's error), and detached only once Attach has ended,
// whatever its outcome; Detach's failure is a warning.
func TestNetAttach(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		attachErr, detachErr error
		warning              string
	}{
		{name: "attached"},
		{name: "attach failed", attachErr: errors.New("no IP addresses available")},
		{name: "detach failed", detachErr: errors.New("CNI DEL: boom"), warning: proc.Name() + ": warning: CNI DEL: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeNetwork{release: make(chan struct{}), attachErr: tc.attachErr, detachErr: tc.detachErr}
			a := attachNetwork(f, 42, debugLog{})
			var log bytes.Buffer
			detached := make(chan struct{})
			go func() {
				a.detach(&log, debugLog{})
				close(detached)
			}()
			close(f.release) // Attach ends only now: detach waited for it
			<-detached
			if err := a.wait(); !errors.Is(err, tc.attachErr) {
				t.Errorf("wait = %v, want %v", err, tc.attachErr)
			}
			if strings.Join(f.calls, ",") != "attach,detach" || f.pid != 42 {
				t.Errorf("calls %v with pid %d, want attach (42) then detach", f.calls, f.pid)
			}
			if got := strings.TrimSpace(log.String()); got != tc.warning {
				t.Errorf("log %q, want %q", got, tc.warning)
			}
		})
	}
	// No network: nothing to do.
	var none *netAttach = attachNetwork(nil, 1, debugLog{})
	if none != nil || none.wait() != nil {
		t.Errorf("attachNetwork(nil) = %v, want nil doing nothing", none)
	}
	none.detach(nil, debugLog{})
}
