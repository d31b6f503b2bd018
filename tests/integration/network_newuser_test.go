package integration

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNetworkNewUser is issue 16's "done when", as a new user would try
// it, in a network namespace of the test's own (its "host", with an
// uplink 192.0.2.1): network create, a web server (busybox httpd) on it
// publishing -p 8080:80, another container fetching it by name, the host
// fetching it through the published port on 127.0.0.1 and on its
// uplink's address — then rm -f and network rm, and the host's
// interfaces, IPv4 addresses and routes, and firewall are as they were
// (but portmap's shared, empty CNI-HOSTPORT-* chains, which README says
// stay).
func TestNetworkNewUser(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	uplink(t, ns, "")
	wantIptablesRestored(t, ns)
	hostState := func() []string {
		var out []string
		for _, args := range [][]string{
			{"ip", "-o", "link", "show"},
			{"ip", "-4", "-o", "addr", "show"}, // IPv4: IPv6's link-local ones settle (DAD) meanwhile
			{"ip", "-4", "route", "show", "table", "all"},
		} {
			out = append(out, strings.Split(strings.TrimSpace(inNetns(t, ns, args...)), "\n")...)
		}
		return out
	}
	before := hostState()

	netID := createNetwork(t, ns, root, "webnet")
	www := webRoot(t, "hello from web\n")
	detachedIn(t, ns, root, "--name", "web", "--network", "webnet", "-p", "8080:80", "-v", www+":/www:ro",
		env.rootfs, "httpd", "-f", "-p", "80", "-h", "/www")

	// Another container on the network, by the server's name (httpd may
	// need a moment to listen).
	var r result
	waitFor(t, "web to answer a container by name", func() bool {
		r = mdn(t, ns, root, "run", "--rm", "--network", "webnet", env.rootfs, "wget", "-q", "-O", "-", "http://web/index.html")
		return r.code == 0
	})
	if r.stdout != "hello from web\n" {
		t.Errorf("wget http://web/ from a container on webnet:\n%s", r)
	}

	// The host, through -p 8080:80.
	for _, addr := range []string{"127.0.0.1:8080", "192.0.2.1:8080"} {
		if body, err := getIn(ns, addr, env.timeout); err != nil || body != "hello from web\n" {
			t.Errorf("GET http://%s/index.html from the host: %q, %v; want hello from web", addr, body, err)
		}
	}

	mdn(t, ns, root, "rm", "-f", "web").wantExit(t, 0)
	mdn(t, ns, root, "network", "rm", "webnet").wantExit(t, 0)
	// The bridge goes with network rm; its link may linger a moment in
	// the kernel's lists.
	deadline := time.Now().Add(env.timeout)
	after := hostState()
	for !slices.Equal(after, before) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		after = hostState()
	}
	if !slices.Equal(after, before) {
		t.Errorf("the host's links, addresses and routes after rm -f and network rm:\n%s\nwant as before:\n%s",
			strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
	if links := strings.Join(links(t, ns), " "); strings.Contains(links, "br-"+netID[:12]) || strings.Contains(links, "veth") {
		t.Errorf("links after network rm: %s", links)
	}
	wantNoAttachments(t, root)
}
