package integration

import (
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

func TestCommandIsPID1(t *testing.T) {
	testenv.RequireRoot(t)
	tests := []struct {
		name    string
		command []string
		want    []string // stdout lines that must be present
	}{
		{"shell", []string{"sh", "-c", "echo $$"}, []string{"1"}},
		{"probe", []string{"probe", "self"}, []string{"pid 1", "ppid 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, nil, tt.command...)
			r.wantExit(t, 0)
			for _, w := range tt.want {
				if !hasLine(r.lines(), w) {
					t.Errorf("stdout has no line %q\n%s", w, r)
				}
			}
		})
	}
}

// TestPsShowsOnlyContainerProcesses runs ps while the shell (PID 1) has a
// background sleep: ps must list exactly those three processes.
func TestPsShowsOnlyContainerProcesses(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, nil, "sh", "-c", "sleep 60 & ps -o pid,ppid,comm; kill $!")
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) == 0 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "PID") {
		t.Fatalf("no ps header\n%s", r)
	}
	procs := map[string][]string{} // pid -> ppid, comm
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 3 {
			t.Fatalf("unexpected ps line %q\n%s", l, r)
		}
		procs[f[0]] = f[1:]
	}
	if len(procs) != 3 {
		t.Errorf("ps lists %d processes, want 3 (sh, sleep, ps)\n%s", len(procs), r)
	}
	if p1, ok := procs["1"]; !ok || p1[0] != "0" || p1[1] != "sh" {
		t.Errorf("ps: PID 1 is %v, want sh with parent 0\n%s", p1, r)
	}
	for pid, p := range procs {
		if pid != "1" && p[0] != "1" {
			t.Errorf("ps: PID %s has parent %s, want 1: a process from outside the container?\n%s", pid, p[0], r)
		}
	}
}

func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
