package network

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// route is an IPv4 route of the caller's network namespace.
type route struct {
	Dev string
	Dst netip.Prefix
}

// hostRoutes reads the IPv4 routes of the caller's network namespace
// (/proc/net/route), but the default route: a network's subnet must not
// take addresses the host reaches elsewhere.
func hostRoutes() ([]route, error) {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return nil, fmt.Errorf("host routes: %w", err)
	}
	defer f.Close()
	return parseRoutes(bufio.NewScanner(f))
}

// parseRoutes reads /proc/net/route's table: Iface Destination Gateway
// Flags RefCnt Use Metric Mask ..., addresses as hex in the host's
// (little-endian) byte order.
func parseRoutes(sc *bufio.Scanner) ([]route, error) {
	var routes []route
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		dst, err1 := hexAddr(f[1])
		mask, err2 := hexAddr(f[7])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("host routes: /proc/net/route: bad line %q", sc.Text())
		}
		m := binary.BigEndian.Uint32(mask.AsSlice())
		bits := 0
		for m&(1<<31) != 0 {
			bits++
			m <<= 1
		}
		if bits == 0 {
			continue // the default route
		}
		routes = append(routes, route{Dev: f[0], Dst: netip.PrefixFrom(dst, bits).Masked()})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("host routes: /proc/net/route: %w", err)
	}
	return routes, nil
}

func hexAddr(s string) (netip.Addr, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4 {
		return netip.Addr{}, fmt.Errorf("bad address %q", s)
	}
	return netip.AddrFrom4([4]byte{b[3], b[2], b[1], b[0]}), nil
}

// checkSubnet refuses a subnet that is not IPv4, too small for a gateway
// and a container, or that overlaps another network's or a route of the
// host, naming both.
func checkSubnet(p netip.Prefix, nets []*Network, routes []route) error {
	if !p.Addr().Is4() {
		return fmt.Errorf("invalid --subnet %s: only IPv4 subnets for now", p)
	}
	if p.Bits() > 30 {
		return fmt.Errorf("invalid --subnet %s: too small (a /30 at most: a gateway and a container)", p)
	}
	if p != p.Masked() {
		return fmt.Errorf("invalid --subnet %s: host bits are set (did you mean %s?)", p, p.Masked())
	}
	for _, n := range nets {
		if n.Subnet.Overlaps(p) {
			return fmt.Errorf("invalid --subnet %s: it overlaps subnet %s of network %s", p, n.Subnet, n.Name)
		}
	}
	for _, r := range routes {
		if r.Dst.Overlaps(p) {
			return fmt.Errorf("invalid --subnet %s: it overlaps the host's route to %s on %s", p, r.Dst, r.Dev)
		}
	}
	return nil
}

// candidates are the subnets chosen for networks made without --subnet,
// Docker's default address pools: 172.18.0.0/16 to 172.31.0.0/16
// (172.17.0.0/16 is the default bridge's), then 192.168.0.0/20 to
// 192.168.240.0/20.
func candidates() []netip.Prefix {
	var out []netip.Prefix
	for b := 18; b <= 31; b++ {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(b), 0, 0}), 16))
	}
	for c := 0; c < 256; c += 16 {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(c), 0}), 20))
	}
	return out
}

// chooseSubnet is the first candidate that overlaps no network and no
// route.
func chooseSubnet(nets []*Network, routes []route) (netip.Prefix, error) {
	for _, p := range candidates() {
		if checkSubnet(p, nets, routes) == nil {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network: give one with --subnet")
}

// gatewayOf is gw, checked to be a host address of subnet, or the
// subnet's first address when gw is zero.
func gatewayOf(subnet netip.Prefix, gw netip.Addr) (netip.Addr, error) {
	if !gw.IsValid() {
		return subnet.Addr().Next(), nil
	}
	if !subnet.Contains(gw) {
		return gw, fmt.Errorf("invalid --gateway %s: not in subnet %s", gw, subnet)
	}
	last := broadcast(subnet)
	if gw == subnet.Addr() || gw == last {
		return gw, fmt.Errorf("invalid --gateway %s: the network or broadcast address of %s", gw, subnet)
	}
	return gw, nil
}

// broadcast is the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a)
}

// checkPool refuses an --ip-range and --aux-address of a network of
// subnet and gateway gw: the range within the subnet, the auxiliary
// addresses in it, neither the gateway nor its network or broadcast
// address (Docker's rules), and at least one address left for the
// containers.
func checkPool(subnet netip.Prefix, gw netip.Addr, ipRange netip.Prefix, aux map[string]netip.Addr) error {
	if ipRange.IsValid() {
		if !ipRange.Addr().Is4() || ipRange.Bits() < subnet.Bits() || !subnet.Contains(ipRange.Addr()) {
			return fmt.Errorf("invalid --ip-range %s: not within subnet %s", ipRange, subnet)
		}
	}
	for name, a := range aux {
		switch {
		case !subnet.Contains(a):
			return fmt.Errorf("invalid --aux-address %s=%s: no matching subnet (%s)", name, a, subnet)
		case a == gw:
			return fmt.Errorf("invalid --aux-address %s=%s: the gateway", name, a)
		case a == subnet.Masked().Addr() || a == broadcast(subnet):
			return fmt.Errorf("invalid --aux-address %s=%s: the network or broadcast address of %s", name, a, subnet)
		}
	}
	within := subnet
	if ipRange.IsValid() {
		within = ipRange.Masked()
	}
	if len(poolRanges(subnet, within, aux)) == 0 {
		return fmt.Errorf("invalid --ip-range %s: no address left for containers (--aux-address takes them all)", within)
	}
	return nil
}

// addrRange is a first and last address, both in the range.
type addrRange struct{ first, last netip.Addr }

// poolRanges are the addresses host-local may give containers of a
// network of subnet: those of within (the subnet, or its --ip-range)
// but the subnet's network and broadcast addresses, cut around the
// auxiliary addresses. (The gateway, host-local skips itself.)
func poolRanges(subnet, within netip.Prefix, aux map[string]netip.Addr) []addrRange {
	first, last := within.Masked().Addr(), broadcast(within)
	if first == subnet.Masked().Addr() {
		first = first.Next()
	}
	if last == broadcast(subnet) {
		last = last.Prev()
	}
	var cuts []netip.Addr
	for _, a := range aux {
		cuts = append(cuts, a)
	}
	slices.SortFunc(cuts, netip.Addr.Compare)
	var out []addrRange
	for _, c := range cuts {
		if c.Less(first) || last.Less(c) {
			continue
		}
		if first.Less(c) {
			out = append(out, addrRange{first, c.Prev()})
		}
		first = c.Next()
	}
	if first.IsValid() && !last.Less(first) {
		out = append(out, addrRange{first, last})
	}
	return out
}
