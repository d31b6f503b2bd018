package docker

import (
	"strings"
	"testing"
)

// network create -o: Docker's MTU option, 68 to 65535; anything else is
// refused naming it.
func TestParseNetworkOpt(t *testing.T) {
	for _, c := range []struct {
		opt  string
		mtu  int
		fail string
	}{
		{opt: "com.docker.network.driver.mtu=9000", mtu: 9000},
		{opt: "com.docker.network.driver.mtu=68", mtu: 68},
		{opt: "com.docker.network.driver.mtu=65535", mtu: 65535},
		{opt: "com.docker.network.driver.mtu=67", fail: `invalid com.docker.network.driver.mtu "67"`},
		{opt: "com.docker.network.driver.mtu=65536", fail: `invalid com.docker.network.driver.mtu "65536"`},
		{opt: "com.docker.network.driver.mtu=big", fail: `invalid com.docker.network.driver.mtu "big"`},
		{opt: "com.docker.network.driver.mtu", fail: `invalid com.docker.network.driver.mtu ""`},
		{opt: "com.docker.network.bridge.name=br0", fail: `invalid option "com.docker.network.bridge.name=br0"`},
	} {
		mtu, err := parseNetworkOpt(c.opt)
		if c.fail != "" {
			if err == nil || !strings.Contains(err.Error(), c.fail) {
				t.Errorf("%s: %d, %v; want an error with %q", c.opt, mtu, err, c.fail)
			}
			continue
		}
		if err != nil || mtu != c.mtu {
			t.Errorf("%s: %d, %v; want %d", c.opt, mtu, err, c.mtu)
		}
	}
}
