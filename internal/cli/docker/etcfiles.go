package docker

// A container's /etc/hosts, /etc/hostname and /etc/resolv.conf, as
// Docker makes them (internal/network/etcfiles.go builds the text): files
// of the container's own directory (a detached container's
// --root/containers/ID, a foreground run's --root/writable/ID), which the
// runtime bind-mounts over the rootfs's (making the mount points when the
// rootfs has none, as runc does) and which go with the container. On a
// user-defined network the network hook keeps the hosts file current
// with the other containers there (network.Member).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/pflag"

	"github.com/minimal-docker/minimal-docker/internal/network"
)

// dnsFlags are run's flags of names and name servers.
type dnsFlags struct {
	dns        []string
	dnsSearch  []string
	dnsOptions []string
	addHosts   []string
	aliases    []string
}

func (d *dnsFlags) register(fl *pflag.FlagSet) {
	fl.StringArrayVar(&d.dns, "dns", nil, "set a custom DNS server (repeatable; default: the host's, without loopback ones, else 8.8.8.8 and 8.8.4.4)")
	fl.StringArrayVar(&d.dnsSearch, "dns-search", nil, `set a custom DNS search domain ("." for none) (repeatable)`)
	fl.StringArrayVar(&d.dnsOptions, "dns-option", nil, "set a DNS option of resolv.conf (repeatable)")
	fl.StringArrayVar(&d.addHosts, "add-host", nil, "add a line to /etc/hosts: NAME:IP, or NAME:host-gateway for the network's gateway (repeatable)")
	fl.StringArrayVar(&d.aliases, "network-alias", nil, "add a name the container is known by on its network (--network NAME) (repeatable)")
}

// The files, in the container's directory and in the container.
var etcNames = []struct{ file, target string }{
	{"hosts", "/etc/hosts"},
	{"hostname", "/etc/hostname"},
	{"resolv.conf", "/etc/resolv.conf"},
}

// Where Docker reads the host's name servers from: /etc/resolv.conf, or
// systemd-resolved's list of the real ones when that names only its
// stub.
const (
	hostResolvConf     = "/etc/resolv.conf"
	resolvedResolvConf = "/run/systemd/resolve/resolv.conf"
	hostHosts          = "/etc/hosts"
)

// etcFiles are a container's three files, to be written in dir.
type etcFiles struct {
	dir                     string
	hosts, hostname, resolv []byte
	// member are the network hook's flags that make the container a
	// member of its network's names (hookMember).
	member []string
	// memberFor is member with other aliases: the container's on another
	// network (a foreground run's --network after the first).
	memberFor func(aliases []string) []string
	// shared: dir is another container's (container:NAME), whose files
	// these are: write leaves them alone.
	shared bool
}

// etcFiles builds the container's files for directory dir from the flags.
func (f *runFlags) etcFiles(g *globals, dir, hostname, domainname string) (*etcFiles, error) {
	d := network.DNS{Servers: f.names.dns, Search: f.names.dnsSearch, Options: f.names.dnsOptions}
	if err := d.Check(); err != nil {
		return nil, err
	}
	hostNet := f.network == "host"
	userNet := bridged(f.network)
	if strings.HasPrefix(f.network, containerMode) {
		// Docker's: the other container's files, and no flag of them.
		switch {
		case len(f.names.dns) > 0 || len(f.names.dnsSearch) > 0 || len(f.names.dnsOptions) > 0:
			return nil, errors.New("conflicting options: dns and the network mode")
		case len(f.names.addHosts) > 0:
			return nil, errors.New("conflicting options: custom host-to-IP mapping and the network mode")
		case len(f.names.aliases) > 0:
			return nil, errors.New("conflicting options: network-scoped aliases and the network mode")
		}
		if f.net.shareEtc != "" {
			return &etcFiles{dir: f.net.shareEtc, shared: true}, nil
		}
	}
	if len(f.names.aliases) > 0 && !userNet {
		return nil, fmt.Errorf("--network-alias: network-scoped aliases are only supported for user-defined networks (not %q)", f.network)
	}
	var extra []network.HostEntry
	for _, v := range f.names.addHosts {
		e, err := network.ParseAddHost(v)
		if err != nil {
			return nil, err
		}
		if e.IP == network.HostGateway {
			if !userNet {
				return nil, fmt.Errorf("invalid --add-host %q: host-gateway is the gateway of the container's network: needs --network NAME (not %q)", v, f.network)
			}
			n, err := g.networks().Get(f.network)
			if err != nil {
				return nil, err
			}
			e.IP = n.Gateway.String()
		}
		extra = append(extra, e)
	}
	hosts := network.Hosts{Extra: extra}
	if hostNet { // Docker's: the host's own file
		b, err := os.ReadFile(hostHosts)
		if err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("--network host: %w", err)
		}
		hosts.Base = b
		if hosts.Base == nil {
			hosts.Base = []byte{}
		}
	}
	resolv, err := os.ReadFile(hostResolvConf)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("resolv.conf: %w", err)
	}
	if !hostNet && network.OnlyResolved(resolv) {
		if b, err := os.ReadFile(resolvedResolvConf); err == nil {
			resolv = b
		}
	}
	e := &etcFiles{
		dir:      dir,
		hosts:    hosts.Bytes(),
		hostname: []byte(hostname + "\n"),
		resolv:   network.ResolvConf(resolv, d, hostNet),
	}
	if userNet {
		e.memberFor = func(aliases []string) []string {
			return memberArgs(e.path("hosts"), hostname, domainname, aliases, extra)
		}
		e.member = e.memberFor(f.names.aliases)
	}
	return e, nil
}

func (e *etcFiles) path(name string) string { return filepath.Join(e.dir, name) }

// mounts are the bind mounts of the files, read-only with a read-only
// root (Docker's); none over a path a volume or bind mount of the user
// takes.
func (e *etcFiles) mounts(taken []specs.Mount, readOnly bool) []specs.Mount {
	var out []specs.Mount
	for _, n := range etcNames {
		if slices.ContainsFunc(taken, func(m specs.Mount) bool { return filepath.Clean(m.Destination) == n.target }) {
			continue
		}
		opts := []string{"rbind", "rprivate"}
		if readOnly {
			opts = append(opts, "ro")
		}
		out = append(out, specs.Mount{Destination: n.target, Type: "bind", Source: e.path(n.file), Options: opts})
	}
	return out
}

// write writes the files in their directory, which exists.
func (e *etcFiles) write() error {
	if e.shared {
		return nil
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"hosts", e.hosts}, {"hostname", e.hostname}, {"resolv.conf", e.resolv}} {
		if err := os.WriteFile(e.path(f.name), f.b, 0o644); err != nil {
			return fmt.Errorf("container's /etc/%s: %w", f.name, err)
		}
	}
	return nil
}

// hookMember are the network hook's flags of the container's place on
// the network: its interface, its names, and the address it asks for.
type hookMember struct {
	ifName   string
	hosts    string
	hostname string
	domain   string // --domainname: the container's NIS domain name
	aliases  []string
	addHosts []string
	ip       string // --ip: the address asked for
	mac      string // --mac-address: the interface's MAC address asked for
}

func (h *hookMember) register(fl *pflag.FlagSet) {
	fl.StringVar(&h.ip, "ip", "", "the container's address on the network (add)")
	fl.StringVar(&h.mac, "mac-address", "", "the container's interface's MAC address (add)")
	fl.StringVar(&h.ifName, "ifname", network.IfName, "the container's interface (add)")
	fl.StringVar(&h.hosts, "hosts", "", "the container's hosts file, kept current with the network's containers (add)")
	fl.StringVar(&h.hostname, "hostname", "", "the container's hostname (add)")
	fl.StringVar(&h.domain, "domainname", "", "the container's NIS domain name (add)")
	fl.StringArrayVar(&h.aliases, "alias", nil, "a name of the container on the network (add)")
	fl.StringArrayVar(&h.addHosts, "add-host", nil, "a line of the container's hosts file, NAME=IP (add)")
}

// member is the container's place in its network's names: its name (a
// detached container's, from its record), its aliases and short ID.
func (h *hookMember) member(g *globals, id string) (*network.Member, error) {
	if h.hosts == "" {
		return nil, nil
	}
	m := &network.Member{Hosts: h.hosts, Hostname: h.hostname, Domainname: h.domain}
	if ctrs, err := g.containers(); err == nil && ctrs.Has(id) {
		if c, err := ctrs.Get(id); err == nil {
			m.Names = append(m.Names, strings.TrimPrefix(c.Name, "/"))
		}
	}
	m.Names = append(m.Names, h.aliases...)
	m.Names = append(m.Names, id[:min(12, len(id))])
	for _, v := range h.addHosts {
		e, err := network.ParseAddHost(v)
		if err != nil {
			return nil, err
		}
		m.Extra = append(m.Extra, e)
	}
	return m, nil
}
