package proc

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// statLine returns a /proc/PID/stat line with the given command name,
// state and start time (field 22), the other fields made up.
func statLine(comm string, state byte, start string) string {
	f := []string{"4242", "(" + comm + ")", string(state)}
	for i := 4; i <= 52; i++ {
		f = append(f, "7")
	}
	f[21] = start
	return strings.Join(f, " ") + "\n"
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    stat
		wantErr bool
	}{
		{"plain", statLine("sh", 'S', "123456"), stat{state: 'S', ppid: 7, startTime: 123456}, false},
		{"spaces and parens", statLine("a) b (c) R 1 2", 'Z', "99"), stat{state: 'Z', ppid: 7, startTime: 99}, false},
		{"empty comm", statLine("", 'R', "1"), stat{state: 'R', ppid: 7, startTime: 1}, false},
		{"no paren", "4242 sh S 1 2 3", stat{}, true},
		{"short", "4242 (sh) S 1 2 3\n", stat{}, true},
		{"bad start", statLine("sh", 'S', "x"), stat{}, true},
		{"bad state", strings.Replace(statLine("sh", 'S', "1"), ") S ", ") SS ", 1), stat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.text)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestStartTime(t *testing.T) {
	t1, err := StartTime(os.Getpid())
	if err != nil || t1 == 0 {
		t.Fatalf("own start time: %d, %v", t1, err)
	}
	t2, err := StartTime(os.Getpid())
	if err != nil || t2 != t1 {
		t.Fatalf("start time changed: %d then %d, %v", t1, t2, err)
	}
	if _, err := StartTime(exitedPid(t)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("exited process: err = %v, want ErrNotExist", err)
	}
}

// exitedPid returns the pid of a process that was started and reaped.
func exitedPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	return cmd.Process.Pid
}

func TestAlive(t *testing.T) {
	start, err := StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if alive, err := Alive(os.Getpid(), start); err != nil || !alive {
		t.Errorf("self: %v, %v; want alive", alive, err)
	}
	if alive, err := Alive(os.Getpid(), start+1); err != nil || alive {
		t.Errorf("self with another start time (a reused pid): %v, %v; want dead", alive, err)
	}
	if alive, err := Alive(exitedPid(t), start); err != nil || alive {
		t.Errorf("exited process: %v, %v; want dead", alive, err)
	}
	// A zombie: started, exited, not yet waited for.
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start true: %v", err)
	}
	defer cmd.Wait()
	zstart, err := StartTime(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if alive, err := Alive(cmd.Process.Pid, zstart); err == nil && !alive {
			return
		}
		if i == 999 {
			t.Fatalf("process %d still alive (not a zombie) after its exit", cmd.Process.Pid)
		}
		_ = exec.Command("true").Run() // lets the zombie's exit happen
	}
}

func TestParent(t *testing.T) {
	if got, err := Parent(os.Getpid()); err != nil || got != os.Getppid() {
		t.Fatalf("own parent: %d, %v; want %d", got, err, os.Getppid())
	}
}
