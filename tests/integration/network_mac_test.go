package integration

import (
	"strings"
	"testing"
)

// TestNetworkMAC: --mac-address gives the container's interface the
// address asked for, on the default bridge and on a network of network
// create: the kernel shows it, inspect shows it (Config.MacAddress and
// the endpoint's, as Docker's), another container's ARP finds the
// container there, and a restart keeps it. A value that is no unicast
// 48-bit address, and a network mode without an interface of the
// container's own, are refused before anything is made. Afterwards the
// tuning plugin's backups are gone with the rest.
func TestNetworkMAC(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	dropDefaultBridge(t, ns, root, false) // checks, last, that nothing is left
	createNetwork(t, ns, root, "--subnet", "10.88.0.0/24", "macnet")
	const mac = "92:d0:c6:0a:29:33"

	r := mdn(t, ns, root, "run", "--rm", "--network", "bridge", "--mac-address", "92:D0:C6:0A:29:34", env.rootfs, "cat", "/sys/class/net/eth0/address")
	r.wantExit(t, 0)
	if got := strings.TrimSpace(r.stdout); got != "92:d0:c6:0a:29:34" {
		t.Errorf("foreground run on the default bridge with --mac-address 92:D0:C6:0A:29:34: eth0's address is %q", got)
	}

	detachedIn(t, ns, root, "--name", "macd", "--network", "macnet", "--ip", "10.88.0.40", "--mac-address", mac, env.rootfs, "sleep", "1000")
	wantMAC := func(when string) {
		t.Helper()
		r := mdn(t, ns, root, "exec", "macd", "cat", "/sys/class/net/eth0/address")
		if r.wantExit(t, 0); strings.TrimSpace(r.stdout) != mac {
			t.Errorf("%s: eth0's address is %q, want %s", when, strings.TrimSpace(r.stdout), mac)
		}
		c := inspectIn(t, ns, root, "macd")
		if c.Config.MacAddress != mac {
			t.Errorf("%s: Config.MacAddress %q, want %s", when, c.Config.MacAddress, mac)
		}
		if c.NetworkSettings == nil || c.NetworkSettings.MacAddress != mac || c.NetworkSettings.Networks["macnet"].MacAddress != mac {
			t.Errorf("%s: NetworkSettings %+v, want MacAddress %s, at the top and on macnet", when, c.NetworkSettings, mac)
		}
	}
	wantMAC("run -d --mac-address")
	// Another container resolves the address to the MAC asked for (the
	// kernel announced the change: the bridge plugin sets arp_notify).
	r = mdn(t, ns, root, "run", "--rm", "--network", "macnet", env.rootfs, "sh", "-c", "ping -c 1 -W 5 10.88.0.40 && ip neigh show 10.88.0.40")
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "lladdr "+mac) {
		t.Errorf("a neighbour's ARP entry for 10.88.0.40: %q, want lladdr %s", r.stdout, mac)
	}

	mdn(t, ns, root, "restart", "-t", "0", "macd").wantExit(t, 0)
	wantMAC("after restart")

	for _, tc := range []struct{ network, mac, want string }{
		{"macnet", "92:d0:c6:0a:29", `invalid --mac-address "92:d0:c6:0a:29": not a 48-bit MAC address`},
		{"macnet", "nope", `invalid --mac-address "nope"`},
		{"macnet", "01:00:5e:00:00:01", "a multicast address"},
		{"macnet", "00:00:00:00:00:00", "the zero address"},
		{"none", mac, "conflicting options: mac-address and the network mode"},
		{"host", mac, "conflicting options: mac-address and the network mode"},
		{"container:macd", mac, "conflicting options: mac-address and the network mode"},
	} {
		r := mdn(t, ns, root, "run", "-d", "--network", tc.network, "--mac-address", tc.mac, env.rootfs, "sleep", "1000")
		r.wantExit(t, 125)
		r.wantStderr(t, tc.want)
	}
	if r := mdn(t, ns, root, "ps", "-a", "-q"); len(r.lines()) != 1 {
		t.Errorf("ps -a after the refused runs: %q, want macd only", r.lines())
	}

	mdn(t, ns, root, "rm", "-f", "macd").wantExit(t, 0)
	wantNoAttachments(t, root)
}
