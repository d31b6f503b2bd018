package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseMemory(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"256m", 256 << 20, ""},
		{"256M", 256 << 20, ""},
		{"1g", 1 << 30, ""},
		{"8192k", 8 << 20, ""},
		{"10mb", 10 << 20, ""},
		{"67108864", 64 << 20, ""},
		{"67108864b", 64 << 20, ""},
		{"0", 0, ""},
		{"-1", 0, ""},
		{"10XB", 0, "--memory"},
		{"abc", 0, "--memory"},
		{"", 0, "--memory"},
		{"-5m", 0, "--memory"},
		{"1k", 0, "minimum is 6m"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseMemory(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseMemory(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseMemory(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParsePidsAndCPUs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"64", 64, true}, {"-1", 0, true}, {"0", 0, true}, {"abc", 0, false}, {"-2", 0, false}, {"1.5", 0, false}} {
		got, err := ParsePids(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParsePids(%q) = %v, %v", tc.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "--pids-limit") {
			t.Errorf("ParsePids(%q) error %q does not name the flag", tc.in, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{{"0.5", 0.5, true}, {"2", 2, true}, {"0", 0, true}, {"-1", 0, false}, {"x", 0, false}, {"NaN", 0, false}} {
		got, err := ParseCPUs(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseCPUs(%q) = %v, %v", tc.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "--cpus") {
			t.Errorf("ParseCPUs(%q) error %q does not name the flag", tc.in, err)
		}
	}
}

func TestDefault(t *testing.T) {
	s, err := Default("rootfs", []string{"sh", "-c", "true"})
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(s.Root.Path) {
		t.Errorf("root path %q is not absolute", s.Root.Path)
	}
	if s.Hostname != "minimal-docker" {
		t.Errorf("hostname = %q", s.Hostname)
	}
	if got := Getenv(s.Process.Env, "PATH"); got != "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" {
		t.Errorf("PATH = %q", got)
	}
	if got := Getenv(s.Process.Env, "HOME"); got != "/root" {
		t.Errorf("HOME = %q", got)
	}
	r := s.Linux.Resources
	if *r.Memory.Limit != 256<<20 || *r.Memory.Swap != 256<<20 {
		t.Errorf("memory = %d swap %d", *r.Memory.Limit, *r.Memory.Swap)
	}
	if *r.Pids.Limit != 64 {
		t.Errorf("pids = %d", *r.Pids.Limit)
	}
	if *r.CPU.Quota != 50000 || *r.CPU.Period != 100000 {
		t.Errorf("cpu = %d/%d", *r.CPU.Quota, *r.CPU.Period)
	}
	want := map[specs.LinuxNamespaceType]bool{"pid": true, "uts": true, "mount": true, "ipc": true, "network": true, "cgroup": true}
	for _, n := range s.Linux.Namespaces {
		delete(want, n.Type)
	}
	if len(want) != 0 {
		t.Errorf("missing namespaces %v", want)
	}
	if _, err := Default("rootfs", nil); err == nil {
		t.Error("Default with no command: want error")
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []Option
		check func(*specs.Spec) bool
		err   string
	}{
		{"hostname", []Option{WithHostname("box")}, func(s *specs.Spec) bool { return s.Hostname == "box" }, ""},
		{"bad hostname", []Option{WithHostname("a b")}, nil, "--hostname"},
		{"env adds and replaces", []Option{WithEnv("A=1", "PATH=/x", "A=2")}, func(s *specs.Spec) bool {
			return Getenv(s.Process.Env, "A") == "2" && Getenv(s.Process.Env, "PATH") == "/x" && len(s.Process.Env) == 3
		}, ""},
		{"env without =", []Option{WithEnv("FOO")}, nil, "--env"},
		{"workdir", []Option{WithWorkdir("/tmp/")}, func(s *specs.Spec) bool { return s.Process.Cwd == "/tmp" }, ""},
		{"relative workdir", []Option{WithWorkdir("tmp")}, nil, "--workdir"},
		{"unlimited memory", []Option{WithMemory(0)}, func(s *specs.Spec) bool { return s.Linux.Resources.Memory == nil }, ""},
		{"memory", []Option{WithMemory(32 << 20)}, func(s *specs.Spec) bool {
			m := s.Linux.Resources.Memory
			return *m.Limit == 32<<20 && *m.Swap == 32<<20
		}, ""},
		{"unlimited pids", []Option{WithPids(0)}, func(s *specs.Spec) bool { return s.Linux.Resources.Pids == nil }, ""},
		{"cpus", []Option{WithCPUs(1.5)}, func(s *specs.Spec) bool { return *s.Linux.Resources.CPU.Quota == 150000 }, ""},
		{"unlimited cpus", []Option{WithCPUs(0)}, func(s *specs.Spec) bool { return s.Linux.Resources.CPU == nil }, ""},
		{"negative cpus", []Option{WithCPUs(-1)}, nil, "--cpus"},
		{"host network", []Option{WithHostNetwork()}, func(s *specs.Spec) bool {
			for _, n := range s.Linux.Namespaces {
				if n.Type == specs.NetworkNamespace {
					return false
				}
			}
			return len(s.Linux.Namespaces) == 5
		}, ""},
		{"init", []Option{WithInit()}, WantsInit, ""},
		{"cgroups path", []Option{WithCgroupsPath("/a/b")}, func(s *specs.Spec) bool { return s.Linux.CgroupsPath == "/a/b" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Default("/r", []string{"true"}, tc.opts...)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(s) {
				t.Errorf("spec not as expected: %+v", s.Process)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		root string
		err  string
	}{
		{dir, ""},
		{filepath.Join(dir, "missing"), "no such file"},
		{file, "not a directory"},
	} {
		s, err := Default(tc.root, []string{"true"})
		if err != nil {
			t.Fatal(err)
		}
		err = validate(s)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("validate(root %s) = %v, want %q", tc.root, err, tc.err)
		}
	}
}
