package cgroups

import (
	"strings"
	"testing"
)

func TestDelegatedRoot(t *testing.T) {
	v2 := &Hierarchies{Mode: V2, Unified: "/sys/fs/cgroup", Roots: map[string]string{"": "/"}}
	user := "/sys/fs/cgroup/user.slice/user-1001.slice/user@1001.service"
	// The user's own: user@1001.service and everything beneath it.
	mine := func(dir string) bool { return dir == user || strings.HasPrefix(dir, user+"/") }
	for _, tc := range []struct {
		name   string
		h      *Hierarchies
		self   map[string]string
		may    func(string) bool
		want   string
		wantOK bool
	}{
		{"a leaf beneath user@", v2, map[string]string{"": "/user.slice/user-1001.slice/user@1001.service/app.slice/a.scope"}, mine, user, true},
		{"user@ itself", v2, map[string]string{"": "/user.slice/user-1001.slice/user@1001.service"}, mine, user, true},
		{"a login session's scope (root's)", v2, map[string]string{"": "/user.slice/user-1001.slice/session-3.scope"}, mine, "", false},
		{"the root cgroup", v2, map[string]string{"": "/"}, func(string) bool { return true }, "", false},
		{"all writable: up to below the root", v2, map[string]string{"": "/a/b"}, func(string) bool { return true }, "/sys/fs/cgroup/a", true},
		{"a mount of a subtree", &Hierarchies{Mode: V2, Unified: "/sys/fs/cgroup", Roots: map[string]string{"": "/ctr"}},
			map[string]string{"": "/ctr/x/y"}, func(string) bool { return true }, "/sys/fs/cgroup/x", true},
		{"no v2 line", v2, map[string]string{"memory": "/a"}, func(string) bool { return true }, "", false},
		{"hybrid", &Hierarchies{Mode: Hybrid, Unified: "/sys/fs/cgroup/unified"}, map[string]string{"": "/a"}, func(string) bool { return true }, "", false},
		{"nil", nil, nil, func(string) bool { return true }, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := delegatedRoot(tc.h, tc.self, tc.may)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("delegatedRoot = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestNewDelegated(t *testing.T) {
	h := &Hierarchies{Mode: V2, Unified: "/sys/fs/cgroup", Roots: map[string]string{"": "/"}}
	d := "/sys/fs/cgroup/user.slice/user-1001.slice/user@1001.service"
	for _, tc := range []struct {
		path, want, err string
	}{
		{"abc", d + "/abc", ""},
		{"mine/abc", d + "/mine/abc", ""},
		{"/elsewhere/abc", "/sys/fs/cgroup/elsewhere/abc", ""},
		{"../abc", "", `".." is not allowed`},
		{".", "", "names no cgroup"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			m, err := NewDelegated(h, d, tc.path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("NewDelegated: %v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Path("memory"); got != tc.want {
				t.Errorf("Path = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := NewDelegated(&Hierarchies{Mode: Hybrid}, d, "abc"); err == nil {
		t.Error("NewDelegated on a hybrid host: no error")
	}
}
