package integration

import (
	"os"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

func TestHostname(t *testing.T) {
	testenv.RequireRoot(t)
	hostBefore, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		flags []string
		want  string
	}{
		{"default", nil, "minimal-docker"},
		{"flag", []string{"--hostname", "box-1"}, "box-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.flags, "sh", "-c", "hostname; cat /proc/sys/kernel/hostname")
			r.wantExit(t, 0)
			if got := r.lines(); len(got) != 2 || got[0] != tt.want || got[1] != tt.want {
				t.Errorf("hostname and /proc/sys/kernel/hostname = %q, want %q twice\n%s", got, tt.want, r)
			}
		})
	}
	if hostAfter, err := os.Hostname(); err != nil || hostAfter != hostBefore {
		t.Errorf("host's hostname changed from %q to %q (%v)", hostBefore, hostAfter, err)
	}
}
