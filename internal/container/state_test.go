package container

import (
	"errors"
	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// TestGate: each command acts in the statuses of the lifecycle's table and
// refuses the others with a sentinel error naming the container.
func TestGate(t *testing.T) {
	all := []Status{Creating, Created, Running, Paused, Stopped}
	for op, want := range map[Op][]Status{
		OpStart:       {Created},
		OpPause:       {Running},
		OpResume:      {Paused},
		OpKill:        {Creating, Created, Running, Paused},
		OpKillAll:     all,
		OpDelete:      {Creating, Created, Stopped},
		OpForceDelete: all,
		OpUpdate:      {Created, Running, Paused},
		OpExec:        {Created, Running},
		OpPrune:       {Stopped},
	} {
		for _, s := range all {
			t.Run(string(op)+" "+string(s), func(t *testing.T) {
				err := allow(op, "c1", s)
				if slices.Contains(want, s) {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				if !errors.Is(err, ErrWrongStatus) && !errors.Is(err, ErrRunning) && !errors.Is(err, ErrNotRunning) {
					t.Fatalf("err = %v, want a status error", err)
				}
				if !strings.Contains(err.Error(), "c1") {
					t.Errorf("error %q does not name the container", err)
				}
			})
		}
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"abc", true},
		{"A-b_c+d.e", true},
		{"0123456789", true},
		{"...", true},
		{".hidden", true},
		{strings.Repeat("a", 1024), true},
		{"", false},
		{".", false},
		{"..", false},
		{strings.Repeat("a", 1025), false},
		{"a/b", false},
		{"../x", false},
		{"a b", false},
		{"a~b", false},
		{"a:b", false},
		{"é", false},
		{"a\x00b", false},
	}
	for _, tt := range tests {
		name := tt.id
		if len(name) > 20 {
			name = name[:20] + "..."
		}
		t.Run(name, func(t *testing.T) {
			err := ValidID(tt.id)
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidID) {
				t.Fatalf("err = %v, want ErrInvalidID", err)
			}
		})
	}
}

// startTrue starts /bin/true (or the test binary's sh) and returns it
// unwaited together with its start time.
func startTrue(t *testing.T) (*exec.Cmd, uint64) {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start true: %v", err)
	}
	// Not waited for: the process is running or a zombie, its /proc entry
	// still there.
	start, err := proc.StartTime(cmd.Process.Pid)
	if err != nil {
		t.Fatalf("start time of %d: %v", cmd.Process.Pid, err)
	}
	return cmd, start
}

// exitedPid returns the pid of a process that was started and reaped.
func exitedPid(t *testing.T) int {
	t.Helper()
	cmd, _ := startTrue(t)
	_ = cmd.Wait()
	return cmd.Process.Pid
}

func TestRefresh(t *testing.T) {
	self := os.Getpid()
	selfStart, err := proc.StartTime(self)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "exec.fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// held is a fifo this process holds open, as an init that waits for
	// start holds its exec fifo.
	held := filepath.Join(t.TempDir(), "exec.fifo")
	if err := unix.Mkfifo(held, 0o600); err != nil {
		t.Fatal(err)
	}
	heldFd, err := unix.Open(held, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(heldFd)
	// heldDir's fifo is in a directory this process holds open, as the
	// init holds its exec fifo's directory.
	heldDir := filepath.Join(t.TempDir(), "exec.fifo")
	if err := unix.Mkfifo(heldDir, 0o600); err != nil {
		t.Fatal(err)
	}
	heldDirFd, err := unix.Open(filepath.Dir(heldDir), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(heldDirFd)
	gone, goneStart := startTrue(t)
	_ = gone.Wait()

	zombie, zombieStart := startTrue(t)
	var info unix.Siginfo // wait until it exits, but leave it unreaped
	if err := unix.Waitid(unix.P_PID, zombie.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = zombie.Wait() }()

	tests := []struct {
		name string
		st   State
		want Status
	}{
		{"own pid", State{Pid: self, PidStartTime: selfStart, Status: Created}, Running},
		{"own pid, holds the fifo", State{Pid: self, PidStartTime: selfStart, Status: Created, ExecFifo: held}, Created},
		{"own pid, holds the fifo's directory", State{Pid: self, PidStartTime: selfStart, Status: Created, ExecFifo: heldDir}, Created},
		{"own pid, fifo left by a killed start", State{Pid: self, PidStartTime: selfStart, Status: Created, ExecFifo: fifo}, Running},
		{"own pid, fifo gone", State{Pid: self, PidStartTime: selfStart, Status: Created, ExecFifo: fifo + ".gone"}, Running},
		{"own pid, create killed", State{Pid: self, PidStartTime: selfStart, Status: Creating, ExecFifo: held}, Creating},
		{"create killed, init gone", State{Pid: gone.Process.Pid, PidStartTime: goneStart, Status: Creating, ExecFifo: held}, Stopped},
		{"own pid, paused", State{Pid: self, PidStartTime: selfStart, Status: Paused}, Paused},
		{"own pid, stopped saved", State{Pid: self, PidStartTime: selfStart, Status: Stopped}, Running},
		{"pid reused", State{Pid: self, PidStartTime: selfStart + 1, Status: Running, ExecFifo: fifo}, Stopped},
		{"exited and reaped", State{Pid: gone.Process.Pid, PidStartTime: goneStart, Status: Running}, Stopped},
		{"zombie", State{Pid: zombie.Process.Pid, PidStartTime: zombieStart, Status: Running}, Stopped},
		{"never started", State{Status: Creating, ExecFifo: fifo}, Stopped},
		{"paused, gone", State{Pid: gone.Process.Pid, PidStartTime: goneStart, Status: Paused}, Stopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.st
			st.ID = "c1"
			if err := st.Refresh(); err != nil {
				t.Fatal(err)
			}
			if st.Status != tt.want {
				t.Fatalf("status = %s, want %s", st.Status, tt.want)
			}
		})
	}
}

func TestOCI(t *testing.T) {
	ann := map[string]string{"k": "v"}
	tests := []struct {
		name string
		st   State
		want specs.State
	}{
		{
			"running",
			State{OCIVersion: "1.0.2", ID: "c1", Status: Running, Pid: 42, Bundle: "/b", Annotations: ann, Rootfs: "/b/rootfs"},
			specs.State{Version: "1.0.2", ID: "c1", Status: specs.StateRunning, Pid: 42, Bundle: "/b", Annotations: ann},
		},
		{
			"stopped has no pid",
			State{OCIVersion: "1.0.2", ID: "c1", Status: Stopped, Pid: 42, Bundle: "/b"},
			specs.State{Version: "1.0.2", ID: "c1", Status: specs.StateStopped, Bundle: "/b"},
		},
		{
			"paused, default version",
			State{ID: "c1", Status: Paused, Pid: 42, Bundle: "/b"},
			specs.State{Version: specs.Version, ID: "c1", Status: "paused", Pid: 42, Bundle: "/b"},
		},
		{
			"created",
			State{OCIVersion: "1.0.2", ID: "c1", Status: Created, Pid: 7, Bundle: "/b"},
			specs.State{Version: "1.0.2", ID: "c1", Status: specs.StateCreated, Pid: 7, Bundle: "/b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.st.OCI(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestSavedOfNone: the record of a container without a cgroup of its own
// (rootless, no delegated cgroup) gives the None manager back, on a v2
// host too, where a v2 record without a directory is an error.
func TestSavedOfNone(t *testing.T) {
	for _, mode := range []string{"v1", "hybrid", "v2"} {
		m, err := cgroups.Restore(savedOf(&State{CgroupMode: mode, CgroupNone: true}))
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if _, ok := m.(*cgroups.None); !ok {
			t.Errorf("%s: restored %T, want *cgroups.None", mode, m)
		}
	}
}
