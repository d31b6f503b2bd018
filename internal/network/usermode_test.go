package network

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// startSleep starts a process that stands for a kept tool, killed and
// reaped at the test's end whatever happens.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	return cmd
}

func writeKept(t *testing.T, dir, name string, k KeptUserMode) {
	t.Helper()
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keptPath(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStopKept: the recorded tool is stopped and its files go; a record
// whose pid is now another process's (another start time) stops
// nothing; no record is nothing to do.
func TestStopKept(t *testing.T) {
	t.Run("stops the recorded process", func(t *testing.T) {
		dir := t.TempDir()
		cmd := startSleep(t)
		start, err := proc.StartTime(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		ports := []PortMapping{{HostIP: "127.0.0.1", HostPort: 18080, ContainerPort: 80, Protocol: "tcp"}}
		writeKept(t, dir, "abc", KeptUserMode{Tool: Pasta, Pid: cmd.Process.Pid, PidStartTime: start, Ports: ports})
		if err := os.WriteFile(filepath.Join(dir, "abc.pasta.pid"), []byte("1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := ReadKept(dir, "abc")
		if err != nil || k == nil || len(k.Ports) != 1 || k.Ports[0] != ports[0] {
			t.Fatalf("ReadKept: %+v, %v; want the record with its port", k, err)
		}
		if err := StopKept(dir, "abc"); err != nil {
			t.Fatal(err)
		}
		if alive, _ := proc.Alive(cmd.Process.Pid, start); alive {
			t.Error("the recorded process still runs")
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("files left: %v", ents)
		}
		if k, err := ReadKept(dir, "abc"); k != nil || err != nil {
			t.Errorf("ReadKept after StopKept: %+v, %v; want nothing", k, err)
		}
	})
	t.Run("a reused pid is left alone", func(t *testing.T) {
		dir := t.TempDir()
		cmd := startSleep(t)
		start, err := proc.StartTime(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		writeKept(t, dir, "abc", KeptUserMode{Tool: Slirp4netns, Pid: cmd.Process.Pid, PidStartTime: start + 1})
		if err := StopKept(dir, "abc"); err != nil {
			t.Fatal(err)
		}
		if alive, _ := proc.Alive(cmd.Process.Pid, start); !alive {
			t.Error("a process that is not the recorded one was stopped")
		}
	})
	t.Run("no record", func(t *testing.T) {
		if err := StopKept(t.TempDir(), "abc"); err != nil {
			t.Errorf("StopKept without a record: %v", err)
		}
	})
	t.Run("a bad record is an error naming it", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(keptPath(dir, "abc"), []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := StopKept(dir, "abc")
		if err == nil || !strings.Contains(err.Error(), keptPath(dir, "abc")) {
			t.Errorf("StopKept of a bad record: %v, want an error naming it", err)
		}
	})
}

// TestSweepKept: a kept tool whose container's init is gone is stopped;
// one whose init runs is left alone.
func TestSweepKept(t *testing.T) {
	dir := t.TempDir()
	record := func(name string, tool *exec.Cmd, initPid int, initStart uint64) uint64 {
		start, err := proc.StartTime(tool.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		writeKept(t, dir, name, KeptUserMode{Tool: Pasta, Pid: tool.Process.Pid, PidStartTime: start, InitPid: initPid, InitStartTime: initStart})
		return start
	}
	// A gone init: a process started and reaped.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	orphan := startSleep(t)
	orphanStart := record("gone", orphan, gone.Process.Pid, 1)
	// A running init: this test's own process.
	self := os.Getpid()
	selfStart, err := proc.StartTime(self)
	if err != nil {
		t.Fatal(err)
	}
	kept := startSleep(t)
	keptStart := record("running", kept, self, selfStart)

	if err := SweepKept(dir); err != nil {
		t.Fatal(err)
	}
	if alive, _ := proc.Alive(orphan.Process.Pid, orphanStart); alive {
		t.Error("the tool of a gone container still runs")
	}
	if _, err := os.Stat(keptPath(dir, "gone")); !os.IsNotExist(err) {
		t.Errorf("the gone container's record: %v, want removed", err)
	}
	if alive, _ := proc.Alive(kept.Process.Pid, keptStart); !alive {
		t.Error("the tool of a running container was stopped")
	}
	if k, err := ReadKept(dir, "running"); err != nil || k == nil {
		t.Errorf("the running container's record: %+v, %v; want kept", k, err)
	}
	if err := SweepKept(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("SweepKept of a missing directory: %v", err)
	}
}
