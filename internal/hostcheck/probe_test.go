package hostcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChildMountOverlayRefused: the probe's child, run by hand (no
// descriptor of its parent's mount namespace, or one of the namespace it
// runs in, or of another kind), refuses before it changes any mount: it
// would make the caller's mounts private.
func TestChildMountOverlayRefused(t *testing.T) {
	mnt, err := os.Open("/proc/self/ns/mnt")
	if err != nil {
		t.Skip(err)
	}
	defer mnt.Close()
	net, err := os.Open("/proc/self/ns/net")
	if err != nil {
		t.Skip(err)
	}
	defer net.Close()
	before, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, env, want string
	}{
		{"no descriptor", "", "names no descriptor"},
		{"not a namespace", "0", "is no namespace"},
		{"not a mount namespace", fmt.Sprint(net.Fd()), "is no mount namespace"},
		{"its own mount namespace", fmt.Sprint(mnt.Fd()), "refused in its parent's mount namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvParentMntNS, tc.env)
			err := ChildMountOverlay(t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ChildMountOverlay: %v; want an error with %q", err, tc.want)
			}
		})
	}
	after, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("the mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestProbeDir: an overlay probe's directory goes on the store's file
// system: in the store, or its nearest ancestor that takes one (a store
// not made yet).
func TestProbeDir(t *testing.T) {
	tmp := t.TempDir()
	for _, tc := range []struct{ base, in string }{
		{tmp, tmp},
		{filepath.Join(tmp, "data", "minimal-docker"), tmp},
	} {
		dir, err := probeDir(tc.base)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(dir) != tc.in {
			t.Errorf("probeDir(%s) = %s, want one in %s", tc.base, dir, tc.in)
		}
		os.Remove(dir)
	}
}
