package integration

import (
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLeanHandsOverToImageBinary: a lean minimal-docker (make build's)
// without minimal-docker-image beside it refuses pull, load, save, import
// and run's pull with an error that names the missing binary and how to
// install it (pull and the archive verbs exit 1, run 125, as Docker's).
// With it beside, the image tests cover the verbs themselves.
func TestLeanHandsOverToImageBinary(t *testing.T) {
	info, err := buildinfo.ReadFile(env.bin)
	if err != nil {
		t.Fatal(err)
	}
	lean := false
	for _, s := range info.Settings {
		if s.Key == "-tags" && slices.Contains(strings.Split(s.Value, ","), "lean") {
			lean = true
		}
	}
	if !lean {
		t.Skipf("%s is not a lean build (-tags lean): it runs these verbs itself", env.bin)
	}
	dir := t.TempDir()
	alone := filepath.Join(dir, "minimal-docker")
	data, err := os.ReadFile(env.bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "store")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"pull", "127.0.0.1:1/none:v1"}, 1},
		{[]string{"image", "pull", "-q", "127.0.0.1:1/none:v1"}, 1},
		{[]string{"load", "-i", "/nonexistent"}, 1},
		{[]string{"save", "-o", filepath.Join(dir, "x.tar"), "none"}, 1},
		{[]string{"import", "/nonexistent", "none:v1"}, 1},
		{[]string{"run", "--rm", "127.0.0.1:1/none:v1", "true"}, 125},
	} {
		cmd := exec.Command(alone, append([]string{"--root", root}, tc.args...)...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(dir, "minimal-docker-image") + ": file does not exist (install minimal-docker-image beside the runtime"
		if code != tc.code || !strings.Contains(string(out), want) {
			t.Errorf("minimal-docker %s without minimal-docker-image: exit %d, want %d and an error saying %q\n%s",
				strings.Join(tc.args, " "), code, tc.code, want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.tar")); err == nil {
		t.Error("save left an archive")
	}
}
