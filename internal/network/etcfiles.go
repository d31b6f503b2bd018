package network

// The three files of a container's /etc that say who it is and how it
// finds names, as Docker writes them: /etc/hosts, /etc/hostname and
// /etc/resolv.conf. The runtime bind-mounts them from the container's
// directory; these functions only build their text.

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// defaultHosts are the lines every container's /etc/hosts starts with
// (Docker's).
const defaultHosts = "127.0.0.1\tlocalhost\n" +
	"::1\tlocalhost ip6-localhost ip6-loopback\n" +
	"fe00::0\tip6-localnet\n" +
	"ff00::0\tip6-mcastprefix\n" +
	"ff02::1\tip6-allnodes\n" +
	"ff02::2\tip6-allrouters\n"

// HostEntry is one line of a hosts file: an address and its names.
type HostEntry struct {
	IP    string   `json:"ip"`
	Names []string `json:"names"`
}

// Hosts is a container's /etc/hosts, in Docker's order: the base (its
// defaults, or the host's own file with --network host), the --add-host
// entries, the container's own addresses with its hostname; then, on a
// user-defined network, the other containers there (what Docker's
// embedded DNS server answers).
type Hosts struct {
	Base   []byte // nil: Docker's defaults
	Extra  []HostEntry
	Own    []HostEntry
	Others []HostEntry
}

// Bytes is the file's text.
func (h Hosts) Bytes() []byte {
	var b bytes.Buffer
	if h.Base == nil {
		b.WriteString(defaultHosts)
	} else {
		b.Write(h.Base)
		if len(h.Base) > 0 && h.Base[len(h.Base)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	for _, group := range [][]HostEntry{h.Extra, h.Own, h.Others} {
		for _, e := range group {
			fmt.Fprintf(&b, "%s\t%s\n", e.IP, strings.Join(e.Names, " "))
		}
	}
	return b.Bytes()
}

// HostGateway is --add-host's special address: the gateway of the
// container's network (Docker's: the host as the containers see it).
const HostGateway = "host-gateway"

// ParseAddHost reads --add-host NAME:IP (or NAME=IP, Docker's newer
// form; an IPv6 address may be in brackets), IP possibly host-gateway.
func ParseAddHost(v string) (HostEntry, error) {
	name, ip, ok := strings.Cut(v, "=")
	if !ok {
		name, ip, ok = strings.Cut(v, ":")
	}
	if !ok || name == "" || ip == "" || strings.ContainsAny(name, " \t") {
		return HostEntry{}, fmt.Errorf("invalid --add-host %q: want NAME:IP (or NAME:host-gateway)", v)
	}
	if ip != HostGateway {
		a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"))
		if err != nil {
			return HostEntry{}, fmt.Errorf("invalid --add-host %q: invalid IP address %q", v, ip)
		}
		ip = a.String()
	}
	return HostEntry{IP: ip, Names: []string{name}}, nil
}

// DNS are the --dns, --dns-search and --dns-option flags: each, when
// given, replaces the host's.
type DNS struct {
	Servers []string
	Search  []string // "." alone: no search domains
	Options []string
}

// Check refuses a --dns that is not an IP address, and a
// --dns-search that is not a domain (Docker's checks).
func (d DNS) Check() error {
	for _, s := range d.Servers {
		if _, err := netip.ParseAddr(s); err != nil {
			return fmt.Errorf("invalid --dns %q: not an IP address", s)
		}
	}
	for _, s := range d.Search {
		if s == "." {
			continue
		}
		if s == "" || len(s) > 255 || strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") || strings.ContainsAny(s, " \t/") {
			return fmt.Errorf("invalid --dns-search %q: not a domain name", s)
		}
	}
	return nil
}

func (d DNS) empty() bool { return len(d.Servers)+len(d.Search)+len(d.Options) == 0 }

// DefaultNameservers are Docker's when the host has none a container can
// reach (Google's public servers).
var DefaultNameservers = []string{"8.8.8.8", "8.8.4.4"}

// nameserver is the address of a resolv.conf line "nameserver ADDR"
// ("" for any other line).
func nameserver(line string) string {
	if f := strings.Fields(line); len(f) >= 2 && f[0] == "nameserver" {
		return f[1]
	}
	return ""
}

// hostResolv is what a host's resolv.conf says.
type hostResolv struct {
	servers []string
	search  []string
	options []string
}

func parseResolv(host []byte) hostResolv {
	var r hostResolv
	for _, line := range strings.Split(string(host), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			r.servers = append(r.servers, f[1])
		case "search", "domain": // the last one wins, as the resolver's
			r.search = f[1:]
		case "options":
			r.options = append(r.options, f[1:]...)
		}
	}
	return r
}

// unreachable reports whether a host's name server is one a container
// with its own network namespace cannot reach: a loopback address (the
// host's own, systemd-resolved's 127.0.0.53), or IPv6 (the containers
// have none). Docker drops the same.
func unreachable(server string) bool {
	a, err := netip.ParseAddr(server)
	return err != nil || a.IsLoopback() || (a.Is6() && !a.Is4In6())
}

// ResolvConf is a container's /etc/resolv.conf from the host's (host):
// with the host's network (hostNet) the host's as is; else without the
// name servers it cannot reach, and Docker's defaults (8.8.8.8, 8.8.4.4)
// when none is left. --dns, --dns-search and --dns-option each replace
// the host's servers, search domains and options.
func ResolvConf(host []byte, d DNS, hostNet bool) []byte {
	if d.empty() {
		if hostNet {
			return host
		}
		var b bytes.Buffer
		kept := 0
		for _, line := range strings.SplitAfter(string(host), "\n") {
			if ns := nameserver(line); ns != "" {
				if unreachable(ns) {
					continue
				}
				kept++
			}
			b.WriteString(line)
		}
		if b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
			b.WriteByte('\n')
		}
		if kept == 0 {
			for _, s := range DefaultNameservers {
				fmt.Fprintf(&b, "nameserver %s\n", s)
			}
		}
		return b.Bytes()
	}
	r := parseResolv(host)
	servers := d.Servers
	if len(servers) == 0 {
		for _, s := range r.servers {
			if hostNet || !unreachable(s) {
				servers = append(servers, s)
			}
		}
		if len(servers) == 0 {
			servers = DefaultNameservers
		}
	}
	search := r.search
	if len(d.Search) > 0 {
		search = d.Search
		if slices.Equal(search, []string{"."}) {
			search = nil
		}
	}
	options := r.options
	if len(d.Options) > 0 {
		options = d.Options
	}
	var b bytes.Buffer
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	if len(options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(options, " "))
	}
	return b.Bytes()
}

// OnlyResolved reports whether a host's resolv.conf names only
// systemd-resolved's stub (127.0.0.53): Docker then reads the real
// servers from /run/systemd/resolve/resolv.conf.
func OnlyResolved(host []byte) bool {
	r := parseResolv(host)
	return len(r.servers) > 0 && !slices.ContainsFunc(r.servers, func(s string) bool { return s != "127.0.0.53" })
}
