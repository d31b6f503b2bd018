package docker

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/jsonlog"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// executeStreams runs the CLI with args and returns its exit status, its
// stdout and its stderr, apart.
func executeStreams(t *testing.T, root string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv(EnvRoot, root)
	dir := t.TempDir()
	files := make([]*os.File, 3)
	for i, name := range []string{"in", "out", "err"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files[i] = f
	}
	code := Execute(args, Streams{In: files[0], Out: files[1], Err: files[2]})
	out, _ := os.ReadFile(files[1].Name())
	errOut, _ := os.ReadFile(files[2].Name())
	return code, string(out), string(errOut)
}

// TestLogs: logs prints the container's json-file log, rotated file
// first, stdout and stderr apart, with --tail, -t, --since and --until as
// Docker's; -f on a stopped container prints and returns.
func TestLogs(t *testing.T) {
	root := t.TempDir()
	s, err := store.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create(&store.Container{Name: "web", Path: "httpd", Config: store.Config{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}
	id, err := s.Lookup("web")
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(s.Dir(id), id+"-json.log")
	base := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	write := func(path string, entries ...jsonlog.Entry) {
		var b []byte
		for _, e := range entries {
			line, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			b = append(append(b, line...), '\n')
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(logPath+".1", jsonlog.Entry{Log: "z\n", Stream: "stdout", Time: at(0)})
	write(logPath,
		jsonlog.Entry{Log: "a\n", Stream: "stdout", Time: at(1)},
		jsonlog.Entry{Log: "b\n", Stream: "stderr", Time: at(2)},
		jsonlog.Entry{Log: "c\n", Stream: "stdout", Time: at(3)})
	if _, err := s.Update(id, func(c *store.Container) error {
		c.LogPath = logPath
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name             string
		args             []string
		wantOut, wantErr string
	}{
		{"all", nil, "z\na\nc\n", "b\n"},
		{"--tail 2", []string{"--tail", "2"}, "c\n", "b\n"},
		{"--tail 0", []string{"--tail", "0"}, "", ""},
		{"-t", []string{"-t", "--tail", "1"}, "2026-12-06T10:03:00.000000000Z c\n", ""},
		{"--since", []string{"--since", at(2).Format(time.RFC3339)}, "c\n", "b\n"},
		{"--until", []string{"--until", at(2).Format(time.RFC3339)}, "z\na\n", ""},
		{"by id prefix, -f on a stopped container", []string{"-f", "--tail", "1"}, "c\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ref := "web"
			if strings.Contains(c.name, "prefix") {
				ref = id[:8]
			}
			code, out, errOut := executeStreams(t, root, append(append([]string{"--root", root, "logs"}, c.args...), ref)...)
			if code != 0 || out != c.wantOut || errOut != c.wantErr {
				t.Errorf("exit %d\nstdout %q, want %q\nstderr %q, want %q", code, out, c.wantOut, errOut, c.wantErr)
			}
		})
	}

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no such container", []string{"nosuch"}, "No such container: nosuch"},
		{"a bad --since", []string{"--since", "yesterday", "web"}, `invalid value for --since: "yesterday"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := executeStreams(t, root, append([]string{"--root", root, "logs"}, c.args...)...)
			if code != 1 || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 naming %q", code, errOut, c.want)
			}
		})
	}
}

// TestParseLogTime: the forms --since and --until take.
func TestParseLogTime(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"10m", now.Add(-10 * time.Minute)},
		{"1136073600", time.Unix(1136073600, 0)},
		{"1136073600.5", time.Unix(1136073600, 5e8)},
		{"2026-12-06T11:00:00Z", time.Date(2026, 12, 6, 11, 0, 0, 0, time.UTC)},
		{"2026-12-06T11:00:00+01:00", time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)},
		{"2026-12-06", time.Date(2026, 12, 6, 0, 0, 0, 0, time.Local)},
	} {
		got, err := parseLogTime("--since", c.in, now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%q: %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}
