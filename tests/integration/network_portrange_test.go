package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

// TestNetworkPublishHostRange: -p FIRST-LAST:PORT publishes the
// container's port on the first port of the range that no other
// container publishes and no program of the host holds, as Docker's:
// port, ps and inspect show the port chosen (PortBindings the range as
// given), the port answers, a restart chooses again in the range, and a
// container for which the range has no port left is refused (exit 125,
// naming the range) and leaves nothing.
func TestNetworkPublishHostRange(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.89.0.0/24", "rng")
	www := t.TempDir()
	const page = "ranged\n"
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	wget := func(url string) result {
		return mdn(t, ns, root, "run", "--rm", "--network", "host", env.rootfs, "wget", "-q", "-O", "-", url)
	}
	// A program of the host (the test's namespace) holds 18000.
	detachedIn(t, ns, root, "--name", "holder", "--network", "host", "-v", www+":/www:ro", env.rootfs, "httpd", "-f", "-p", "127.0.0.1:18000", "-h", "/www")
	waitFor(t, "the holder's httpd on 18000", func() bool { return wget("http://127.0.0.1:18000/index.html").code == 0 })

	detachedIn(t, ns, root, "--name", "ra", "--network", "rng", "-p", "18000-18002:80", "-v", www+":/www:ro", env.rootfs, "httpd", "-f", "-p", "80", "-h", "/www")
	detachedIn(t, ns, root, "--name", "rb", "--network", "rng", "-p", "18000-18002:80", env.rootfs, "sleep", "1000")
	wantPort := func(name, want string) {
		t.Helper()
		r := mdn(t, ns, root, "port", name)
		if r.wantExit(t, 0); !slices.Equal(r.lines(), []string{"80/tcp -> 0.0.0.0:" + want}) {
			t.Errorf("port %s: %q, want 80/tcp on %s", name, r.lines(), want)
		}
	}
	wantPort("ra", "18001")
	wantPort("rb", "18002")
	r := mdn(t, ns, root, "ps", "--filter", "name=^ra$", "--format", "{{.Ports}}")
	if r.wantExit(t, 0); strings.TrimSpace(r.stdout) != "0.0.0.0:18001->80/tcp" {
		t.Errorf("ps's PORTS of ra: %q, want 0.0.0.0:18001->80/tcp", r.stdout)
	}
	c := inspectIn(t, ns, root, "ra")
	if b := c.HostConfig.PortBindings["80/tcp"]; len(b) != 1 || b[0] != (store.PortBinding{HostPort: "18000-18002"}) {
		t.Errorf("inspect ra: HostConfig.PortBindings[80/tcp] %+v, want the range as given, 18000-18002", b)
	}
	if c.NetworkSettings == nil || !slices.Equal(c.NetworkSettings.Ports["80/tcp"], []store.PortBinding{{HostIp: "0.0.0.0", HostPort: "18001"}}) {
		t.Errorf("inspect ra: NetworkSettings %+v, want 80/tcp on 0.0.0.0:18001", c.NetworkSettings)
	}
	var got string
	waitFor(t, "ra's answer on 127.0.0.1:18001", func() bool {
		r := wget("http://127.0.0.1:18001/index.html")
		got = r.stdout
		return r.code == 0
	})
	if got != page {
		t.Errorf("wget 127.0.0.1:18001: %q, want %q", got, page)
	}

	for _, args := range [][]string{
		{"run", "--rm", "--network", "rng", "-p", "18000-18002:80", env.rootfs, "true"},
		{"run", "-d", "--network", "rng", "-p", "127.0.0.1:18001-18002:80", env.rootfs, "sleep", "1000"},
	} {
		r := mdn(t, ns, root, args...)
		r.wantExit(t, 125)
		r.wantStderr(t, "network rng", "no free host port in 180")
		if v, l := veths(t, ns), leases(t, root, "rng"); len(v) != 2 || len(l) != 2 {
			t.Errorf("after a refused %s: veths %v, leases %v; want ra's and rb's only", args[:2], v, l)
		}
	}
	r = mdn(t, ns, root, "run", "--network", "rng", "-p", "18000-18002:80-81", env.rootfs, "true")
	r.wantExit(t, 125)
	r.wantStderr(t, `invalid -p "18000-18002:80-81"`, "same length")
	if r := mdn(t, ns, root, "ps", "-a", "-q"); len(r.lines()) != 3 {
		t.Errorf("ps -a after the refused runs: %q, want holder, ra and rb", r.lines())
	}

	mdn(t, ns, root, "restart", "-t", "0", "ra").wantExit(t, 0)
	wantPort("ra", "18001") // 18000 still held, 18002 rb's

	mdn(t, ns, root, "rm", "-f", "ra", "rb", "holder").wantExit(t, 0)
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "rng").wantExit(t, 0)
	removePortmapShared(t, ns)
	wantNetnsClean(t, ns, "br-"+netID[:12])
}
