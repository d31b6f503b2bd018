package docker

// `network connect` and `network disconnect` of a detached container. Its
// record keeps the networks it joins (Endpoints, in order: eth0, eth1,
// ...), and its bundle their hooks, so that each start joins them all. A
// running container joins or leaves at once: CNI ADD in its pinned
// network namespace with its next interface, or DEL; its poststop hook
// (network.Store.DetachGone) and rm release every network it is on, the
// connected ones too, as the sweep does (libcni's cache names them). A
// stopped container is only recorded, for its next start (Docker's).

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/minimal-docker/minimal-docker/internal/network"
	"github.com/minimal-docker/minimal-docker/internal/ondisk"
	"github.com/minimal-docker/minimal-docker/internal/spec"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// Docker's refusals (its runconfig errors).
var (
	errConflictHost   = errors.New("container cannot be disconnected from host network or connected to host network")
	errConflictNone   = errors.New("container cannot be connected to multiple networks with one of the networks in private (none) mode")
	errConflictShared = errors.New("container sharing network namespace with another container or host cannot be connected to any other network")
)

func networkConnectCmd(g *globals, st Streams) *cobra.Command {
	var aliases []string
	var ip string
	c := &cobra.Command{
		Use:   "connect [--alias A]... [--ip IP] NETWORK CONTAINER",
		Short: "Connect a container to a network (a running one at once, with its next interface; a stopped one at its next start)",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := connectNetwork(g, args[1], netValue{name: args[0], aliases: aliases, ip: ip}); err != nil {
				return networkFailed(err)
			}
			return nil
		},
	}
	c.Flags().StringArrayVar(&aliases, "alias", nil, "add a name the container is known by on the network (repeatable)")
	c.Flags().StringVar(&ip, "ip", "", "the container's IPv4 address on the network (in its subnet, not one another container holds)")
	return c
}

func networkDisconnectCmd(g *globals, st Streams) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "disconnect [-f] NETWORK CONTAINER",
		Short: "Disconnect a container from a network",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := disconnectNetwork(g, args[0], args[1], force); err != nil {
				return networkFailed(err)
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "forget the network even if it no longer exists")
	return c
}

// endpointsOf are the networks container c joins: its record's, or for
// a record without them its --network NAME.
func endpointsOf(c *store.Container) []store.Endpoint {
	if c.Endpoints != nil {
		return c.Endpoints
	}
	switch m := c.HostConfig.NetworkMode; {
	case m == "", m == "none", m == "host", strings.HasPrefix(m, "container:"), userMode(m):
		return nil
	default:
		return []store.Endpoint{{Network: m}}
	}
}

// checkConnectable refuses Docker's conflicts of network modes.
func checkConnectable(c *store.Container) error {
	switch m := c.HostConfig.NetworkMode; {
	case m == "host":
		return errConflictHost
	case m == "none" || m == "":
		return errConflictNone
	case strings.HasPrefix(m, "container:"):
		return errConflictShared
	}
	return nil
}

// checkExtraNetworks refuses the --network flags after the first that
// name no network, or an address it can't give, before anything is made.
func checkExtraNetworks(g *globals, extra []netValue) error {
	for _, v := range extra {
		if _, _, err := v.addresses(g); err != nil {
			return err
		}
	}
	return nil
}

// addresses are the IPv4 and MAC addresses v asks for (zero and nil
// when none), checked against its network (which must exist).
func (v netValue) addresses(g *globals) (ip netip.Addr, mac net.HardwareAddr, err error) {
	if _, err := g.networks().Get(v.name); err != nil {
		return ip, nil, err
	}
	if v.ip != "" {
		if ip, err = checkIP(g, v.ip, v.name); err != nil {
			return ip, nil, err
		}
	}
	if v.mac != "" {
		if mac, err = network.ParseMAC(v.mac); err != nil {
			return ip, nil, fmt.Errorf("--network name=%s,mac-address=%s: %w", v.name, v.mac, err)
		}
	}
	return ip, mac, nil
}

// connectNetwork connects container ref to network v.name, with v's
// aliases and addresses.
func connectNetwork(g *globals, ref string, v netValue) error {
	nets := g.networks()
	n, err := nets.Get(v.name)
	if err != nil {
		return err
	}
	ip, mac, err := v.addresses(g)
	if err != nil {
		return err
	}
	aliases := v.aliases
	ctrs, err := g.containers()
	if err != nil {
		return err
	}
	id, err := ctrs.Lookup(ref)
	if err != nil {
		return err
	}
	if err := sweepNetwork(g, nets, n.Name); err != nil {
		return err
	}
	withSbinInPath() // ADD runs iptables
	_, err = ctrs.Update(id, func(c *store.Container) error {
		if err := checkConnectable(c); err != nil {
			return err
		}
		eps := endpointsOf(c)
		if slices.ContainsFunc(eps, func(e store.Endpoint) bool { return e.Network == n.Name }) {
			return fmt.Errorf("endpoint with name %s already exists in network %s", strings.TrimPrefix(c.Name, "/"), n.Name)
		}
		ifName, err := nextIfName(nets, eps, c.ID)
		if err != nil {
			return err
		}
		member, err := memberOf(g, ctrs, c, n.Name, aliases)
		if err != nil {
			return err
		}
		member = withAddresses(member, ip, mac)
		if err := editBundleHooks(g, ctrs, c.ID, func(s *specs.Spec) error {
			return withNetworkOn(g, s, n, ifName, nil, member)
		}); err != nil {
			return err
		}
		if c.State.Running {
			h := hookMember{ifName: ifName}
			if err := h.parse(member); err != nil {
				return err
			}
			if _, err := networkAdd(g, n.Name, c.ID, c.State.Pid, nil, h); err != nil {
				_ = editBundleHooks(g, ctrs, c.ID, func(s *specs.Spec) error { dropNetworkHooks(s, n.Name); return nil })
				return err
			}
		}
		ep := store.Endpoint{Network: n.Name, Aliases: aliases}
		if ip.IsValid() {
			ep.IPv4Address = ip.String()
		}
		c.Endpoints = append(eps, ep)
		return nil
	})
	return err
}

func disconnectNetwork(g *globals, netRef, ref string, force bool) error {
	nets := g.networks()
	name := netRef
	n, err := nets.Get(netRef)
	switch {
	case err == nil:
		name = n.Name
	case !(force && errors.Is(err, network.ErrNotFound)):
		return err
	}
	ctrs, err := g.containers()
	if err != nil {
		return err
	}
	id, err := ctrs.Lookup(ref)
	if err != nil {
		return err
	}
	withSbinInPath() // DEL runs iptables
	_, err = ctrs.Update(id, func(c *store.Container) error {
		if c.HostConfig.NetworkMode == "host" {
			return errConflictHost
		}
		eps := endpointsOf(c)
		i := slices.IndexFunc(eps, func(e store.Endpoint) bool { return e.Network == name || n != nil && e.Network == n.ID })
		if i < 0 {
			return fmt.Errorf("container %s is not connected to network %s", c.ID, name)
		}
		if n != nil { // DEL when it is attached (a stopped one is not)
			ep, err := nets.Endpoint(n.Name, c.ID)
			if err == nil && ep != nil {
				err = nets.Detach(n.Name, c.ID)
			}
			if err != nil {
				return err
			}
		}
		if err := editBundleHooks(g, ctrs, c.ID, func(s *specs.Spec) error { dropNetworkHooks(s, name); return nil }); err != nil {
			return err
		}
		c.Endpoints = slices.Delete(slices.Clone(eps), i, i+1)
		if len(c.Endpoints) == 0 {
			c.Endpoints = []store.Endpoint{} // none left: not its --network's again
		}
		return nil
	})
	return err
}

// nextIfName is the first of eth0, eth1... that none of the container's
// networks (its record's, and its attachments) uses: eth0 is its first
// network's.
func nextIfName(nets *network.Store, eps []store.Endpoint, id string) (string, error) {
	used, err := nets.IfNames(id)
	if err != nil {
		return "", err
	}
	if len(eps) > 0 {
		used = append(used, network.IfName)
	}
	for i := 0; ; i++ {
		if name := fmt.Sprintf("eth%d", i); !slices.Contains(used, name) {
			return name, nil
		}
	}
}

// memberOf are the network hook's flags of container c's names on a
// network (etcfiles.go's at create).
func memberOf(g *globals, ctrs *store.Store, c *store.Container, netName string, aliases []string) ([]string, error) {
	var extra []network.HostEntry
	for _, v := range c.HostConfig.ExtraHosts {
		e, err := network.ParseAddHost(v)
		if err != nil {
			return nil, err
		}
		if e.IP == network.HostGateway {
			gwNet := netName
			if eps := endpointsOf(c); len(eps) > 0 {
				gwNet = eps[0].Network
			}
			n, err := g.networks().Get(gwNet)
			if err != nil {
				return nil, err
			}
			e.IP = n.Gateway.String()
		}
		extra = append(extra, e)
	}
	return memberArgs(filepath.Join(ctrs.Dir(c.ID), "hosts"), c.Config.Hostname, c.Config.Domainname, aliases, extra), nil
}

// memberArgs are the network hook's flags of a container's names: its
// hosts file, hostname and domain name (when it has one), aliases (its
// hostname among them unless it is the default every container has) and
// --add-host lines.
func memberArgs(hosts, hostname, domainname string, aliases []string, extra []network.HostEntry) []string {
	args := []string{"--hosts", hosts, "--hostname", hostname}
	if domainname != "" {
		args = append(args, "--domainname", domainname)
	}
	names := aliases
	if hostname != spec.DefaultHostname {
		names = append(slices.Clone(names), hostname)
	}
	for _, a := range names {
		args = append(args, "--alias", a)
	}
	for _, x := range extra {
		args = append(args, "--add-host", x.Names[0]+"="+x.IP)
	}
	return args
}

// parse reads memberArgs back (for an ADD run here rather than by the
// hook).
func (h *hookMember) parse(args []string) error {
	var parsed hookMember
	fl := pflag.NewFlagSet("network hook", pflag.ContinueOnError)
	parsed.register(fl)
	if err := fl.Parse(args); err != nil {
		return fmt.Errorf("network hook flags: %w", err)
	}
	parsed.ifName = h.ifName
	*h = parsed
	return nil
}

// editBundleHooks changes the config.json of container id's bundle.
func editBundleHooks(g *globals, ctrs *store.Store, id string, edit func(*specs.Spec) error) error {
	p := filepath.Join(ctrs.Dir(id), "bundle", "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("bundle %s: %w", p, err)
	}
	if err := edit(&s); err != nil {
		return err
	}
	if b, err = spec.MarshalIndent(&s); err != nil {
		return fmt.Errorf("bundle %s: %w", p, err)
	}
	if err := ondisk.WriteFile(p, b, 0o600, ondisk.Durable); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}

// isNetworkHook reports whether h is our network hook on network name.
func isNetworkHook(h specs.Hook, name string) bool {
	n := len(h.Args)
	return n >= 4 && h.Args[n-1] == name && slices.Contains(h.Args, "hook") && slices.Contains(h.Args, "network")
}

// dropNetworkHooks removes network name's hooks from s.
func dropNetworkHooks(s *specs.Spec, name string) {
	if s.Hooks == nil {
		return
	}
	drop := func(h specs.Hook) bool { return isNetworkHook(h, name) }
	s.Hooks.CreateRuntime = slices.DeleteFunc(s.Hooks.CreateRuntime, drop)
	s.Hooks.Poststop = slices.DeleteFunc(s.Hooks.Poststop, drop)
}
