package runc

import (
	"strings"
	"testing"
)

// TestCheckTerminal: runc's rule for process.terminal and --console-socket.
func TestCheckTerminal(t *testing.T) {
	for _, tc := range []struct {
		detach, terminal bool
		socket           string
		wantErr          string
	}{
		{detach: true, terminal: true, socket: "/s"},
		{detach: false, terminal: true},
		{detach: true},
		{},
		{detach: true, terminal: true, wantErr: "give --console-socket"},
		{detach: true, socket: "/s", wantErr: "no terminal"},
		{socket: "/s", wantErr: "no terminal"},
		{terminal: true, socket: "/s", wantErr: "only for a detached process"},
	} {
		err := checkTerminal(tc.detach, tc.terminal, tc.socket)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("checkTerminal(detach %v, terminal %v, socket %q) = %v, want %q", tc.detach, tc.terminal, tc.socket, err, tc.wantErr)
		}
	}
}
