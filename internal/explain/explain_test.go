package explain

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNilLogPrintsNothing(t *testing.T) {
	var l *Log
	if l.On() {
		t.Error("a nil Log is on")
	}
	l.Parent(time.Millisecond, "x")
	l.Child(time.Millisecond, "x")
	l.Cgroup("write", "/p", "1", 0, nil)
	l.Exit(0, 0, "", 0)
}

// TestLinesParse: every line a Log prints parses back to who, duration
// and text.
func TestLinesParse(t *testing.T) {
	var b bytes.Buffer
	l := New(&b)
	l.Parent(1234*time.Microsecond, "clone %s", "CLONE_NEWNS|CLONE_NEWPID")
	l.Child(12*time.Microsecond, "mount proc on /proc (proc, nosuid|nodev|noexec)")
	l.Cgroup("write", "/sys/fs/cgroup/cpu/x/cpu.max", "50000 100000", 30*time.Microsecond, nil)
	l.Cgroup("mkdir", "/sys/fs/cgroup/x", "", 0, nil)
	l.Cgroup("rmdir", "/sys/fs/cgroup/x", "", 0, errors.New("rmdir /sys/fs/cgroup/x: device or resource busy"))
	l.Cgroup("bpf", "/sys/fs/cgroup/x", "BPF_CGROUP_DEVICE program of 40 instructions (3 device rules)", 0, nil)
	l.Exit(2*time.Second, 137, "SIGKILL", 1)
	l.Exit(0, 3, "", -1)
	want := []struct {
		who  string
		took time.Duration
		text string
	}{
		{Parent, 1234 * time.Microsecond, "clone CLONE_NEWNS|CLONE_NEWPID"},
		{Init, 12 * time.Microsecond, "mount proc on /proc (proc, nosuid|nodev|noexec)"},
		{Parent, 30 * time.Microsecond, `cgroup write /sys/fs/cgroup/cpu/x/cpu.max "50000 100000"`},
		{Parent, 0, "cgroup mkdir /sys/fs/cgroup/x"},
		{Parent, 0, "cgroup rmdir /sys/fs/cgroup/x: rmdir /sys/fs/cgroup/x: device or resource busy"},
		{Parent, 0, "cgroup bpf /sys/fs/cgroup/x BPF_CGROUP_DEVICE program of 40 instructions (3 device rules)"},
		{Parent, 2 * time.Second, "exit status 137 (signal SIGKILL), oom_kill 1"},
		{Parent, 0, "exit status 3"},
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	var last time.Duration
	for i, s := range lines {
		got, ok := Parse(s)
		if !ok {
			t.Errorf("line %d does not parse: %q", i, s)
			continue
		}
		if got.Who != want[i].who || got.Took != want[i].took || got.Text != want[i].text {
			t.Errorf("line %d %q parsed as %+v, want %+v", i, s, got, want[i])
		}
		if got.At < last {
			t.Errorf("line %d: time %v before the line above's %v", i, got.At, last)
		}
		last = got.At
	}
}

func TestParseRefuses(t *testing.T) {
	for _, s := range []string{
		"",
		"minimal-docker: debug: step clone 1.000ms",
		"explain: 1.000ms someone 0.100ms  x",
		"explain: x.000ms parent 0.100ms  x",
		"explain:    1.000ms parent    0.100ms",
	} {
		if l, ok := Parse(s); ok {
			t.Errorf("Parse(%q) = %+v, want no line", s, l)
		}
	}
}
