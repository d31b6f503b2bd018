package hooks

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// sh is the host's shell, which the test hooks are scripts for.
func sh(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this host")
	}
	p, err = filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func script(t *testing.T, body string, env ...string) specs.Hook {
	return specs.Hook{Path: sh(t), Args: []string{"sh", "-c", body}, Env: env}
}

func seconds(n int) *int { return &n }

var testState = &specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreating, Pid: 42, Bundle: "/b"}

// TestRunStateOnStdin: the hook reads the container's state as JSON on
// its stdin.
func TestRunStateOnStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "state.json")
	h := &specs.Hooks{CreateRuntime: []specs.Hook{script(t, "cat > "+out)}}
	if err := Run(h, CreateRuntime, testState); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got specs.State
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("stdin is not the state JSON: %v: %q", err, b)
	}
	if got.ID != "c1" || got.Pid != 42 || got.Status != specs.StateCreating || got.Bundle != "/b" || got.Version != specs.Version {
		t.Errorf("state on stdin = %+v", got)
	}
}

// TestRunEnvAndArgs: env is exactly the hook's (not the runtime's), and
// args are passed as given, args[0] included.
func TestRunEnvAndArgs(t *testing.T) {
	t.Setenv("RUNTIME_ONLY", "leak")
	out := filepath.Join(t.TempDir(), "out")
	h := specs.Hook{
		Path: sh(t),
		Args: []string{"my-hook", "-c", `echo "$(head -c 7 /proc/$$/cmdline)|$1|$FOO|${RUNTIME_ONLY-unset}" > ` + out, "zero", "arg1"},
		Env:  []string{"FOO=bar"},
	}
	if err := Run(&specs.Hooks{Poststart: []specs.Hook{h}}, Poststart, testState); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if got, want := strings.TrimSpace(string(b)), "my-hook|arg1|bar|unset"; got != want {
		t.Errorf("hook saw %q, want %q", got, want)
	}
}

// TestRunExitStatus: a non-zero exit fails with the kind, index, path,
// status and what the hook wrote.
func TestRunExitStatus(t *testing.T) {
	h := &specs.Hooks{CreateRuntime: []specs.Hook{
		script(t, "true"),
		script(t, "echo it went wrong >&2; exit 3"),
	}}
	err := Run(h, CreateRuntime, testState)
	var he *Error
	if !errors.As(err, &he) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if he.Kind != CreateRuntime || he.Index != 1 {
		t.Errorf("error names %s #%d, want createRuntime #1", he.Kind, he.Index)
	}
	for _, want := range []string{"createRuntime hook #1", "exit status 3", "it went wrong"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestRunStopsAtFirstFailure and TestRunAllContinues: Run stops, RunAll
// runs the rest and reports every failure.
func TestRunStopsAtFirstFailure(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	h := &specs.Hooks{StartContainer: []specs.Hook{script(t, "exit 1"), script(t, "touch "+marker)}}
	if err := Run(h, StartContainer, testState); err == nil {
		t.Fatal("Run succeeded with a failing hook")
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("Run ran the hook after the failed one")
	}
}

func TestRunAllContinues(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	h := &specs.Hooks{Poststop: []specs.Hook{script(t, "exit 1"), script(t, "touch "+marker), script(t, "exit 2")}}
	err := RunAll(h, Poststop, testState)
	if err == nil || !strings.Contains(err.Error(), "#0") || !strings.Contains(err.Error(), "#2") {
		t.Errorf("RunAll error = %v, want both failures", err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("RunAll did not run the hook after the failed one")
	}
}

// TestRunTimeoutKills: at its timeout the hook and what it started are
// killed, and the error says so.
func TestRunTimeoutKills(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	h := script(t, "sleep 100 & echo $! > "+pidFile+"; wait")
	h.Timeout = seconds(1)
	t0 := time.Now()
	err := Run(&specs.Hooks{CreateRuntime: []specs.Hook{h}}, CreateRuntime, testState)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("Run took %v with a 1s timeout", d)
	}
	b, _ := os.ReadFile(pidFile)
	pid := strings.TrimSpace(string(b))
	if pid == "" {
		t.Fatal("the hook did not start its sleep")
	}
	// The sleep was in the hook's process group: killed too (a zombie
	// until its reaper collects it, which is not a running process).
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hook's child %s still runs after the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunMissingProgram: a path that does not exist fails clearly.
func TestRunMissingProgram(t *testing.T) {
	h := &specs.Hooks{Poststart: []specs.Hook{{Path: "/nonexistent/hook"}}}
	err := Run(h, Poststart, testState)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/hook") {
		t.Errorf("err = %v, want a failure naming the path", err)
	}
}

// TestRunHookIgnoresStdin: a hook that exits without reading its stdin
// succeeds.
func TestRunHookIgnoresStdin(t *testing.T) {
	h := &specs.Hooks{Poststart: []specs.Hook{script(t, "exit 0")}}
	big := *testState
	big.Annotations = map[string]string{"big": strings.Repeat("x", 1<<20)}
	if err := Run(h, Poststart, &big); err != nil {
		t.Errorf("err = %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *specs.Hooks
		want string // "" for valid
	}{
		{"nil", nil, ""},
		{"good", &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Timeout: seconds(3)}}}, ""},
		{"relative path", &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "true"}}}, "hooks.createRuntime[0]: path \"true\" is not absolute"},
		{"zero timeout", &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/true"}, {Path: "/bin/true", Timeout: seconds(0)}}}, "hooks.poststart[1]: timeout 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.h)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("err = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOfAndHas(t *testing.T) {
	h := &specs.Hooks{Prestart: []specs.Hook{{Path: "/a"}}, Poststop: []specs.Hook{{Path: "/b"}}}
	if len(Of(h, Prestart)) != 1 || len(Of(h, Poststop)) != 1 || len(Of(h, CreateRuntime)) != 0 || Of(nil, Poststop) != nil {
		t.Error("Of returns the wrong lists")
	}
	if !Has(h, CreateRuntime, Prestart) || Has(h, CreateContainer, StartContainer) || Has(nil, Poststop) {
		t.Error("Has is wrong")
	}
}

// TestRunNoEnvInherits: a hook without env sees the runtime's environment,
// as with runc.
func TestRunNoEnvInherits(t *testing.T) {
	t.Setenv("RUNTIME_ONLY", "inherited")
	out := filepath.Join(t.TempDir(), "out")
	h := specs.Hook{Path: sh(t), Args: []string{"sh", "-c", `echo "${RUNTIME_ONLY-unset}" > ` + out}}
	if err := Run(&specs.Hooks{Poststart: []specs.Hook{h}}, Poststart, testState); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); strings.TrimSpace(string(b)) != "inherited" {
		t.Errorf("hook without env saw %q, want the runtime's environment", b)
	}
}
