package integration

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestNetworkNone: a new network namespace with only lo, which is up.
func TestNetworkNone(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tt := range []struct {
		name  string
		flags []string
	}{
		{"default", nil},
		{"explicit", []string{"--network", "none"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.flags, "sh", "-c", "cat /sys/class/net/lo/flags; cat /proc/net/dev")
			r.wantExit(t, 0)
			first, rest, _ := strings.Cut(r.stdout, "\n")
			if got := interfaces(rest); len(got) != 1 || got[0] != "lo" {
				t.Errorf("interfaces %v, want only lo\n%s", got, r)
			}
			flags, err := strconv.ParseUint(strings.TrimPrefix(first, "0x"), 16, 32)
			if err != nil {
				t.Fatalf("lo flags %q: %v\n%s", first, err, r)
			}
			if flags&1 == 0 { // IFF_UP
				t.Errorf("lo is down (flags %s)\n%s", first, r)
			}
		})
	}
}

// TestNetworkHost: the host's interfaces.
func TestNetworkHost(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, []string{"--network", "host"}, "cat", "/proc/net/dev")
	r.wantExit(t, 0)
	b, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	got, want := interfaces(r.stdout), interfaces(string(b))
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("interfaces %v, want the host's %v", got, want)
	}
}

// TestNetworkPastaAsRoot: --network pasta is for rootless containers
// (started by root, pasta drops to nobody, which can't join the
// container's network namespace; Podman refuses it too): run and create
// refuse it as root with exit 125, naming the mode, and make nothing;
// slirp4netns stays allowed.
func TestNetworkPastaAsRoot(t *testing.T) {
	testenv.RequireRoot(t)
	root := t.TempDir()
	for _, args := range [][]string{
		{"run", "--rm", "--network", "pasta", env.rootfs, "true"},
		{"create", "--name", "pasta1", "--network", "pasta", env.rootfs, "true"},
	} {
		r := md(t, append([]string{"--root", root}, args...)...)
		r.wantExit(t, 125)
		if !strings.Contains(r.stderr, "--network pasta") || !strings.Contains(r.stderr, "rootless") {
			t.Errorf("%s: want an error naming --network pasta and rootless\n%s", args[0], r)
		}
	}
	if r := md(t, "--root", root, "ps", "-aq"); r.code != 0 || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("ps -aq after the refusals: want no container\n%s", r)
	}
}
