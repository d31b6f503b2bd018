package cgroups

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// requireRoot skips a test that needs to write the host's cgroups.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root")
	}
}

// TestRealCgroup makes a cgroup beneath this process's own, on the host's
// real hierarchies, limits it, puts a child in it and destroys it.
func TestRealCgroup(t *testing.T) {
	requireRoot(t)
	name := fmt.Sprintf("minimal-docker-test-%d/ctr", os.Getpid())
	m, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	limit, pids, quota, period := int64(32<<20), int64(10), int64(50000), uint64(100000)
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit},
		Pids:   &specs.LinuxPids{Limit: &pids},
		CPU:    &specs.LinuxCPU{Quota: &quota, Period: &period},
	}
	if err := m.Create(r); err != nil {
		if m.Mode() == V2 && errors.Is(err, unix.EBUSY) {
			t.Skipf("this process's own cgroup has processes in it: %v", err)
		}
		t.Fatal(err)
	}
	t.Logf("mode %v; memory %s, pids %s, cpu %s", m.Mode(), m.Path("memory"), m.Path("pids"), m.Path("cpu"))
	checkLimits(t, m)

	pid := startSleep(t)
	if err := m.Apply(pid); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"memory", "pids", "cpu"} {
		if procs := readReal(t, m.Path(c), "cgroup.procs"); !slices.Contains(strings.Fields(procs), strconv.Itoa(pid)) {
			t.Errorf("%s cgroup.procs = %q, want %d in it", c, procs, pid)
		}
	}

	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"memory", "pids", "cpu"} {
		for _, dir := range []string{m.Path(c), filepath.Dir(m.Path(c))} {
			if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s left behind (%v)", dir, err)
			}
		}
	}
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

// checkLimits reads the limits back from the kernel's files.
func checkLimits(t *testing.T, m Manager) {
	t.Helper()
	want := map[string][2]string{ // file -> controller, value
		"memory.limit_in_bytes": {"memory", "33554432"},
		"pids.max":              {"pids", "10"},
		"cpu.cfs_quota_us":      {"cpu", "50000"},
		"cpu.cfs_period_us":     {"cpu", "100000"},
	}
	if m.Mode() == V2 {
		want = map[string][2]string{
			"memory.max": {"memory", "33554432"},
			"pids.max":   {"pids", "10"},
			"cpu.max":    {"cpu", "50000 100000"},
		}
	}
	for file, w := range want {
		if got := readReal(t, m.Path(w[0]), file); got != w[1] {
			t.Errorf("%s = %q, want %q", file, got, w[1])
		}
	}
}

// startSleep starts `sleep 5`, reaped in the background so that it leaves
// its cgroup as soon as it is killed, and killed at the end of the test.
func startSleep(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case err := <-done:
			if err == nil {
				t.Error("sleep outlived Destroy and exited normally")
			}
		case <-time.After(10 * time.Second):
			t.Error("sleep was not reaped")
		}
	})
	return cmd.Process.Pid
}

func readReal(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
