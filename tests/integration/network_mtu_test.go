package integration

import (
	"encoding/json"
	"strings"
	"testing"
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

	for _, bad := range []string{"com.docker.network.driver.mtu=big", "com.docker.network.driver.mtu=65536", "com.docker.network.bridge.name=x"} {
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
