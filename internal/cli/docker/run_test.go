package docker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/pflag"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// TestRunFlags parses run's flags as a user types them and checks the spec
// they produce, or that a bad value is refused naming the flag.
func TestRunFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, f *runFlags, o []spec.Option)
		err   string
	}{
		{name: "defaults", args: nil, check: func(t *testing.T, f *runFlags, o []spec.Option) {
			s := build(t, o)
			if s.Hostname != "minimal-docker" || *s.Linux.Resources.Memory.Limit != 256<<20 ||
				*s.Linux.Resources.Pids.Limit != 64 || *s.Linux.Resources.CPU.Quota != 50000 {
				t.Errorf("defaults not applied: %+v", s.Linux.Resources)
			}
			if s.Linux.CgroupsPath != "" {
				t.Errorf("cgroupsPath = %q, want empty (beneath own cgroup)", s.Linux.CgroupsPath)
			}
		}},
		{name: "limits", args: []string{"-m", "32m", "--pids-limit", "10", "--cpus", "0.75"}, check: func(t *testing.T, f *runFlags, o []spec.Option) {
			r := build(t, o).Linux.Resources
			if *r.Memory.Limit != 32<<20 || *r.Pids.Limit != 10 || *r.CPU.Quota != 75000 {
				t.Errorf("limits = %d %d %d", *r.Memory.Limit, *r.Pids.Limit, *r.CPU.Quota)
			}
		}},
		{name: "unlimited", args: []string{"--memory", "-1", "--pids-limit", "-1", "--cpus", "0"}, check: func(t *testing.T, f *runFlags, o []spec.Option) {
			r := build(t, o).Linux.Resources
			if r.Memory != nil || r.Pids != nil || r.CPU != nil {
				t.Errorf("want no limits, got %+v", r)
			}
		}},
		{name: "env and workdir", args: []string{"-e", "A=1", "--env", "B=2", "-w", "/tmp"}, check: func(t *testing.T, f *runFlags, o []spec.Option) {
			s := build(t, o)
			if spec.Getenv(s.Process.Env, "A") != "1" || spec.Getenv(s.Process.Env, "B") != "2" || s.Process.Cwd != "/tmp" {
				t.Errorf("env %v cwd %q", s.Process.Env, s.Process.Cwd)
			}
		}},
		{name: "cgroup parent", args: []string{"--cgroup-parent", "/mytests"}, check: func(t *testing.T, f *runFlags, o []spec.Option) {
			if p := build(t, o).Linux.CgroupsPath; p != "/mytests/ID" {
				t.Errorf("cgroupsPath = %q", p)
			}
		}},
		{name: "host network", args: []string{"--network", "host", "--init"}, check: func(t *testing.T, f *runFlags, o []spec.Option) {
			s := build(t, o)
			if len(s.Linux.Namespaces) != 5 || !spec.WantsInit(s) {
				t.Errorf("namespaces %v annotations %v", s.Linux.Namespaces, s.Annotations)
			}
		}},
		{name: "host rootfs", args: []string{"--allow-host-rootfs"}, check: func(t *testing.T, f *runFlags, o []spec.Option) {
			if s := build(t, o); s.Annotations[spec.AnnotationHostRootfs] != "true" {
				t.Errorf("annotations %v, want %s=true", s.Annotations, spec.AnnotationHostRootfs)
			}
		}},
		{name: "no host rootfs by default", args: nil, check: func(t *testing.T, f *runFlags, o []spec.Option) {
			if s := build(t, o); s.Annotations[spec.AnnotationHostRootfs] != "" {
				t.Errorf("annotations %v, want no %s", s.Annotations, spec.AnnotationHostRootfs)
			}
		}},
		{name: "cpuset", args: []string{"--cpuset-cpus", "0-1,3", "--cpuset-mems", "0"}, check: func(t *testing.T, f *runFlags, o []spec.Option) {
			c := build(t, o).Linux.Resources.CPU
			if c.Cpus != "0-1,3" || c.Mems != "0" || *c.Quota != 50000 {
				t.Errorf("cpu = %+v, want the cpuset beside the default quota", c)
			}
		}},
		{name: "cpuset without a quota", args: []string{"--cpus", "0", "--cpuset-cpus", "1"}, check: func(t *testing.T, f *runFlags, o []spec.Option) {
			c := build(t, o).Linux.Resources.CPU
			if c == nil || c.Cpus != "1" || c.Quota != nil {
				t.Errorf("cpu = %+v, want the cpuset alone", c)
			}
		}},
		{name: "bad cpuset-cpus", args: []string{"--cpuset-cpus", "1-a"}, err: `invalid --cpuset-cpus "1-a"`},
		{name: "bad cpuset-mems", args: []string{"--cpuset-mems", ","}, err: `invalid --cpuset-mems ","`},
		{name: "bad memory", args: []string{"--memory", "10XB"}, err: "--memory"},
		{name: "uid out of range", args: []string{"-u", "99999999999"}, err: `invalid --user "99999999999": 99999999999 is out of range`},
		{name: "bad tmpfs option", args: []string{"--tmpfs", "/x:foo"}, err: `invalid --tmpfs "/x:foo": unknown tmpfs option "foo"`},
		{name: "bad cpus", args: []string{"--cpus", "-1"}, err: "--cpus"},
		{name: "bad pids", args: []string{"--pids-limit", "abc"}, err: "--pids-limit"},
		{name: "bad env", args: []string{"-e", "FOO"}, err: "--env"},
		{name: "bad network", args: []string{"--network", "a/b"}, err: `invalid --network "a/b"`},
		{name: "bad container network", args: []string{"--network", "container:"}, err: `invalid --network "container:"`},
		{name: "bad cgroup parent", args: []string{"--cgroup-parent", "../x"}, err: "--cgroup-parent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &runFlags{}
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			f.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := f.networkFields(); err != nil { // given's, which needs a command
				t.Fatal(err)
			}
			o, err := f.options("ID", nil)
			if err == nil && tc.err != "" {
				_, err = spec.Default("/r", []string{"true"}, o...)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, f, o)
		})
	}
}

func build(t *testing.T, o []spec.Option) *specs.Spec {
	t.Helper()
	s, err := spec.Default("/r", []string{"true"}, o...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNeverRan: the errors after which --cidfile is removed are the
// runtime's own failures (125, 126, 127), not the status of a container
// that ran, with an error (an OOM kill) or without.
func TestNeverRan(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{errors.New("x"), true},
		{fmt.Errorf("%w (in rootfs /r)", rootfs.ErrNotExecutable), true},
		{fmt.Errorf("wrapped: %w", rootfs.ErrNotFound), true},
		{cli.Exited(137, errors.New("container was killed: out of memory")), false},
		{cli.Exited(3, nil), false},
		{cli.Exited(0, nil), false},
	} {
		if got := neverRan(tc.err); got != tc.want {
			t.Errorf("neverRan(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestCidfile: the file gets the ID, and an existing file is refused.
func TestCidfile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cid")
	if err := writeCidfile(p, "abc"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "abc" {
		t.Errorf("cidfile holds %q", b)
	}
	if err := writeCidfile(p, "def"); err == nil || !strings.Contains(err.Error(), "--cidfile") {
		t.Errorf("second write: err = %v, want --cidfile error", err)
	}
}
