package docker

import (
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/network"
)

// network create -o: Docker's MTU option, 68 to 65535, the bridge's
// name, enable_ip_masquerade, enable_icc and gateway_mode_ipv4 (nat or
// nat-unprotected); anything else is refused naming it.
func TestParseNetworkOpt(t *testing.T) {
	for _, c := range []struct {
		opt  string
		want network.Request
		fail string
	}{
		{opt: "com.docker.network.driver.mtu=9000", want: network.Request{MTU: 9000}},
		{opt: "com.docker.network.driver.mtu=68", want: network.Request{MTU: 68}},
		{opt: "com.docker.network.driver.mtu=65535", want: network.Request{MTU: 65535}},
		{opt: "com.docker.network.driver.mtu=67", fail: `invalid com.docker.network.driver.mtu "67"`},
		{opt: "com.docker.network.driver.mtu=65536", fail: `invalid com.docker.network.driver.mtu "65536"`},
		{opt: "com.docker.network.driver.mtu=big", fail: `invalid com.docker.network.driver.mtu "big"`},
		{opt: "com.docker.network.driver.mtu", fail: `invalid com.docker.network.driver.mtu ""`},
		{opt: "com.docker.network.bridge.name=br0", want: network.Request{BridgeOptions: network.BridgeOptions{BridgeName: "br0"}}},
		{opt: "com.docker.network.bridge.name=", fail: "invalid com.docker.network.bridge.name: empty"},
		{opt: "com.docker.network.bridge.enable_ip_masquerade=false", want: network.Request{BridgeOptions: network.BridgeOptions{NoMasquerade: true}}},
		{opt: "com.docker.network.bridge.enable_ip_masquerade=true", want: network.Request{}},
		{opt: "com.docker.network.bridge.enable_ip_masquerade=no", fail: `invalid com.docker.network.bridge.enable_ip_masquerade "no"`},
		{opt: "com.docker.network.bridge.enable_icc=false", want: network.Request{BridgeOptions: network.BridgeOptions{NoICC: true}}},
		{opt: "com.docker.network.bridge.enable_icc=1", want: network.Request{}},
		{opt: "com.docker.network.bridge.gateway_mode_ipv4=nat-unprotected", want: network.Request{BridgeOptions: network.BridgeOptions{Unprotected: true}}},
		{opt: "com.docker.network.bridge.gateway_mode_ipv4=nat", want: network.Request{}},
		{opt: "com.docker.network.bridge.gateway_mode_ipv4=routed", fail: `invalid com.docker.network.bridge.gateway_mode_ipv4 "routed": want nat or nat-unprotected`},
		{opt: "com.docker.network.bridge.host_binding_ipv4=127.0.0.1", fail: `invalid option "com.docker.network.bridge.host_binding_ipv4=127.0.0.1"`},
	} {
		var r network.Request
		err := parseNetworkOpt(&r, c.opt)
		if c.fail != "" {
			if err == nil || !strings.Contains(err.Error(), c.fail) {
				t.Errorf("%s: %+v, %v; want an error with %q", c.opt, r, err, c.fail)
			}
			continue
		}
		if err != nil || r.MTU != c.want.MTU || r.BridgeOptions != c.want.BridgeOptions {
			t.Errorf("%s: %+v, %v; want %+v", c.opt, r, err, c.want)
		}
	}
}
