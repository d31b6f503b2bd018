package cgroups

import (
	"strings"
	"testing"
)

func hybridHierarchies() *Hierarchies {
	return &Hierarchies{
		Mode:    Hybrid,
		Unified: "/sys/fs/cgroup/unified",
		V1: map[string]string{
			"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids",
			"cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
		},
	}
}

var hybridSelf = map[string]string{
	"memory": "/process_api/c6a1", "pids": "/", "cpu": "/", "cpuacct": "/", "": "/",
}

func TestNewWithV1Paths(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		want     map[string]string // controller -> directory
		wantErr  string
		withSelf map[string]string
	}{
		{
			name: "relative",
			path: "abc123",
			want: map[string]string{
				"memory": "/sys/fs/cgroup/memory/process_api/c6a1/abc123",
				"pids":   "/sys/fs/cgroup/pids/abc123",
				"cpu":    "/sys/fs/cgroup/cpu,cpuacct/abc123",
			},
		},
		{
			name: "relative nested",
			path: "mytests/abc123",
			want: map[string]string{
				"memory": "/sys/fs/cgroup/memory/process_api/c6a1/mytests/abc123",
				"pids":   "/sys/fs/cgroup/pids/mytests/abc123",
			},
		},
		{
			name: "absolute",
			path: "/foo/abc",
			want: map[string]string{
				"memory": "/sys/fs/cgroup/memory/foo/abc",
				"pids":   "/sys/fs/cgroup/pids/foo/abc",
				"cpu":    "/sys/fs/cgroup/cpu,cpuacct/foo/abc",
			},
		},
		{
			name: "systemd style",
			path: "test.slice:cri-containerd:0123abcd",
			want: map[string]string{
				"memory": "/sys/fs/cgroup/memory/process_api/c6a1/test.slice:cri-containerd:0123abcd",
				"pids":   "/sys/fs/cgroup/pids/test.slice:cri-containerd:0123abcd",
			},
		},
		{
			name: "cleaned",
			path: "/foo//./abc/",
			want: map[string]string{"pids": "/sys/fs/cgroup/pids/foo/abc"},
		},
		{name: "dot-dot relative", path: "../escape", wantErr: `"../escape": ".." is not allowed`},
		{name: "dot-dot absolute", path: "/foo/../../etc", wantErr: `"/foo/../../etc": ".." is not allowed`},
		{name: "dot-dot harmless looking", path: "a/b/../c", wantErr: `".." is not allowed`},
		{name: "empty", path: "", wantErr: `cgroupsPath "": empty`},
		{name: "root", path: "/", wantErr: "names no cgroup of its own"},
		{name: "own cgroup", path: ".", wantErr: "names no cgroup of its own"},
		{name: "own cgroup unknown", path: "abc", withSelf: map[string]string{"pids": "/"}, wantErr: "own cgroup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			self := hybridSelf
			if tt.withSelf != nil {
				self = tt.withSelf
			}
			m, err := NewWith(hybridHierarchies(), self, tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewWith(%q) = %v, want an error containing %q", tt.path, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Mode() != Hybrid {
				t.Errorf("Mode = %v, want hybrid", m.Mode())
			}
			for c, want := range tt.want {
				if got := m.Path(c); got != want {
					t.Errorf("Path(%q) = %q, want %q", c, got, want)
				}
			}
		})
	}
}

func TestNewWithV2Paths(t *testing.T) {
	h := &Hierarchies{Mode: V2, Unified: "/sys/fs/cgroup", V1: map[string]string{}}
	self := map[string]string{"": "/user.slice/session-2.scope"}
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr string
	}{
		{"relative", "abc", "/sys/fs/cgroup/user.slice/session-2.scope/abc", ""},
		{"absolute", "/machine.slice/abc", "/sys/fs/cgroup/machine.slice/abc", ""},
		{"systemd style", "kubepods.slice:cri-containerd:abc", "/sys/fs/cgroup/user.slice/session-2.scope/kubepods.slice:cri-containerd:abc", ""},
		{"dot-dot", "/../../etc", "", `".." is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewWith(h, self, tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewWith(%q) = %v, want %q", tt.path, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Mode() != V2 {
				t.Errorf("Mode = %v, want v2", m.Mode())
			}
			for _, c := range []string{"memory", "pids", "cpu", ""} {
				if got := m.Path(c); got != tt.want {
					t.Errorf("Path(%q) = %q, want %q", c, got, tt.want)
				}
			}
		})
	}
}

// TestNewWithMountRoot places a relative path inside a container whose
// cgroup mounts show its own cgroup at the mount point.
func TestNewWithMountRoot(t *testing.T) {
	h := &Hierarchies{
		Mode:  V1,
		V1:    map[string]string{"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids"},
		Roots: map[string]string{"memory": "/docker/abc", "pids": "/docker/abc"},
	}
	m, err := NewWith(h, map[string]string{"memory": "/docker/abc/sub", "pids": "/docker/abc"}, "ctr")
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[string]string{"memory": "/sys/fs/cgroup/memory/sub/ctr", "pids": "/sys/fs/cgroup/pids/ctr"} {
		if got := m.Path(c); got != want {
			t.Errorf("Path(%q) = %q, want %q", c, got, want)
		}
	}
	if _, err := NewWith(h, map[string]string{"memory": "/elsewhere", "pids": "/docker/abc"}, "ctr"); err == nil {
		t.Error("NewWith placed a cgroup beneath one not visible under the mount")
	}
}

func TestNewWithNoHierarchies(t *testing.T) {
	if _, err := NewWith(nil, nil, "abc"); err == nil {
		t.Error("NewWith(nil) succeeded")
	}
	if _, err := NewWith(&Hierarchies{}, nil, "abc"); err == nil {
		t.Error("NewWith with no mode succeeded")
	}
}
