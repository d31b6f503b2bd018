package integration

import (
	"encoding/json"
	"strings"
	"testing"

	kernel "github.com/minimal-docker/minimal-docker/internal/proc"
)

// TestNetworkMTU: network create -o com.docker.network.driver.mtu=N gives
// each container's eth0 and veth that MTU (and so the bridge, while a
// container is on it), and network inspect
// shows the option (Docker's); without it they have 1500. A bad value is
// refused (exit 1), naming the option, and makes no network.
func TestNetworkMTU(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.83.0.0/24", "-o", "com.docker.network.driver.mtu=9000", "jumbo")
	createNetwork(t, ns, root, "--subnet", "10.84.0.0/24", "plain")

	r := mdn(t, ns, root, "run", "--network", "jumbo", env.rootfs, "cat", "/sys/class/net/eth0/mtu")
	r.wantExit(t, 0)
	if got := strings.TrimSpace(r.stdout); got != "9000" {
		t.Errorf("eth0's MTU on network jumbo: %q, want 9000\n%s", got, r)
	}
	// The bridge takes its ports' MTU (the kernel's; 1500 with none).
	id := detachedIn(t, ns, root, "--network", "jumbo", env.rootfs, "sleep", "1000")
	if got := inNetns(t, ns, "ip", "-o", "link", "show", "br-"+netID[:12]); !strings.Contains(got, " mtu 9000 ") {
		t.Errorf("the bridge with a container on it: %q, want mtu 9000", got)
	}
	mdn(t, ns, root, "rm", "-f", id).wantExit(t, 0)
	r = mdn(t, ns, root, "run", "--network", "plain", env.rootfs, "cat", "/sys/class/net/eth0/mtu")
	r.wantExit(t, 0)
	if got := strings.TrimSpace(r.stdout); got != "1500" {
		t.Errorf("eth0's MTU on network plain: %q, want 1500\n%s", got, r)
	}

	r = mdn(t, ns, root, "network", "inspect", "jumbo")
	r.wantExit(t, 0)
	var out []struct{ Options map[string]string }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 || out[0].Options["com.docker.network.driver.mtu"] != "9000" {
		t.Errorf("network inspect jumbo: want Options com.docker.network.driver.mtu 9000: %v\n%s", err, r)
	}

	for _, bad := range []string{"com.docker.network.driver.mtu=big", "com.docker.network.driver.mtu=65536", "com.docker.network.bridge.host_binding_ipv4=127.0.0.1"} {
		r = mdn(t, ns, root, "network", "create", "-o", bad, "bad")
		r.wantExit(t, 1)
		if key, _, _ := strings.Cut(bad, "="); !strings.Contains(r.stderr, key) {
			t.Errorf("network create -o %s: want an error naming %s\n%s", bad, key, r)
		}
		if r := mdn(t, ns, root, "network", "inspect", "bad"); r.code == 0 {
			t.Errorf("network create -o %s made network bad", bad)
		}
	}
}

// TestNetworkBigTCP: on Linux 6.3 and later, a container's eth0, the
// host end of its veth and the network's bridge take IPv4 GSO and GRO
// sizes of 196608 (BIG TCP; network.bigTCPSize), at the default MTU,
// which stays 1500: TCP through the bridge crosses it in packets of
// that size, the frames on any wire keep the MTU.
func TestNetworkBigTCP(t *testing.T) {
	if !kernel.KernelAtLeast(6, 3) {
		t.Skip("BIG TCP for IPv4 is Linux 6.3's; this kernel is older, and its links are left as they are")
	}
	const want = "gso 196608 gro 196608"
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.85.0.0/24", "big")

	r := mdn(t, ns, root, "run", "--network", "big", env.rootfs, "sh", "-c", "probe gso eth0; cat /sys/class/net/eth0/mtu")
	r.wantExit(t, 0)
	if got := strings.TrimSpace(r.stdout); got != want+"\n1500" {
		t.Errorf("eth0 on network big: %q, want %q and MTU 1500\n%s", got, want, r)
	}
	id := detachedIn(t, ns, root, "--network", "big", env.rootfs, "sleep", "1000")
	bridge := "br-" + netID[:12]
	// The host end: the one veth whose master is the bridge.
	var veth string
	for _, f := range strings.Fields(inNetns(t, ns, "ip", "-o", "link", "show", "master", bridge)) {
		if name, _, ok := strings.Cut(f, "@"); ok && strings.HasPrefix(name, "veth") {
			veth = name
		}
	}
	if veth == "" {
		t.Fatalf("no veth on %s: %s", bridge, inNetns(t, ns, "ip", "-o", "link", "show", "master", bridge))
	}
	for _, l := range []string{bridge, veth} {
		if got := strings.TrimSpace(inNetns(t, ns, env.probe, "gso", l)); got != want {
			t.Errorf("%s on the host: %q, want %q", l, got, want)
		}
	}
	mdn(t, ns, root, "rm", "-f", id).wantExit(t, 0)
}

// TestNetworkExplainAttach: run --explain on a network says what the
// container got there: its address, its gateway, and (Linux 6.3 and
// later) the links that took BIG TCP's sizes — the network's bridge and
// the container's eth0 among them — or, on an older kernel, that none
// was set.
func TestNetworkExplainAttach(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.86.0.0/24", "shown")
	r := mdn(t, ns, root, "run", "--explain", "--network", "shown", env.rootfs, "true")
	r.wantExit(t, 0)
	var line string
	for l := range strings.SplitSeq(r.stderr, "\n") {
		if strings.Contains(l, "network ADD (CNI)") {
			line = l
		}
	}
	want := []string{"network shown: address 10.86.0.", "/24, gateway 10.86.0.1,"}
	if kernel.KernelAtLeast(6, 3) {
		want = append(want, "BIG TCP: gso_ipv4_max_size and gro_ipv4_max_size 196608 on the host's br-"+netID[:12]+", veth", ", and the container's eth0")
	} else {
		want = append(want, "BIG TCP: not set")
	}
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Errorf("the explain line of the network's ADD: %q, want it to contain %q\n%s", line, w, r)
		}
	}
}
