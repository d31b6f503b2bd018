package cgfs

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte("max"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(dir, "pids.max", "10"); err != nil {
		t.Fatal(err)
	}
	if got, _ := ReadFile(dir, "pids.max"); got != "10" {
		t.Errorf("pids.max = %q, want 10", got)
	}
	err := WriteFile(dir, "memory.max", "1")
	want := "write " + filepath.Join(dir, "memory.max") + ": no such file or directory"
	if err == nil || err.Error() != want || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteFile to a missing file = %v, want %q", err, want)
	}
	if Exists(dir, "memory.max") {
		t.Error("WriteFile created a control file")
	}
}

func TestReadKeyValue(t *testing.T) {
	dir := t.TempDir()
	text := "oom_kill_disable 0\nunder_oom 0\noom_kill 12\nbad x\n"
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key     string
		want    uint64
		wantErr bool
	}{
		{"oom_kill", 12, false},
		{"under_oom", 0, false},
		{"oom", 0, true},
		{"bad", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := ReadKeyValue(dir, "f", tt.key)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ReadKeyValue(%q) = %d, %v; want %d, error %v", tt.key, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestReadPids(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte("12\n345\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPids(dir)
	if err != nil || !slices.Equal(got, []int{12, 345}) {
		t.Errorf("ReadPids = %v, %v; want [12 345]", got, err)
	}
}

func TestMissing(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir  string
		want []string
	}{
		{"a", nil},
		{"a/b", []string{"a/b"}},
		{"a/b/c/", []string{"a/b", "a/b/c"}},
		{"x/y", []string{"x", "x/y"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got, err := Missing(filepath.Join(root, tt.dir))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, filepath.Join(root, w))
			}
			if !slices.Equal(got, want) {
				t.Errorf("Missing = %v, want %v", got, want)
			}
		})
	}
}

func TestRemoveParent(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"removed", nil, false},
		{"gone", os.ErrNotExist, false},
		{"other cgroups inside", unix.EBUSY, false},
		{"not empty", unix.ENOTEMPTY, false},
		{"denied", unix.EACCES, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Ops{Rmdir: func(string) error { return tt.err }}
			if err := o.RemoveParent("/x"); (err != nil) != tt.wantErr {
				t.Errorf("RemoveParent = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestMakeDir(t *testing.T) {
	exist := Ops{Mkdir: func(string) error { return &os.PathError{Op: "mkdir", Path: "/x", Err: unix.EEXIST} }}
	if made, err := exist.MakeDir("/x", false); made || err != nil {
		t.Errorf("MakeDir of a parent made meanwhile = %v, %v; want false, nil", made, err)
	}
	if _, err := exist.MakeDir("/x", true); !errors.Is(err, unix.EEXIST) {
		t.Errorf("MakeDir of an existing leaf = %v, want EEXIST", err)
	}
}
