package network

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/ondisk"
)

const procNetRoute = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
`

func TestParseRoutes(t *testing.T) {
	routes, err := parseRoutes(bufio.NewScanner(strings.NewReader(procNetRoute)))
	if err != nil {
		t.Fatal(err)
	}
	want := []route{{"eth0", netip.MustParsePrefix("192.0.2.0/24")}, {"docker0", netip.MustParsePrefix("172.17.0.0/16")}}
	if len(routes) != len(want) || routes[0] != want[0] || routes[1] != want[1] {
		t.Errorf("routes %v, want %v (the default route skipped)", routes, want)
	}
	if _, err := parseRoutes(bufio.NewScanner(strings.NewReader("head\neth0 zz 0 0 0 0 0 00FFFFFF\n"))); err == nil {
		t.Error("a bad destination parsed")
	}
}

func TestCheckSubnet(t *testing.T) {
	nets := []*Network{{Name: "web", Subnet: netip.MustParsePrefix("10.1.0.0/16")}}
	routes := []route{{"eth0", netip.MustParsePrefix("192.0.2.0/24")}}
	for _, tt := range []struct {
		subnet, want string // want "" for accepted
	}{
		{"10.2.0.0/16", ""},
		{"10.1.2.0/24", "overlaps subnet 10.1.0.0/16 of network web"},
		{"10.0.0.0/8", "overlaps subnet 10.1.0.0/16 of network web"},
		{"192.0.0.0/16", "overlaps the host's route to 192.0.2.0/24 on eth0"},
		{"10.3.0.1/16", "host bits are set (did you mean 10.3.0.0/16?)"},
		{"10.3.0.0/31", "too small"},
		{"fd00::/64", "only IPv4"},
	} {
		err := checkSubnet(netip.MustParsePrefix(tt.subnet), nets, routes)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("checkSubnet(%s) = %v, want %q", tt.subnet, err, tt.want)
		}
	}
}

func TestChooseSubnet(t *testing.T) {
	nets := []*Network{{Name: "a", Subnet: netip.MustParsePrefix("172.18.0.0/16")}}
	routes := []route{{"eth0", netip.MustParsePrefix("172.19.3.0/24")}}
	got, err := chooseSubnet(nets, routes)
	if err != nil || got != netip.MustParsePrefix("172.20.0.0/16") {
		t.Errorf("chooseSubnet = %v, %v; want 172.20.0.0/16 (past a network and a route)", got, err)
	}
	all := []route{{"eth0", netip.MustParsePrefix("172.16.0.0/12")}, {"eth1", netip.MustParsePrefix("192.168.0.0/16")}}
	if _, err := chooseSubnet(nil, all); err == nil || !strings.Contains(err.Error(), "--subnet") {
		t.Errorf("chooseSubnet with every pool routed: %v, want an error that says to give --subnet", err)
	}
}

func TestGatewayOf(t *testing.T) {
	p := netip.MustParsePrefix("10.9.0.0/24")
	for _, tt := range []struct{ gw, want, err string }{
		{"", "10.9.0.1", ""},
		{"10.9.0.254", "10.9.0.254", ""},
		{"10.8.0.1", "", "not in subnet"},
		{"10.9.0.0", "", "network or broadcast"},
		{"10.9.0.255", "", "network or broadcast"},
	} {
		var gw netip.Addr
		if tt.gw != "" {
			gw = netip.MustParseAddr(tt.gw)
		}
		got, err := gatewayOf(p, gw)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("gatewayOf(%q) error %v, want %q", tt.gw, err, tt.err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("gatewayOf(%q) = %v, %v; want %s", tt.gw, got, err, tt.want)
		}
	}
}

// TestCheckAddress: --ip's address must be a host address of a user-
// defined network's subnet other than its gateway.
func TestCheckAddress(t *testing.T) {
	n := &Network{Name: "front", Subnet: netip.MustParsePrefix("10.9.0.0/24"), Gateway: netip.MustParseAddr("10.9.0.1")}
	def := &Network{Name: DefaultName, Subnet: netip.MustParsePrefix("172.17.0.0/16"), Gateway: netip.MustParseAddr("172.17.0.1")}
	for _, tt := range []struct {
		n        *Network
		ip, want string
	}{
		{n, "10.9.0.5", ""},
		{n, "10.9.0.254", ""},
		{n, "10.9.1.5", "--ip 10.9.1.5: not in network front's subnet 10.9.0.0/24"},
		{n, "10.9.0.1", "--ip 10.9.0.1: the gateway of network front: address already in use"},
		{n, "10.9.0.0", "the network or broadcast address"},
		{n, "10.9.0.255", "the network or broadcast address"},
		{n, "::1", "not an IPv4 address"},
		{def, "172.17.0.9", "user specified IP address is supported on user defined networks only"},
	} {
		err := tt.n.CheckAddress(netip.MustParseAddr(tt.ip))
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s.CheckAddress(%s) = %v, want %q", tt.n.Name, tt.ip, err, tt.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{"web": true, "a.b_c-1": true, "Net9": true, "x.": true, "": false, "-x": false, ".x": false, "_x": false, "a b": false, "é": false, "a/b": false, "container:x": false, "host": false, "bridge": false, "none": false} {
		if err := CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v, want ok %v", name, err, ok)
		}
	}
}

// TestStore: create (a subnet chosen, or given), the conflist libcni
// reads (bridge with host-local under the store, portmap), get by name,
// id and prefix, list, the refusals, remove; no root needed.
func TestStore(t *testing.T) {
	dir := t.TempDir()
	s := Open(dir)
	s.iptables = newFakeTables().run // not the host's
	a, err := s.Create(Request{Name: "a", Subnet: netip.MustParsePrefix("10.200.0.0/24"), Internal: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.Gateway.String() != "10.200.0.1" || len(a.ID) != 64 || a.Bridge() != "br-"+a.ID[:12] || !a.Internal {
		t.Errorf("created %+v", a)
	}
	b, err := s.Create(Request{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Subnet.IsValid() || b.Subnet.Overlaps(a.Subnet) {
		t.Errorf("chosen subnet %v", b.Subnet)
	}

	list, err := libcni.ConfListFromFile(filepath.Join(dir, "a.conflist"))
	if err != nil {
		t.Fatalf("libcni reads the conflist: %v", err)
	}
	if list.Name != "a" || list.CNIVersion != cniVersion || len(list.Plugins) != 2 ||
		list.Plugins[0].Network.Type != "bridge" || list.Plugins[1].Network.Type != "portmap" {
		t.Errorf("conflist: %+v", list)
	}
	var bridge struct {
		Bridge string
		IPMasq bool
		IPAM   struct {
			Type    string
			DataDir string
			Routes  []any
		}
	}
	if err := json.Unmarshal(list.Plugins[0].Bytes, &bridge); err != nil {
		t.Fatal(err)
	}
	if bridge.Bridge != a.Bridge() || bridge.IPMasq || bridge.IPAM.Type != "host-local" || bridge.IPAM.DataDir != filepath.Join(dir, "ipam") || len(bridge.IPAM.Routes) != 0 {
		t.Errorf("internal network's bridge plugin: %+v; want no masquerade, no default route, leases under the store", bridge)
	}

	for _, ref := range []string{"a", a.ID, a.ID[:10]} {
		if got, err := s.Get(ref); err != nil || got.ID != a.ID || got.Subnet != a.Subnet || !got.Created.Equal(a.Created) {
			t.Errorf("Get(%s) = %+v, %v", ref, got, err)
		}
	}
	if _, err := s.Get("nosuch"); !errors.Is(err, ErrNotFound) || err.Error() != "network nosuch not found" {
		t.Errorf("Get(nosuch) = %v", err)
	}
	if _, err := s.Create(Request{Name: "a"}); !errors.Is(err, ErrExists) || err.Error() != "network with name a already exists" {
		t.Errorf("Create(a) again = %v", err)
	}
	if _, err := s.Create(Request{Name: "c", Subnet: netip.MustParsePrefix("10.200.0.128/25")}); err == nil || !strings.Contains(err.Error(), "of network a") {
		t.Errorf("Create with an overlapping subnet = %v", err)
	}
	nets, err := s.List()
	if err != nil || len(nets) != 2 || nets[0].Name != "a" || nets[1].Name != "b" {
		t.Errorf("List = %v, %v", nets, err)
	}

	inUse := &InUseError{}
	if err := s.Remove(a, []string{"ctr"}); !errors.As(err, &inUse) || !strings.Contains(err.Error(), "network a id "+a.ID+" has active endpoints") {
		t.Errorf("Remove of a network in use = %v", err)
	}
	if err := os.MkdirAll(s.IPAMDir("a"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(a, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.IPAMDir("a")); err == nil {
		t.Error("Remove left the leases directory")
	}
	// By its full ID: the name "a" is also a hex prefix, which network b's
	// random ID may start with.
	if _, err := s.Get(a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Remove = %v", err)
	}
	if _, err := os.Stat(s.confPath("a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Remove left the conflist: %v", err)
	}
}

// TestContainerChain: a container without published ports runs the
// chain without portmap, and one with a MAC address asked for the tuning
// plugin after the bridge, with the address and our backup directory,
// in the bytes that libcni caches for DEL too; the rest of the conflist
// (the bridge, our meta) is kept.
func TestContainerChain(t *testing.T) {
	s := Open(t.TempDir())
	s.iptables = newFakeTables().run // not the host's
	n, err := s.Create(Request{Name: "web", Subnet: netip.MustParsePrefix("10.9.0.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	full, err := s.confList(n.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Plugins) != 2 || full.Plugins[1].Network.Type != "portmap" {
		t.Fatalf("the network's conflist: %d plugins, want bridge and portmap", len(full.Plugins))
	}
	mac := net.HardwareAddr{0x92, 0xd0, 0xc6, 0x0a, 0x29, 0x33}
	for _, c := range []struct {
		publish bool
		mac     net.HardwareAddr
		want    []string
	}{
		{true, nil, []string{"bridge", "portmap"}},
		{false, nil, []string{"bridge"}},
		{true, mac, []string{"bridge", "tuning", "portmap"}},
		{false, mac, []string{"bridge", "tuning"}},
	} {
		list, err := containerChain(full, c.publish, c.mac, s.tuningDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		again, err := libcni.ConfListFromBytes(list.Bytes) // what libcni caches
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, p := range again.Plugins {
			types = append(types, p.Network.Type)
			if p.Network.Type == "tuning" {
				var tc struct{ Mac, DataDir string }
				if err := json.Unmarshal(p.Bytes, &tc); err != nil || tc.Mac != mac.String() || tc.DataDir != s.tuningDir() {
					t.Errorf("publish %v, mac %v: tuning's config %s (%v): want mac %s, dataDir %s", c.publish, c.mac, p.Bytes, err, mac, s.tuningDir())
				}
			}
		}
		if !slices.Equal(types, c.want) || again.Name != "web" || again.CNIVersion != cniVersion {
			t.Errorf("publish %v, mac %v: plugins %v of %s %s, want %v of web %s", c.publish, c.mac, types, again.Name, again.CNIVersion, c.want, cniVersion)
		}
		if got, err := parse(list.Bytes, "cached"); err != nil || got.ID != n.ID {
			t.Errorf("publish %v, mac %v: our meta in the cached bytes: %+v, %v; want network %s", c.publish, c.mac, got, err, n.ID)
		}
	}
}

// TestParseMAC: --mac-address takes a 48-bit unicast address, in any of
// Go's notations, and refuses the others, naming the value.
func TestParseMAC(t *testing.T) {
	for v, want := range map[string]string{
		"92:d0:c6:0a:29:33": "92:d0:c6:0a:29:33",
		"92-D0-C6-0A-29-33": "92:d0:c6:0a:29:33",
		"92d0.c60a.2933":    "92:d0:c6:0a:29:33",
	} {
		if mac, err := ParseMAC(v); err != nil || mac.String() != want {
			t.Errorf("ParseMAC(%q) = %v, %v; want %s", v, mac, err, want)
		}
	}
	for _, v := range []string{"", "92:d0:c6:0a:29", "92:d0:c6:0a:29:33:44:55", "zz:d0:c6:0a:29:33", "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"} {
		if mac, err := ParseMAC(v); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", v)) {
			t.Errorf("ParseMAC(%q) = %v, %v; want an error naming it", v, mac, err)
		}
	}
}

// TestMTU: a network's MTU (network create -o com.docker.network.driver.mtu)
// is the bridge plugin's, and read back; without one the plugin has none
// (its default, 1500, Docker's).
func TestMTU(t *testing.T) {
	s := Open(t.TempDir())
	s.iptables = newFakeTables().run // not the host's
	for _, mtu := range []int{0, 9000} {
		name := fmt.Sprintf("m%d", mtu)
		n, err := s.Create(Request{Name: name, MTU: mtu})
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.confList(name)
		if err != nil {
			t.Fatal(err)
		}
		var bridge struct {
			MTU *int `json:"mtu"`
		}
		if err := json.Unmarshal(list.Plugins[0].Bytes, &bridge); err != nil {
			t.Fatal(err)
		}
		switch {
		case mtu == 0 && bridge.MTU != nil:
			t.Errorf("network without an MTU: the bridge plugin's mtu is %d, want none", *bridge.MTU)
		case mtu != 0 && (bridge.MTU == nil || *bridge.MTU != mtu):
			t.Errorf("network with MTU %d: the bridge plugin's mtu is %v", mtu, bridge.MTU)
		}
		if got, err := s.Get(name); err != nil || got.MTU != mtu || n.MTU != mtu {
			t.Errorf("Get(%s) = %+v, %v; want MTU %d", name, got, err, mtu)
		}
	}
}

// TestPoolRanges: host-local's ranges of a network are its subnet (or
// --ip-range) less the network and broadcast addresses, cut around the
// --aux-address addresses.
func TestPoolRanges(t *testing.T) {
	subnet := netip.MustParsePrefix("10.0.0.0/24")
	a := netip.MustParseAddr
	for _, tt := range []struct {
		within string
		aux    map[string]netip.Addr
		want   []addrRange
	}{
		{"10.0.0.0/24", nil, []addrRange{{a("10.0.0.1"), a("10.0.0.254")}}},
		{"10.0.0.0/24", map[string]netip.Addr{"r": a("10.0.0.5"), "s": a("10.0.0.1")}, []addrRange{{a("10.0.0.2"), a("10.0.0.4")}, {a("10.0.0.6"), a("10.0.0.254")}}},
		{"10.0.0.128/25", map[string]netip.Addr{"low": a("10.0.0.7"), "edge": a("10.0.0.128")}, []addrRange{{a("10.0.0.129"), a("10.0.0.254")}}},
		{"10.0.0.16/30", map[string]netip.Addr{"x": a("10.0.0.19")}, []addrRange{{a("10.0.0.16"), a("10.0.0.18")}}},
		{"10.0.0.0/30", map[string]netip.Addr{"x": a("10.0.0.1"), "y": a("10.0.0.2"), "z": a("10.0.0.3")}, nil},
	} {
		if got := poolRanges(subnet, netip.MustParsePrefix(tt.within), tt.aux); !slices.Equal(got, tt.want) {
			t.Errorf("poolRanges(%s, %s, %v) = %v, want %v", subnet, tt.within, tt.aux, got, tt.want)
		}
	}
}

// TestIPRangeAux: network create --ip-range and --aux-address are
// checked (Docker's rules), kept in the conflist and read back; the
// conflist's ranges span the subnet less the aux addresses (where --ip
// asks), a container asking for none gets the range's (containerChain),
// and --ip of an aux address is refused.
func TestIPRangeAux(t *testing.T) {
	s := Open(t.TempDir())
	s.iptables = newFakeTables().run // not the host's
	subnet := netip.MustParsePrefix("10.9.0.0/24")
	a := netip.MustParseAddr
	for _, tt := range []struct {
		r    Request
		want string
	}{
		{Request{Name: "x", Subnet: subnet, IPRange: netip.MustParsePrefix("10.10.0.0/25")}, "invalid --ip-range 10.10.0.0/25: not within subnet 10.9.0.0/24"},
		{Request{Name: "x", Subnet: subnet, IPRange: netip.MustParsePrefix("10.9.0.0/23")}, "not within subnet"},
		{Request{Name: "x", Subnet: subnet, AuxAddresses: map[string]netip.Addr{"r": a("10.8.0.5")}}, "invalid --aux-address r=10.8.0.5: no matching subnet"},
		{Request{Name: "x", Subnet: subnet, AuxAddresses: map[string]netip.Addr{"r": a("10.9.0.1")}}, "invalid --aux-address r=10.9.0.1: the gateway"},
		{Request{Name: "x", Subnet: subnet, AuxAddresses: map[string]netip.Addr{"r": a("10.9.0.255")}}, "the network or broadcast address"},
		{Request{Name: "x", Subnet: subnet, IPRange: netip.MustParsePrefix("10.9.0.4/31"), AuxAddresses: map[string]netip.Addr{"r": a("10.9.0.4"), "s": a("10.9.0.5")}}, "no address left"},
	} {
		if _, err := s.Create(tt.r); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Create(%+v) = %v, want an error with %q", tt.r, err, tt.want)
		}
	}
	if ents, _ := os.ReadDir(s.dir); slices.ContainsFunc(ents, func(e os.DirEntry) bool { return strings.HasSuffix(e.Name(), ".conflist") }) {
		t.Errorf("a refused create left a conflist: %v", ents)
	}
	aux := map[string]netip.Addr{"router": a("10.9.0.5")}
	n, err := s.Create(Request{Name: "ranged", Subnet: subnet, IPRange: netip.MustParsePrefix("10.9.0.128/25"), AuxAddresses: aux})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("ranged")
	if err != nil || got.IPRange != n.IPRange || !maps.Equal(got.AuxAddresses, aux) {
		t.Fatalf("Get(ranged) = %+v, %v; want ip range %s and aux %v back", got, err, n.IPRange, aux)
	}
	if err := got.CheckAddress(a("10.9.0.5")); err == nil || !strings.Contains(err.Error(), "its --aux-address router") {
		t.Errorf("CheckAddress of the aux address: %v", err)
	}
	if err := got.CheckAddress(a("10.9.0.6")); err != nil {
		t.Errorf("CheckAddress of an address outside the range: %v, want it taken (--ip may ask anywhere in the subnet)", err)
	}
	full, err := s.confList("ranged")
	if err != nil {
		t.Fatal(err)
	}
	ranges := func(list *libcni.NetworkConfigList) string {
		var c struct {
			IPAM struct {
				Ranges [][]map[string]string `json:"ranges"`
			} `json:"ipam"`
		}
		if err := json.Unmarshal(list.Plugins[0].Bytes, &c); err != nil || len(c.IPAM.Ranges) != 1 {
			t.Fatalf("the bridge's ipam: %s (%v)", list.Plugins[0].Bytes, err)
		}
		var out []string
		for _, r := range c.IPAM.Ranges[0] {
			out = append(out, r["rangeStart"]+"-"+r["rangeEnd"]+" gw "+r["gateway"])
		}
		return strings.Join(out, ", ")
	}
	if got, want := ranges(full), "10.9.0.1-10.9.0.4 gw 10.9.0.1, 10.9.0.6-10.9.0.254 gw 10.9.0.1"; got != want {
		t.Errorf("the conflist's ranges: %s, want %s", got, want)
	}
	dyn, err := containerChain(full, true, nil, "", got.ipamRanges(got.IPRange))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ranges(dyn), "10.9.0.128-10.9.0.254 gw 10.9.0.1"; got != want {
		t.Errorf("a container's ranges without --ip: %s, want %s", got, want)
	}
}

// TestAttachRemoveLocked: an Attach waits while network rm holds the
// store's lock, and then finds the network gone (not found, before any
// ADD); network rm waits while an Attach holds it (shared), so that it
// can't remove the network under an ADD nor miss its attachment.
func TestAttachRemoveLocked(t *testing.T) {
	s := Open(t.TempDir())
	s.iptables = newFakeTables().run // not the host's
	// No plugin at all: were the lock broken, the ADD (in this test's own
	// network namespace) would fail before it changed anything.
	s.pluginDirs = []string{t.TempDir()}
	t.Cleanup(func() { // a pin such an ADD would leave (its DEL fails too)
		pins, _ := filepath.Glob(filepath.Join(s.netnsDir(), "*"))
		for _, p := range pins {
			_ = unix.Unmount(p, unix.MNT_DETACH)
		}
	})
	n, err := s.Create(Request{Name: "locked", Subnet: netip.MustParsePrefix("10.9.0.0/24"), BridgeOptions: BridgeOptions{BridgeName: "mdlocked0"}})
	if err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(s.dir, ".lock")
	// stillWaiting reports whether done has not been closed after a
	// moment (a wait that ended early fails the test whatever the speed).
	stillWaiting := func(done <-chan struct{}) bool {
		select {
		case <-done:
			return false
		case <-time.After(200 * time.Millisecond):
			return true
		}
	}

	rm, err := ondisk.LockPath(lockPath) // network rm under way
	if err != nil {
		t.Fatal(err)
	}
	var attachErr error
	attached := make(chan struct{})
	go func() {
		_, attachErr = s.Attach(n, "c1", os.Getpid(), AttachOptions{})
		close(attached)
	}()
	if !stillWaiting(attached) {
		t.Errorf("Attach went on while network rm held the lock: %v", attachErr)
	}
	if err := os.Remove(s.confPath(n.Name)); err != nil { // what rm removes
		t.Fatal(err)
	}
	rm.Close()
	<-attached
	if !errors.Is(attachErr, ErrNotFound) {
		t.Errorf("Attach after network rm: %v, want not found", attachErr)
	}

	if n, err = s.Create(Request{Name: "locked2", Subnet: netip.MustParsePrefix("10.9.1.0/24"), BridgeOptions: BridgeOptions{BridgeName: "mdlocked1"}}); err != nil {
		t.Fatal(err)
	}
	add, err := ondisk.LockPathShared(lockPath) // an ADD under way
	if err != nil {
		t.Fatal(err)
	}
	var removeErr error
	removed := make(chan struct{})
	go func() {
		removeErr = s.Remove(n, nil)
		close(removed)
	}()
	if !stillWaiting(removed) {
		t.Errorf("network rm went on while an Attach held the lock: %v", removeErr)
	}
	add.Close()
	<-removed
	if removeErr != nil {
		t.Fatal(removeErr)
	}
	if _, err := s.Get("locked2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("network locked2 after rm: %v, want not found", err)
	}
}
