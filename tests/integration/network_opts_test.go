package integration

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/network"
)

// TestNetworkBridgeOptions: network create -o
// com.docker.network.bridge.name=NAME gives the network's bridge that
// name (the containers' veths on it, removed with the network), and -o
// com.docker.network.bridge.enable_ip_masquerade=false leaves out the
// masquerade of its subnet, which a network without it has; network
// inspect shows both (Docker's Options). A name that another network's
// bridge or an interface has, or that is no interface name, is refused
// and makes no network.
func TestNetworkBridgeOptions(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	createNetwork(t, ns, root, "--subnet", "10.95.0.0/24", "-o", "com.docker.network.bridge.name=mdnamed0",
		"-o", "com.docker.network.bridge.enable_ip_masquerade=false", "named")
	masqID := createNetwork(t, ns, root, "--subnet", "10.96.0.0/24", "masq")

	id := detachedIn(t, ns, root, "--network", "named", env.rootfs, "sleep", "1000")
	if got := inNetns(t, ns, "ip", "-o", "link", "show", "master", "mdnamed0"); !strings.Contains(got, "veth") {
		t.Errorf("the veths on bridge mdnamed0: %q, want the container's", got)
	}
	r := mdn(t, ns, root, "exec", id, "ip", "route", "show", "default")
	if r.wantExit(t, 0); !strings.Contains(r.stdout, "via 10.95.0.1") {
		t.Errorf("the container's default route: %q, want via 10.95.0.1", r.stdout)
	}
	nat := inNetns(t, ns, "iptables-save", "-t", "nat")
	if strings.Contains(nat, "-s 10.95.0.0/24") || !strings.Contains(nat, "-s 10.96.0.0/24 ! -o br-"+masqID[:12]+" -j MASQUERADE") {
		t.Errorf("nat rules: want masquerade of masq's 10.96.0.0/24 and none of named's 10.95.0.0/24:\n%s", nat)
	}
	r = mdn(t, ns, root, "network", "inspect", "named")
	r.wantExit(t, 0)
	var out []struct{ Options map[string]string }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 ||
		out[0].Options["com.docker.network.bridge.name"] != "mdnamed0" || out[0].Options["com.docker.network.bridge.enable_ip_masquerade"] != "false" {
		t.Errorf("network inspect named: want Options bridge.name mdnamed0, enable_ip_masquerade false: %v\n%s", err, r)
	}

	for _, tt := range []struct{ name, want string }{
		{"mdnamed0", "network named's bridge"},
		{"lo", "an interface of that name exists already"},
		{"sixteen-chars-xx", "not an interface name"},
		{"a/b", "not an interface name"},
	} {
		r := mdn(t, ns, root, "network", "create", "-o", "com.docker.network.bridge.name="+tt.name, "bad")
		r.wantExit(t, 1)
		r.wantStderr(t, `invalid com.docker.network.bridge.name "`+tt.name+`"`, tt.want)
		if r := mdn(t, ns, root, "network", "inspect", "bad"); r.code == 0 {
			t.Errorf("network create -o com.docker.network.bridge.name=%s made network bad", tt.name)
		}
	}

	mdn(t, ns, root, "rm", "-f", id).wantExit(t, 0)
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "named", "masq").wantExit(t, 0)
	wantNetnsClean(t, ns, "mdnamed0", "br-"+masqID[:12])
}

// TestNetworkNoICC: on a network of -o
// com.docker.network.bridge.enable_icc=false its containers can't reach
// each other, but still reach the gateway; on one without the option
// they can. It needs br_netfilter (skipped without; the v2 lane's guest
// loads it at boot).
func TestNetworkNoICC(t *testing.T) {
	if _, err := os.Stat(network.BridgeNFFile); err != nil {
		t.Skipf("no %s here (br_netfilter not loaded): enable_icc=false is refused without it", network.BridgeNFFile)
	}
	ns := newTestNetns(t)
	if b := inNetns(t, ns, "cat", network.BridgeNFFile); strings.TrimSpace(b) != "1" {
		t.Skipf("%s is %q in a new network namespace here: enable_icc=false is refused without 1", network.BridgeNFFile, b)
	}
	root := netRoot(t)
	apartID := createNetwork(t, ns, root, "--subnet", "10.97.0.0/24", "-o", "com.docker.network.bridge.enable_icc=false", "apart")
	togetherID := createNetwork(t, ns, root, "--subnet", "10.98.0.0/24", "together")
	detachedIn(t, ns, root, "--name", "lone", "--network", "apart", "--ip", "10.97.0.10", env.rootfs, "sleep", "1000")
	detachedIn(t, ns, root, "--name", "pal", "--network", "together", "--ip", "10.98.0.10", env.rootfs, "sleep", "1000")

	ping := func(network, addr string) int {
		return mdn(t, ns, root, "run", "--rm", "--network", network, env.rootfs, "ping", "-c", "1", "-W", "2", addr).code
	}
	if code := ping("apart", "10.97.0.10"); code == 0 {
		t.Errorf("a container on apart (enable_icc=false) reached another there")
	}
	if code := ping("apart", "10.97.0.1"); code != 0 {
		t.Errorf("a container on apart could not reach its gateway: exit %d", code)
	}
	if code := ping("together", "10.98.0.10"); code != 0 {
		t.Errorf("a container on together could not reach another there: exit %d", code)
	}
	r := mdn(t, ns, root, "network", "inspect", "apart")
	r.wantExit(t, 0)
	var out []struct{ Options map[string]string }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 || out[0].Options["com.docker.network.bridge.enable_icc"] != "false" {
		t.Errorf("network inspect apart: want Options enable_icc false: %v\n%s", err, r)
	}

	mdn(t, ns, root, "rm", "-f", "lone", "pal").wantExit(t, 0)
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "apart", "together").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+apartID[:12], "br-"+togetherID[:12])
}

// TestNetworkNoIPv6: our networks are IPv4 only, and a container's
// interfaces on them have IPv6 off, as Docker's on a network without
// --ipv6: no link-local address over which containers would reach each
// other past the IPv4 rules. loopback keeps ::1. eth0 and a second
// network's eth1 alike.
func TestNetworkNoIPv6(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	createNetwork(t, ns, root, "--subnet", "10.82.0.0/24", "v4a")
	createNetwork(t, ns, root, "--subnet", "10.83.0.0/24", "v4b")
	r := mdn(t, ns, root, "run", "--rm", "--network", "v4a", "--network", "v4b", env.rootfs, "sh", "-c",
		"cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6 /proc/sys/net/ipv6/conf/eth1/disable_ipv6; echo addrs:; ip -6 addr show dev eth0; ip -6 addr show dev eth1; echo lo:; ip -6 addr show dev lo")
	r.wantExit(t, 0)
	want := regexp.MustCompile(`(?s)^1\n1\naddrs:\nlo:\n.*inet6 ::1/128`)
	if !want.MatchString(r.stdout) {
		t.Errorf("IPv6 on a container's eth0 and eth1: want disable_ipv6 1 on both, no address there, ::1 on lo\n%s", r)
	}
	wantNoAttachments(t, root)
}
