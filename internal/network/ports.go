package network

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// PortMapping is one published port: CNI's portMappings capability (the
// portmap plugin's runtime config), Docker's -p.
type PortMapping struct {
	HostIP        string `json:"hostIP,omitempty"` // "" for all the host's addresses
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"` // tcp or udp
}

// String is the mapping as -p takes it, always with its protocol
// (IP:HOST:CONTAINER/PROTO, or HOST:CONTAINER/PROTO).
func (m PortMapping) String() string {
	s := fmt.Sprintf("%d:%d/%s", m.HostPort, m.ContainerPort, m.Protocol)
	if m.HostIP != "" {
		s = m.HostIP + ":" + s
	}
	return s
}

// ParsePublish reads one -p value, [IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp],
// either port a range (FIRST-LAST, both of the same length): one mapping
// per port. A container port alone (a host port chosen by the runtime)
// and IPv6 host addresses are refused: not done yet.
func ParsePublish(v string) ([]PortMapping, error) {
	bad := func(why string) error { return fmt.Errorf("invalid -p %q: %s", v, why) }
	rest, proto := v, "tcp"
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		rest, proto = v[:i], strings.ToLower(v[i+1:])
	}
	if proto != "tcp" && proto != "udp" {
		return nil, bad("the protocol must be tcp or udp")
	}
	parts := strings.Split(rest, ":")
	hostIP := ""
	switch len(parts) {
	case 1:
		return nil, bad("want [IP:]HOST_PORT:CONTAINER_PORT (a host port chosen for you is not supported yet)")
	case 2:
	case 3:
		hostIP = parts[0]
		a, err := netip.ParseAddr(hostIP)
		if err != nil || !a.Is4() {
			return nil, bad(fmt.Sprintf("host address %q: want an IPv4 address", hostIP))
		}
		if a.IsUnspecified() {
			hostIP = ""
		}
		parts = parts[1:]
	default:
		return nil, bad("want [IP:]HOST_PORT:CONTAINER_PORT (IPv6 addresses are not supported)")
	}
	if parts[0] == "" {
		return nil, bad("want [IP:]HOST_PORT:CONTAINER_PORT (a host port chosen for you is not supported yet)")
	}
	hFirst, hLast, err := portRange(parts[0])
	if err != nil {
		return nil, bad("host port: " + err.Error())
	}
	cFirst, cLast, err := portRange(parts[1])
	if err != nil {
		return nil, bad("container port: " + err.Error())
	}
	if hLast-hFirst != cLast-cFirst {
		return nil, bad("the host and container port ranges must have the same length")
	}
	var out []PortMapping
	for i := 0; i <= cLast-cFirst; i++ {
		out = append(out, PortMapping{HostIP: hostIP, HostPort: hFirst + i, ContainerPort: cFirst + i, Protocol: proto})
	}
	return out, nil
}

// portRange reads PORT or FIRST-LAST (1 to 65535).
func portRange(s string) (int, int, error) {
	first, last, isRange := strings.Cut(s, "-")
	a, err := port(first)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return a, a, nil
	}
	b, err := port(last)
	if err != nil {
		return 0, 0, err
	}
	if b < a {
		return 0, 0, fmt.Errorf("range %q ends before it starts", s)
	}
	return a, b, nil
}

func port(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port (1-65535)", s)
	}
	return n, nil
}

// hostPortsFree refuses ports that a program of the host holds: each is
// bound (TCP listen, UDP bind) on its host address, in the caller's
// network namespace, and let go. portmap only DNATs (it binds nothing),
// so without this check a container would take the port's traffic from
// under the program. Docker's docker-proxy fails the same way. (A
// program binding the port later is not seen: nothing holds it.)
func hostPortsFree(ports []PortMapping) error {
	for _, p := range ports {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		addr := net.JoinHostPort(ip, strconv.Itoa(p.HostPort))
		var err error
		if p.Protocol == "udp" {
			var c net.PacketConn
			if c, err = net.ListenPacket("udp4", addr); err == nil {
				err = c.Close()
			}
		} else {
			var l net.Listener
			if l, err = net.Listen("tcp4", addr); err == nil {
				err = l.Close()
			}
		}
		if err != nil {
			return fmt.Errorf("failed to bind port %s/%s: %w", addr, p.Protocol, err)
		}
	}
	return nil
}
