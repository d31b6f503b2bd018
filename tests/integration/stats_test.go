package integration

// stats --no-stream: Docker's columns for a detached container, read from
// its cgroup: the memory limit -m set, the number of processes.

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestStatsNoStream(t *testing.T) {
	root := t.TempDir()
	id := detached(t, root, "--name", "st", "-m", "64m", env.rootfs, "sh", "-c", "sleep 1000 & sleep 1000 & wait")

	r := mdi(t, root, "stats", "--no-stream", "st")
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) != 2 {
		t.Fatalf("stats: want a header and a line\n%s", r)
	}
	for _, col := range []string{"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("stats header %q lacks %s", lines[0], col)
		}
	}
	if !strings.HasPrefix(lines[1], id[:12]+" ") || !strings.Contains(lines[1], " st ") {
		t.Errorf("stats line %q: want the short id and the name", lines[1])
	}

	r = mdi(t, root, "stats", "--no-stream", "--no-trunc", "--format", "{{.ID}}|{{.MemUsage}}|{{.PIDs}}|{{.CPUPerc}}|{{.MemPerc}}", "st")
	r.wantExit(t, 0)
	f := strings.Split(strings.TrimSpace(r.stdout), "|")
	if len(f) != 5 {
		t.Fatalf("stats --format: want 5 fields\n%s", r)
	}
	if f[0] != id {
		t.Errorf("--no-trunc: ID %q, want %s", f[0], id)
	}
	if !strings.HasSuffix(f[1], " / 64MiB") {
		t.Errorf("MEM USAGE / LIMIT %q, want the limit 64MiB", f[1])
	}
	if f[2] != "3" {
		t.Errorf("PIDS %q, want 3 (sh and its two sleeps)", f[2])
	}
	for _, p := range f[3:] {
		if !strings.HasSuffix(p, "%") {
			t.Errorf("a percentage %q without %%", p)
		}
	}

	r = mdi(t, root, "stats", "--no-stream", "--format", "json")
	r.wantExit(t, 0)
	var row map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &row); err != nil || row["Name"] != "st" || row["PIDs"] != "3" {
		t.Errorf("stats --format json (the running containers): %v %v\n%s", err, row, r)
	}

	mdi(t, root, "stop", "-t", "0", "st").wantExit(t, 0)
	r = mdi(t, root, "stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.PIDs}}", "st")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "st -- --" {
		t.Errorf("stats of a stopped container: want st -- --\n%s", r)
	}
	r = mdi(t, root, "stats", "--no-stream", "nosuch")
	r.wantExit(t, 1)
}
