package integration

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// TestNetworkIP: --ip gives a container the address it asks for on a
// network of network create: a foreground run, and a detached one whose
// inspect shows it (IPAMConfig, as Docker's), which another container
// reaches there, and which keeps it across a restart. A second container
// asking for the same address fails (exit 125, naming it) and leaves
// nothing; an address that can't be given (outside the subnet, the
// gateway, not an address or not IPv4, on the default bridge) is refused before anything
// is made. network connect --ip gives the next interface its address.
// --network's long form (name=,ip=,alias=,mac-address=) gives all three.
func TestNetworkIP(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.86.0.0/24", "fixed")
	otherID := createNetwork(t, ns, root, "--subnet", "10.87.0.0/24", "other")

	r := mdn(t, ns, root, "run", "--rm", "--network", "fixed", "--ip", "10.86.0.77", env.rootfs, "ip", "-4", "-o", "addr", "show", "eth0")
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "inet 10.86.0.77/24") {
		t.Errorf("foreground run with --ip 10.86.0.77: eth0 is %q", r.stdout)
	}

	id := detachedIn(t, ns, root, "--name", "pinned", "--network", "fixed", "--ip", "10.86.0.50", env.rootfs, "sleep", "1000")
	wantAddr := func(when string) {
		t.Helper()
		c := inspectIn(t, ns, root, "pinned")
		if c.NetworkSettings == nil || c.NetworkSettings.IPAddress != "10.86.0.50" {
			t.Errorf("%s: NetworkSettings %+v, want IPAddress 10.86.0.50", when, c.NetworkSettings)
			return
		}
		if e := c.NetworkSettings.Networks["fixed"]; e.IPAMConfig == nil || e.IPAMConfig.IPv4Address != "10.86.0.50" {
			t.Errorf("%s: Networks[fixed] %+v, want IPAMConfig.IPv4Address 10.86.0.50", when, e)
		}
	}
	wantAddr("run -d --ip")
	mdn(t, ns, root, "run", "--rm", "--network", "fixed", env.rootfs, "ping", "-c", "1", "-W", "5", "10.86.0.50").wantExit(t, 0)

	// Docker's long form of --network: the address, an alias another
	// container finds it by, and the MAC address, in one flag.
	detachedIn(t, ns, root, "--name", "longform", "--network", "name=fixed,ip=10.86.0.60,alias=lf,mac-address=02:42:0a:56:00:3c", env.rootfs, "sleep", "1000")
	if c := inspectIn(t, ns, root, "longform"); c.NetworkSettings == nil || c.NetworkSettings.IPAddress != "10.86.0.60" ||
		c.NetworkSettings.MacAddress != "02:42:0a:56:00:3c" || !slices.Contains(c.NetworkSettings.Networks["fixed"].Aliases, "lf") {
		t.Errorf("run -d --network name=fixed,ip=...,alias=lf,mac-address=...: NetworkSettings %+v", c.NetworkSettings)
	}
	r = mdn(t, ns, root, "run", "--rm", "--network", "fixed", env.rootfs, "ping", "-c", "1", "-W", "5", "lf")
	if r.wantExit(t, 0); !strings.Contains(r.stdout, "10.86.0.60") {
		t.Errorf("ping lf from fixed: want 10.86.0.60\n%s", r)
	}
	mdn(t, ns, root, "rm", "-f", "longform").wantExit(t, 0)
	r = mdn(t, ns, root, "run", "--rm", "--network", "name=fixed,ip=10.86.0.61", "--ip", "10.86.0.62", env.rootfs, "true")
	r.wantExit(t, 125)
	r.wantStderr(t, "conflicting options: cannot specify both --ip and per-network IPv4 address")

	for _, args := range [][]string{
		{"run", "--rm", "--network", "fixed", "--ip", "10.86.0.50", env.rootfs, "true"},
		{"run", "-d", "--name", "twin", "--network", "fixed", "--ip", "10.86.0.50", env.rootfs, "sleep", "1000"},
	} {
		r := mdn(t, ns, root, args...)
		r.wantExit(t, 125)
		r.wantStderr(t, "network fixed", "--ip 10.86.0.50: address already in use by container "+id[:12])
		if v, l := veths(t, ns), leases(t, root, "fixed"); len(v) != 1 || len(l) != 1 {
			t.Errorf("after a failed %s with a held address: veths %v, leases %v; want pinned's only", args[:2], v, l)
		}
	}
	if r := mdn(t, ns, root, "ps", "-a", "-q"); len(r.lines()) != 1 {
		t.Errorf("ps -a after the failed runs: %q, want pinned only", r.lines())
	}

	mdn(t, ns, root, "restart", "-t", "0", "pinned").wantExit(t, 0)
	wantAddr("after restart")

	for _, tc := range []struct{ network, ip, want string }{
		{"fixed", "10.86.1.5", "--ip 10.86.1.5: not in network fixed's subnet 10.86.0.0/24"},
		{"fixed", "10.86.0.1", "--ip 10.86.0.1: the gateway of network fixed"},
		{"fixed", "10.86.0.255", "the network or broadcast address"},
		{"fixed", "nope", `invalid --ip "nope": not an IPv4 address`},
		{"fixed", "fd00::5", "--ip fd00::5: not an IPv4 address"},
		{"bridge", "172.17.0.9", "user specified IP address is supported on user defined networks only"},
		{"none", "10.86.0.9", "user specified IP address is supported on user defined networks only"},
	} {
		r := mdn(t, ns, root, "run", "-d", "--network", tc.network, "--ip", tc.ip, env.rootfs, "sleep", "1000")
		r.wantExit(t, 125)
		r.wantStderr(t, tc.want)
	}
	if r := mdn(t, ns, root, "ps", "-a", "-q"); len(r.lines()) != 1 {
		t.Errorf("ps -a after the refused runs: %q, want pinned only", r.lines())
	}

	mdn(t, ns, root, "network", "connect", "--ip", "10.87.0.9", "other", "pinned").wantExit(t, 0)
	r = mdn(t, ns, root, "exec", "pinned", "ip", "-4", "-o", "addr", "show", "eth1")
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "inet 10.87.0.9/24") {
		t.Errorf("network connect --ip 10.87.0.9: eth1 is %q", r.stdout)
	}
	if e := inspectIn(t, ns, root, "pinned").NetworkSettings.Networks["other"]; e.IPAMConfig == nil || e.IPAMConfig.IPv4Address != "10.87.0.9" || e.IPAddress != "10.87.0.9" {
		t.Errorf("Networks[other] %+v, want IPAddress and IPAMConfig.IPv4Address 10.87.0.9", e)
	}
	r = mdn(t, ns, root, "network", "connect", "--ip", "10.86.0.60", "other", "pinned")
	r.wantExit(t, 1)
	r.wantStderr(t, "not in network other's subnet")

	mdn(t, ns, root, "rm", "-f", "pinned").wantExit(t, 0)
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "fixed", "other").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+netID[:12], "br-"+otherID[:12])
}

// TestNetworkIPRange: network create --ip-range gives the containers
// that ask for no address theirs from the range, also after one asked
// for an address outside it (--ip may ask anywhere in the subnet), and
// --aux-address keeps an address from every container; network inspect
// shows both (Docker's IPAM.Config). A range or an aux address that
// can't be is refused, and leaves no network.
func TestNetworkIPRange(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.92.0.0/24", "--ip-range", "10.92.0.128/25", "--aux-address", "router=10.92.0.128", "pool")
	if c := inspectNetworkIn(t, ns, root, "pool").IPAM.Config[0]; c.IPRange != "10.92.0.128/25" || c.AuxiliaryAddresses["router"] != "10.92.0.128" || c.Subnet != "10.92.0.0/24" {
		t.Errorf("network inspect pool: IPAM.Config %+v, want IPRange 10.92.0.128/25 and AuxiliaryAddresses router=10.92.0.128", c)
	}
	addr := func(args ...string) string {
		t.Helper()
		r := mdn(t, ns, root, append(append([]string{"run", "--rm", "--network", "pool"}, args...), env.rootfs, "ip", "-4", "-o", "addr", "show", "eth0")...)
		r.wantExit(t, 0)
		f := strings.Fields(r.stdout)
		for i, w := range f {
			if w == "inet" && i+1 < len(f) {
				return f[i+1]
			}
		}
		t.Errorf("no address in %q", r.stdout)
		return ""
	}
	if got := addr(); got != "10.92.0.129/24" {
		t.Errorf("a container without --ip: %s, want 10.92.0.129/24 (the range's first, past the aux address)", got)
	}
	detachedIn(t, ns, root, "--name", "fixed", "--network", "pool", "--ip", "10.92.0.10", env.rootfs, "sleep", "1000")
	if got := inspectIn(t, ns, root, "fixed").NetworkSettings.IPAddress; got != "10.92.0.10" {
		t.Errorf("--ip 10.92.0.10 outside the range: %s", got)
	}
	detachedIn(t, ns, root, "--name", "dyn", "--network", "pool", env.rootfs, "sleep", "1000")
	if got := inspectIn(t, ns, root, "dyn").NetworkSettings.IPAddress; !netip.MustParsePrefix("10.92.0.128/25").Contains(netip.MustParseAddr(got)) || got == "10.92.0.128" {
		t.Errorf("a container without --ip after one with --ip outside the range: %s, want one of the range but the aux address", got)
	}

	r := mdn(t, ns, root, "run", "--rm", "--network", "pool", "--ip", "10.92.0.128", env.rootfs, "true")
	r.wantExit(t, 125)
	r.wantStderr(t, "--ip 10.92.0.128: reserved on network pool (its --aux-address router)")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--ip-range", "10.93.0.0/25", "bad"}, "every ip-range or gateway must have a corresponding subnet"},
		{[]string{"--subnet", "10.93.0.0/24", "--ip-range", "10.94.0.0/25", "bad"}, "invalid --ip-range 10.94.0.0/25: not within subnet 10.93.0.0/24"},
		{[]string{"--subnet", "10.93.0.0/24", "--aux-address", "gw=10.94.0.1", "bad"}, "invalid --aux-address gw=10.94.0.1: no matching subnet"},
		{[]string{"--subnet", "10.93.0.0/24", "--aux-address", "gw", "bad"}, `invalid --aux-address "gw": want NAME=IP`},
	} {
		r := mdn(t, ns, root, append([]string{"network", "create"}, tt.args...)...)
		r.wantExit(t, 1)
		r.wantStderr(t, tt.want)
	}
	r = mdn(t, ns, root, "network", "ls", "--filter", "name=bad", "-q")
	if r.wantExit(t, 0); len(r.lines()) != 0 {
		t.Errorf("a refused network create left network bad: %q", r.lines())
	}

	mdn(t, ns, root, "rm", "-f", "fixed", "dyn").wantExit(t, 0)
	wantNoAttachments(t, root)
	if l := leases(t, root, "pool"); len(l) != 0 {
		t.Errorf("leases left on pool: %v", l)
	}
	mdn(t, ns, root, "network", "rm", "pool").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+netID[:12])
}
