package network

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// PortMapping is one published port: CNI's portMappings capability (the
// portmap plugin's runtime config), Docker's -p.
type PortMapping struct {
	HostIP        string `json:"hostIP,omitempty"` // "" for all the host's addresses
	HostPort      int    `json:"hostPort"`         // 0: a free one, chosen by Attach
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"` // tcp or udp
	// HostRange is, for HostPort 0, the range the free host port is
	// chosen in (-p FIRST-LAST:PORT, Docker's), or zero: the ephemeral
	// range. Not CNI's: portmap gets the port chosen.
	HostRange [2]int `json:"-"`
}

// HostPorts is the mapping's host port as -p gives it, Docker's
// PortBindings' HostPort: "8080", "8000-8010" (one free port of the
// range, chosen at start), or "" (a free one of the ephemeral range).
func (m PortMapping) HostPorts() string {
	switch {
	case m.HostPort != 0:
		return strconv.Itoa(m.HostPort)
	case m.HostRange[0] != 0:
		return fmt.Sprintf("%d-%d", m.HostRange[0], m.HostRange[1])
	}
	return ""
}

// String is the mapping as -p takes it, always with its protocol
// (IP:HOST:CONTAINER/PROTO, or HOST:CONTAINER/PROTO; HOST empty when it
// is to be chosen in the ephemeral range, FIRST-LAST in that range).
func (m PortMapping) String() string {
	s := fmt.Sprintf("%s:%d/%s", m.HostPorts(), m.ContainerPort, m.Protocol)
	if m.HostIP != "" {
		s = m.HostIP + ":" + s
	}
	return s
}

// ParsePublish reads one -p value, [[IP:]HOST_PORT:]CONTAINER_PORT[/tcp|udp],
// either port a range (FIRST-LAST, both of the same length): one mapping
// per port. Without a host port (CONTAINER_PORT, :CONTAINER_PORT,
// IP::CONTAINER_PORT) each gets a free one when the container starts
// (HostPort 0); a host range with one container port
// (FIRST-LAST:PORT) is one mapping that gets a free port of the range
// (HostRange), as Docker's. IPv6 host addresses are refused: not done
// yet.
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
		parts = []string{"", parts[0]}
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
	cFirst, cLast, err := portRange(parts[1])
	if err != nil {
		return nil, bad("container port: " + err.Error())
	}
	var out []PortMapping
	if parts[0] == "" { // chosen when the container starts
		for p := cFirst; p <= cLast; p++ {
			out = append(out, PortMapping{HostIP: hostIP, ContainerPort: p, Protocol: proto})
		}
		return out, nil
	}
	hFirst, hLast, err := portRange(parts[0])
	if err != nil {
		return nil, bad("host port: " + err.Error())
	}
	if cFirst == cLast && hLast > hFirst { // one port of the range, chosen at start
		return []PortMapping{{HostIP: hostIP, ContainerPort: cFirst, Protocol: proto, HostRange: [2]int{hFirst, hLast}}}, nil
	}
	if hLast-hFirst != cLast-cFirst {
		return nil, bad("the host and container port ranges must have the same length (or the host's a range for one container port)")
	}
	for i := 0; i <= cLast-cFirst; i++ {
		out = append(out, PortMapping{HostIP: hostIP, HostPort: hFirst + i, ContainerPort: cFirst + i, Protocol: proto})
	}
	return out, nil
}

// Port is a container's port and protocol, Docker's "80/tcp" (the keys
// of Config.ExposedPorts and NetworkSettings.Ports).
type Port struct {
	Number   int
	Protocol string // tcp or udp
}

// String is Docker's key, "80/tcp".
func (p Port) String() string { return fmt.Sprintf("%d/%s", p.Number, p.Protocol) }

// ParseExpose reads one --expose value (or a key of an image's
// ExposedPorts): PORT[/tcp|udp] or FIRST-LAST[/tcp|udp].
func ParseExpose(v string) ([]Port, error) {
	rest, proto, _ := strings.Cut(v, "/")
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" {
		return nil, fmt.Errorf("invalid --expose %q: the protocol must be tcp or udp", v)
	}
	first, last, err := portRange(rest)
	if err != nil {
		return nil, fmt.Errorf("invalid --expose %q: %w", v, err)
	}
	var out []Port
	for p := first; p <= last; p++ {
		out = append(out, Port{p, proto})
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
		if err := bindPort(p); err != nil {
			return err
		}
	}
	return nil
}

// ephemeralPorts is the kernel's range of ephemeral ports
// (net.ipv4.ip_local_port_range), where Docker picks the host ports it
// chooses; Linux's default when it can't be read.
func ephemeralPorts() (int, int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			a, err1 := strconv.Atoi(f[0])
			z, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && 0 < a && a <= z && z <= 65535 {
				return a, z
			}
		}
	}
	return 32768, 60999
}

// clash reports whether p and q take the same host port: the same
// protocol and port, on the same host address or on all of them.
func clash(p, q PortMapping) bool {
	return p.HostPort == q.HostPort && p.Protocol == q.Protocol && (p.HostIP == "" || q.HostIP == "" || p.HostIP == q.HostIP)
}

// assignPorts gives each mapping without a host port the first port of
// its HostRange, else of the ephemeral range, that no mapping of taken
// nor of ports takes and that the caller's network namespace can bind
// (nothing listens there).
func assignPorts(ports, taken []PortMapping) ([]PortMapping, error) {
	ephFirst, ephLast := ephemeralPorts()
	out := append([]PortMapping(nil), ports...)
	used := append(append([]PortMapping(nil), taken...), ports...)
	for i := range out {
		if out[i].HostPort != 0 {
			continue
		}
		first, last := ephFirst, ephLast
		if r := out[i].HostRange; r[0] != 0 {
			first, last = r[0], r[1]
		}
		for p := first; p <= last && out[i].HostPort == 0; p++ {
			m := out[i]
			m.HostPort = p
			free := bindable(m)
			for _, q := range used {
				free = free && !clash(m, q)
			}
			if free {
				out[i] = m
				used = append(used, m)
			}
		}
		if out[i].HostPort == 0 {
			return nil, fmt.Errorf("no free host port in %d-%d for %d/%s", first, last, out[i].ContainerPort, out[i].Protocol)
		}
	}
	return out, nil
}

// bindable reports whether the host port of m can be bound now.
func bindable(m PortMapping) bool { return bindPort(m) == nil }

// bindPort binds the host port of m on its host address (all of them
// when it names none), in the caller's network namespace, and lets it go
// at once: TCP listen, UDP bind.
func bindPort(m PortMapping) error {
	ip := m.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(m.HostPort))
	var err error
	if m.Protocol == "udp" {
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
		return fmt.Errorf("failed to bind port %s/%s: %w", addr, m.Protocol, err)
	}
	return nil
}
