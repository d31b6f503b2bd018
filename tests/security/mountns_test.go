package security

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// A config without a mount namespace (legal: the OCI validation suite's
// linux_ns_itype sends one) shares its caller's mount table. The runtime
// must then change no mount at all: no propagation change of /, no bind
// of the rootfs, no /proc, /dev or /sys, no pivot_root (which would move
// the caller's root). The cases below run the runtime inside a mount
// namespace of the test's own (unshare -m), made as a host's is (/
// recursively shared, in peer groups of its own), so that a regression
// changes only that throw-away table, and the test compares the table
// before and after, propagation fields included.

// noMountNS removes the mount namespace from a bundle's config.
func noMountNS(s *specs.Spec) {
	var ns []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		if n.Type != specs.MountNamespace {
			ns = append(ns, n)
		}
	}
	s.Linux.Namespaces = ns
	// The defaults that only a mount can honour (refused without one).
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	s.Root.Readonly = false
}

// noNamespaces removes every namespace (linux_ns_itype) and the hostname.
func noNamespaces(s *specs.Spec) {
	noMountNS(s)
	s.Linux.Namespaces = nil
	s.Hostname = ""
}

// inOwnMountNS runs script in a mount namespace of its own
// (testenv.RunInOwnMountNS) with RUNC naming the runtime.
func inOwnMountNS(t *testing.T, script string, envv ...string) (before, after, output string) {
	t.Helper()
	r, err := testenv.RunInOwnMountNS(script, 2*env.timeout, append(envv, "RUNC="+env.runc)...)
	if err != nil {
		t.Fatal(err)
	}
	return r.Before, r.After, r.Output
}

func TestNoMountNamespaceLeavesCallersMountsAlone(t *testing.T) {
	requireSuite(t)
	// The process proves it runs in the rootfs (chroot): /bin/escape exists
	// there and nowhere on the host.
	inRootfs := []string{"/bin/sh", "-c", "test -x /bin/escape && echo in-rootfs"}
	cases := []struct {
		name   string
		edit   func(*specs.Spec)
		script string
		want   []string // lines the script's output must hold
	}{
		{
			name:   "run without a mount namespace",
			edit:   noMountNS,
			script: `"$RUNC" --root "$R" run --bundle "$B" "$ID"; echo "exit $?"`,
			want:   []string{"in-rootfs", "exit 0"},
		},
		{
			name:   "run without any namespace (linux_ns_itype)",
			edit:   noNamespaces,
			script: `"$RUNC" --root "$R" run --bundle "$B" "$ID"; echo "exit $?"`,
			want:   []string{"in-rootfs", "exit 0", "mounts are not made"},
		},
		{
			name: "create, exec, start, delete without a mount namespace",
			edit: func(s *specs.Spec) { noMountNS(s); s.Process.Args = []string{"/bin/sleep", "60"} },
			script: `"$RUNC" --root "$R" create --bundle "$B" "$ID" </dev/null >/dev/null; echo "create $?"
"$RUNC" --root "$R" start "$ID"; echo "start $?"
"$RUNC" --root "$R" exec "$ID" /bin/sh -c 'test -x /bin/escape && echo exec-in-rootfs'; echo "exec $?"
"$RUNC" --root "$R" delete --force "$ID"; echo "delete $?"`,
			want: []string{"create 0", "start 0", "exec-in-rootfs", "exec 0", "delete 0"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newBundle(t, env.rootfs, inRootfs, nil, c.edit)
			host := takeHostState(t, nil)
			before, after, out := inOwnMountNS(t, c.script, "R="+b.root, "B="+b.dir, "ID="+b.id)
			t.Logf("output:\n%s", out)
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if before != after {
				t.Errorf("the caller's mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if diffs := hostChanges(t, host, nil); len(diffs) > 0 {
				t.Errorf("the host changed: %s", strings.Join(diffs, "; "))
			}
		})
	}
}

// TestNoMountNamespaceRefusesMounts: what only a mount can honour is
// refused before anything is made, naming the field.
func TestNoMountNamespaceRefusesMounts(t *testing.T) {
	requireSuite(t)
	cases := []struct {
		field string
		edit  func(*specs.Spec)
	}{
		{"linux.maskedPaths", func(s *specs.Spec) { s.Linux.MaskedPaths = []string{"/proc/kcore"} }},
		{"linux.readonlyPaths", func(s *specs.Spec) { s.Linux.ReadonlyPaths = []string{"/proc/sys"} }},
		{"linux.rootfsPropagation", func(s *specs.Spec) { s.Linux.RootfsPropagation = "shared" }},
		{"root.readonly", func(s *specs.Spec) { s.Root.Readonly = true }},
		{"process.terminal", func(s *specs.Spec) { s.Process.Terminal = true }},
		{"linux.devices", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/md-null", Type: "c", Major: 1, Minor: 3}}
		}},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			b := newBundle(t, env.rootfs, []string{"/bin/true"}, nil, func(s *specs.Spec) { noMountNS(s); c.edit(s) })
			before, after, out := inOwnMountNS(t, `"$RUNC" --root "$R" run --bundle "$B" "$ID" </dev/null; echo "exit $?"`,
				"R="+b.root, "B="+b.dir, "ID="+b.id)
			if strings.Contains(out, "exit 0") || !strings.Contains(out, c.field) || !strings.Contains(out, "mount namespace") {
				t.Errorf("want a refusal naming %s and the mount namespace, got:\n%s", c.field, out)
			}
			if before != after {
				t.Errorf("the caller's mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if entries, _ := os.ReadDir(b.root); len(entries) > 0 {
				t.Errorf("state left behind in %s: %v", b.root, entries)
			}
		})
	}
}
