package integration

// Many containers on one bridge, and UDP through it and through a
// published port. Each test runs in a network namespace of its own
// (network_cni_test.go's newTestNetns) and names its network in every
// run (--network NAME), whatever the default network is.

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

// TestNetworkFiftyContainers: 50 detached containers on one network each
// get an address of their own in its subnet, one veth and one lease
// each; the first reaches the last and the last the first; rm -f of all
// of them leaves no veth, lease, cached result, pinned namespace or CNI
// rule, and network rm leaves nothing at all.
func TestNetworkFiftyContainers(t *testing.T) {
	if os.Getenv("MD_EMULATED") != "" {
		t.Skip("MD_EMULATED: 50 containers take minutes on an emulated CPU (the cgroup v2 lane's guest); the host's lane runs this test")
	}
	const n = 50
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.87.0.0/24", "many")
	var ids []string
	for range n {
		ids = append(ids, detachedIn(t, ns, root, "--network", "many", env.rootfs, "sleep", "1000"))
	}

	r := mdn(t, ns, root, append([]string{"inspect"}, ids...)...)
	r.wantExit(t, 0)
	var cs []store.Container
	if err := json.Unmarshal([]byte(r.stdout), &cs); err != nil || len(cs) != n {
		t.Fatalf("inspect of the %d containers: %v, %d objects", n, err, len(cs))
	}
	subnet := netip.MustParsePrefix("10.87.0.0/24")
	seen := map[string]string{}
	var addrs []string
	for _, c := range cs {
		if c.NetworkSettings == nil {
			t.Fatalf("inspect %s: no NetworkSettings", c.ID)
		}
		a, err := netip.ParseAddr(c.NetworkSettings.IPAddress)
		if err != nil || !subnet.Contains(a) || a == netip.MustParseAddr("10.87.0.1") {
			t.Errorf("container %s: address %q, want one of %s other than the gateway", c.ID[:12], c.NetworkSettings.IPAddress, subnet)
		}
		if other, dup := seen[a.String()]; dup {
			t.Errorf("containers %s and %s both have address %s", other[:12], c.ID[:12], a)
		}
		seen[a.String()] = c.ID
		addrs = append(addrs, a.String())
	}
	if v, l := veths(t, ns), leases(t, root, "many"); len(v) != n || len(l) != n {
		t.Errorf("with %d containers on the network: %d veths, %d leases", n, len(v), len(l))
	}
	for _, pair := range [][2]int{{0, n - 1}, {n - 1, 0}} {
		r := mdn(t, ns, root, "exec", ids[pair[0]], "ping", "-c", "1", "-W", "10", addrs[pair[1]])
		r.wantExit(t, 0)
		if !strings.Contains(r.stdout, "1 packets received") {
			t.Errorf("ping from %s to %s: %s", addrs[pair[0]], addrs[pair[1]], r)
		}
	}

	mdn(t, ns, root, append([]string{"rm", "-f"}, ids...)...).wantExit(t, 0)
	if v, l := veths(t, ns), leases(t, root, "many"); len(v)+len(l) != 0 {
		t.Errorf("after rm -f of all: veths %v, leases %v", v, l)
	}
	if rules := cniRules(t, ns); len(rules) != 0 {
		t.Errorf("CNI rules after rm -f of all:\n%s", strings.Join(rules, "\n"))
	}
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "many").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+netID[:12])
}

// TestNetworkUDP: UDP between two containers on one network, and from
// the test's namespace to a port published with -p HOST:CONTAINER/udp,
// on 127.0.0.1 and on the namespace's other address (the probe's
// udp-echo and udp-ask: busybox's nc has no -u). rm -f takes the
// published port away; what stays is only portmap's chains shared by
// every CNI user.
func TestNetworkUDP(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	inNetns(t, ns, "ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1")
	defer inNetns(t, ns, "ip", "link", "del", "uplink0")
	inNetns(t, ns, "ip", "addr", "add", "192.0.2.1/24", "dev", "uplink0")
	inNetns(t, ns, "ip", "link", "set", "uplink1", "up")
	inNetns(t, ns, "ip", "link", "set", "uplink0", "up")
	createNetwork(t, ns, root, "--subnet", "10.88.0.0/24", "udp")

	srv := detachedIn(t, ns, root, "--name", "echo", "--network", "udp", "-p", "17000:7000/udp", env.rootfs, "probe", "udp-echo", "7000")
	addr := inspectIn(t, ns, root, srv).NetworkSettings.IPAddress
	if !strings.HasPrefix(addr, "10.88.0.") {
		t.Fatalf("the echo container's address %q, want one of 10.88.0.0/24", addr)
	}
	// ask sends msg to target from a container on network (its answer,
	// or "" once the tries are over).
	ask := func(network, target, msg string) result {
		return mdn(t, ns, root, "run", "--rm", "--network", network, env.rootfs, "probe", "udp-ask", target, msg)
	}
	for _, tt := range []struct{ network, target string }{
		{"udp", addr + ":7000"},     // container to container, on the bridge
		{"host", "127.0.0.1:17000"}, // the published port, on loopback
		{"host", "192.0.2.1:17000"}, // and on the namespace's other address
	} {
		var r result
		waitFor(t, "an answer from "+tt.target, func() bool {
			r = ask(tt.network, tt.target, "hello "+tt.target)
			return r.code == 0
		})
		if got, want := strings.TrimSpace(r.stdout), "echo hello "+tt.target; got != want {
			t.Errorf("udp-ask %s from --network %s: %q, want %q", tt.target, tt.network, got, want)
		}
	}
	if rules := strings.Join(cniRules(t, ns), "\n"); !strings.Contains(rules, "-p udp -m udp --dport 17000") {
		t.Errorf("no CNI rule for udp port 17000:\n%s", rules)
	}

	mdn(t, ns, root, "rm", "-f", "echo").wantExit(t, 0)
	if r := ask("host", "127.0.0.1:17000", "anyone?"); r.code == 0 {
		t.Errorf("udp port 17000 still answers after rm -f: %s", r)
	}
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "udp").wantExit(t, 0)
	for _, rule := range cniRules(t, ns) {
		if !strings.Contains(rule, "CNI-HOSTPORT-") {
			t.Errorf("a CNI rule left that is not one of portmap's shared chains: %s", rule)
		}
	}
	if l := links(t, ns); !slices.Equal(l, []string{"lo", "uplink1", "uplink0"}) && !slices.Equal(l, []string{"lo", "uplink0", "uplink1"}) {
		t.Errorf("interfaces left in the test's namespace: %v, want lo and the uplink pair", l)
	}
	if _, err := os.Stat(filepath.Join(root, "networks", "ipam", "udp")); err == nil {
		t.Errorf("network rm left its leases directory")
	}
}
