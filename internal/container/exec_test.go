package container

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseUser(t *testing.T) {
	gid := func(g uint32) *uint32 { return &g }
	for _, tc := range []struct {
		in      string
		want    *ExecUser
		wantErr bool
	}{
		{"1000", &ExecUser{UID: 1000}, false},
		{"1000:1001", &ExecUser{UID: 1000, GID: gid(1001)}, false},
		{"0:0", &ExecUser{UID: 0, GID: gid(0)}, false},
		{"nobody", nil, true},
		{"1000:", nil, true},
		{":5", nil, true},
		{"-1", nil, true},
		{"4294967296", nil, true},
	} {
		got, err := ParseUser(tc.in)
		if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseUser(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestExecProcess: the process exec runs, from the container's config or a
// --process file, with the command line's changes on top.
func TestExecProcess(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	b, err := json.Marshal(&specs.Spec{Process: &specs.Process{
		Terminal: true,
		Args:     []string{"sleep", "1000"},
		Env:      []string{"PATH=/bin", "TERM=xterm"},
		Cwd:      "/",
		User:     specs.User{UID: 0, GID: 7, AdditionalGids: []uint32{8}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	config, err := configSpec(&State{ID: "c", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	five := uint32(5)

	for _, tc := range []struct {
		name    string
		es      ExecSpec
		want    *specs.Process
		wantErr string
	}{
		{name: "config defaults", es: ExecSpec{Args: []string{"ps"}},
			want: &specs.Process{Args: []string{"ps"}, Env: []string{"PATH=/bin", "TERM=xterm"}, Cwd: "/",
				User: specs.User{GID: 7, AdditionalGids: []uint32{8}}}},
		{name: "flags", es: ExecSpec{Args: []string{"id"}, Env: []string{"TERM=dumb", "A=1"}, Cwd: "/tmp", User: &ExecUser{UID: 1000}},
			want: &specs.Process{Args: []string{"id"}, Env: []string{"PATH=/bin", "TERM=dumb", "A=1"}, Cwd: "/tmp",
				User: specs.User{UID: 1000, GID: 7, AdditionalGids: []uint32{8}}}},
		{name: "user and group", es: ExecSpec{Args: []string{"id"}, User: &ExecUser{UID: 1, GID: &five}},
			want: &specs.Process{Args: []string{"id"}, Env: []string{"PATH=/bin", "TERM=xterm"}, Cwd: "/",
				User: specs.User{UID: 1, GID: 5, AdditionalGids: []uint32{8}}}},
		{name: "process file", es: ExecSpec{Process: &specs.Process{Args: []string{"true"}}, Env: []string{"B=2"}},
			want: &specs.Process{Args: []string{"true"}, Env: []string{"B=2"}, Cwd: "/"}},
		{name: "no command", es: ExecSpec{}, wantErr: "no command"},
		{name: "process without args", es: ExecSpec{Process: &specs.Process{}}, wantErr: "args is empty"},
		{name: "terminal", es: ExecSpec{Args: []string{"sh"}, Terminal: true},
			want: &specs.Process{Terminal: true, Args: []string{"sh"}, Env: []string{"PATH=/bin", "TERM=xterm"}, Cwd: "/",
				User: specs.User{GID: 7, AdditionalGids: []uint32{8}}}},
		{name: "process terminal", es: ExecSpec{Process: &specs.Process{Args: []string{"sh"}, Terminal: true}},
			want: &specs.Process{Terminal: true, Args: []string{"sh"}, Cwd: "/"}},
		{name: "process file and --tty", es: ExecSpec{Process: &specs.Process{Args: []string{"sh"}}, Terminal: true},
			want: &specs.Process{Terminal: true, Args: []string{"sh"}, Cwd: "/"}},
		{name: "bad env", es: ExecSpec{Args: []string{"sh"}, Env: []string{"NOEQUALS"}}, wantErr: "KEY=VALUE"},
		{name: "relative cwd", es: ExecSpec{Args: []string{"sh"}, Cwd: "tmp"}, wantErr: "absolute"},
		{name: "relative process cwd", es: ExecSpec{Process: &specs.Process{Args: []string{"sh"}, Cwd: "tmp"}}, wantErr: "absolute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := execProcess(config, tc.es)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("process = %+v\nwant      %+v", got, tc.want)
			}
		})
	}
	// The config stays as it was: a change made for one exec (its env,
	// args, user) does not reach the next.
	p, err := execProcess(config, ExecSpec{Args: []string{"sh"}})
	if err != nil || !reflect.DeepEqual(p.Env, []string{"PATH=/bin", "TERM=xterm"}) || p.User.UID != 0 {
		t.Errorf("process after other execs = %+v, %v", p, err)
	}
}

// TestExecProcessBundle: without a config copy, the bundle's config.json.
func TestExecProcessBundle(t *testing.T) {
	dir := t.TempDir()
	b, err := json.Marshal(&specs.Spec{
		Root:    &specs.Root{Path: "rootfs"},
		Linux:   &specs.Linux{},
		Process: &specs.Process{Args: []string{"x"}, Env: []string{"FROM=bundle"}, Cwd: "/srv"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	config, err := configSpec(&State{ID: "c", Bundle: dir})
	if err != nil {
		t.Fatal(err)
	}
	p, err := execProcess(config, ExecSpec{Args: []string{"env"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Env, []string{"FROM=bundle"}) || p.Cwd != "/srv" {
		t.Errorf("process = %+v, want the bundle's env and cwd", p)
	}
	if _, err := configSpec(&State{ID: "c", Bundle: filepath.Join(dir, "gone")}); err == nil {
		t.Error("a missing bundle gave no error")
	}
}
