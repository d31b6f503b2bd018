package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestBadFlagValues: rejected with exit 125, naming the flag and the value,
// before anything is made (the leftover check).
func TestBadFlagValues(t *testing.T) {
	testenv.RequireRoot(t)
	tests := []struct {
		name  string
		flags []string
		names []string // the message must name one of these
		value string   // and quote the value, if set
	}{
		{"memory unit", []string{"--memory", "10XB"}, []string{"--memory"}, "10XB"},
		{"memory not a number", []string{"-m", "lots"}, []string{"--memory", "-m"}, "lots"},
		{"negative cpus", []string{"--cpus", "-1"}, []string{"--cpus"}, "-1"},
		{"cpus not a number", []string{"--cpus", "two"}, []string{"--cpus"}, "two"},
		{"pids-limit not a number", []string{"--pids-limit", "abc"}, []string{"--pids-limit"}, "abc"},
		{"env without =", []string{"-e", "FOO"}, []string{"--env", "-e"}, "FOO"},
		{"unknown network", []string{"--network", "bridge"}, []string{"--network"}, "bridge"},
		{"unknown flag", []string{"--no-such-flag"}, []string{"--no-such-flag"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.flags, "true")
			r.wantExit(t, 125)
			named := false
			for _, n := range tt.names {
				named = named || strings.Contains(r.stderr, n)
			}
			if !named {
				t.Errorf("stderr names none of %v\n%s", tt.names, r)
			}
			if tt.value != "" {
				r.wantStderr(t, tt.value)
			}
		})
	}
}

// TestBadRootfs: a rootfs that is missing, is not a directory, or lacks the
// command gets a clear error.
func TestBadRootfs(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("not a rootfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		rootfs string
		code   int
		stderr []string
	}{
		{"missing", filepath.Join(dir, "no-such-dir"), 125, []string{filepath.Join(dir, "no-such-dir")}},
		{"a file", file, 125, []string{file}},
		{"lacks the command", empty, 127, []string{empty, "sh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := md(t, "run", tt.rootfs, "sh", "-c", "true")
			r.wantExit(t, tt.code)
			r.wantStderr(t, tt.stderr...)
			entries, err := os.ReadDir(empty)
			if err != nil || len(entries) != 0 {
				t.Errorf("the run changed the empty rootfs %s: %v %v", empty, entries, err)
			}
		})
	}
}

// TestMissingArguments: run needs a rootfs and a command.
func TestMissingArguments(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"nothing", []string{"run"}},
		{"no command", []string{"run", env.rootfs}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := md(t, tt.args...)
			r.wantExit(t, 125)
			if strings.TrimSpace(r.stderr) == "" {
				t.Errorf("no message on stderr\n%s", r)
			}
		})
	}
}
