package docker

// `network create|ls|inspect|rm|prune`: Docker's verbs for user-defined
// bridge networks under --root/networks (internal/network: a CNI conflist
// each), and --network NAME on run, run -d and create. The container is
// attached (CNI ADD) between its init's clone and its exec, and detached
// (CNI DEL with the cached result) on every exit path once it is gone —
// by the runtime, which for the two front doors is a different process:
//
//	run -d, create  the container's config gets two OCI hooks that call
//	                back into this binary (`network hook add|del NAME`,
//	                hidden), which minimal-runc under the container's
//	                monitor runs: createRuntime (ADD, in the runtime's
//	                namespaces between the init's clone and its
//	                pivot_root; the init's pid in the state on stdin
//	                names its network namespace) and poststop (DEL: a
//	                create that failed, and minimal-runc delete, which the
//	                monitor runs at each end of the container, restarts
//	                included: a restart gets its address again from ADD).
//	                The hooks make a bundle of ours self-describing;
//	                their errors exit 1, as Docker's CLI.
//	run             this process is the runtime (container.Run): it runs
//	                the same ADD and DEL itself (runNetwork, as
//	                container.Options.Network: ADD beside the init's
//	                setup, DEL beside the teardown), without the two
//	                starts of this binary that hooks would cost.
//
// A foreground run killed (-9) leaves its attachment; the next command
// on the network releases it (sweepNetwork).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/network"
	"github.com/minimal-docker/minimal-docker/internal/spec"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// networksDir is the networks' directory under --root.
const networksDir = "networks"

func (g *globals) networks() *network.Store {
	return network.Open(filepath.Join(g.imageRoot, networksDir))
}

func newNetworkCmd(g *globals, st Streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "network",
		Short: "Manage networks",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(networkCreateCmd(g, st), networkLsCmd(g, st), networkInspectCmd(g, st),
		networkRmCmd(g, st), networkPruneCmd(g, st), networkHookCmd(g, st),
		networkConnectCmd(g, st), networkDisconnectCmd(g, st))
	return c
}

// networkFailed is the error of a network verb: Docker's daemon's prefix,
// exit 1.
func networkFailed(err error) error {
	return dockerError(fmt.Errorf("Error response from daemon: %w", err))
}

func networkCreateCmd(g *globals, st Streams) *cobra.Command {
	var subnet, gateway, ipRange, driver string
	var internal bool
	var opts, labels, aux []string
	c := &cobra.Command{
		Use:   "create [--subnet CIDR [--gateway IP] [--ip-range CIDR] [--aux-address NAME=IP]...] [--internal] [-o KEY=VALUE]... [--label K=V]... NAME",
		Short: "Create a bridge network (a free subnet is chosen when none is given); prints its ID",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			r := network.Request{Name: args[0], Internal: internal}
			var err error
			if r.Labels, err = parseLabels(labels); err != nil {
				return networkFailed(err)
			}
			if driver != "bridge" {
				return networkFailed(fmt.Errorf("invalid --driver %q: only bridge for now", driver))
			}
			for _, o := range opts {
				if err := parseNetworkOpt(&r, o); err != nil {
					return networkFailed(err)
				}
			}
			if subnet != "" {
				p, err := netip.ParsePrefix(subnet)
				if err != nil {
					return networkFailed(fmt.Errorf("invalid --subnet %q: want an IPv4 CIDR such as 10.10.0.0/24", subnet))
				}
				r.Subnet = p
			}
			if gateway != "" {
				if subnet == "" {
					return networkFailed(errors.New("invalid --gateway: only with --subnet"))
				}
				a, err := netip.ParseAddr(gateway)
				if err != nil {
					return networkFailed(fmt.Errorf("invalid --gateway %q: want an IPv4 address", gateway))
				}
				r.Gateway = a
			}
			if err := parsePool(&r, subnet != "", ipRange, aux); err != nil {
				return networkFailed(err)
			}
			n, err := g.networks().Create(r)
			if err != nil {
				return networkFailed(err)
			}
			fmt.Fprintln(st.Out, n.ID)
			return nil
		},
	}
	c.Flags().StringVar(&subnet, "subnet", "", "subnet in CIDR format (default: a free one of 172.18.0.0/16-172.31.0.0/16, 192.168.0.0/20-192.168.240.0/20)")
	c.Flags().StringVar(&gateway, "gateway", "", "the bridge's address, in the subnet (default: its first address)")
	c.Flags().StringVar(&ipRange, "ip-range", "", "allocate the containers' addresses from this range of the subnet, in CIDR format (--ip may still ask for any address of the subnet)")
	c.Flags().StringArrayVar(&aux, "aux-address", nil, "an address of the subnet no container gets, NAME=IP (repeatable)")
	c.Flags().BoolVar(&internal, "internal", false, "no default route nor masquerade out of the network")
	c.Flags().StringVarP(&driver, "driver", "d", "bridge", "driver: bridge (the only one)")
	c.Flags().StringArrayVar(&labels, "label", nil, "set a label KEY=VALUE on the network (repeatable)")
	c.Flags().StringArrayVarP(&opts, "opt", "o", nil, "a driver option: "+mtuOpt+"=N (the bridge's and veths' MTU, 68 to 65535; default 1500), "+bridgeNameOpt+"=NAME (the bridge device's name; default br- and the ID's first 12 digits), "+masqueradeOpt+"=false (no masquerade of the containers' traffic out of the network), "+iccOpt+"=false (the network's containers can't reach each other; needs br_netfilter)")
	return c
}

// parsePool reads network create's --ip-range and --aux-address into r,
// both only with --subnet (Docker's rule).
func parsePool(r *network.Request, haveSubnet bool, ipRange string, aux []string) error {
	if ipRange != "" {
		if !haveSubnet {
			return errors.New("invalid --ip-range: every ip-range or gateway must have a corresponding subnet (--subnet)")
		}
		p, err := netip.ParsePrefix(ipRange)
		if err != nil || !p.Addr().Is4() {
			return fmt.Errorf("invalid --ip-range %q: want an IPv4 CIDR such as 10.10.0.128/25", ipRange)
		}
		r.IPRange = p
	}
	for _, v := range aux {
		name, addr, ok := strings.Cut(v, "=")
		a, err := netip.ParseAddr(addr)
		switch {
		case !ok || name == "" || err != nil || !a.Is4():
			return fmt.Errorf("invalid --aux-address %q: want NAME=IP, an IPv4 address", v)
		case !haveSubnet:
			return fmt.Errorf("invalid --aux-address %q: no matching subnet (--subnet)", v)
		}
		if r.AuxAddresses == nil {
			r.AuxAddresses = map[string]netip.Addr{}
		}
		r.AuxAddresses[name] = a
	}
	return nil
}

// Docker's bridge driver options that network create takes (-o).
const (
	mtuOpt        = "com.docker.network.driver.mtu"                  // the bridge's and veths' MTU
	bridgeNameOpt = "com.docker.network.bridge.name"                 // the bridge device's name
	masqueradeOpt = "com.docker.network.bridge.enable_ip_masquerade" // false: no masquerade out
	iccOpt        = "com.docker.network.bridge.enable_icc"           // false: containers kept apart
	gwModeOpt     = "com.docker.network.bridge.gateway_mode_ipv4"    // nat-unprotected: containers' addresses reachable
)

// parseNetworkOpt reads a network create -o KEY=VALUE into r: one of
// Docker's bridge driver options we have (the others are refused,
// naming those).
func parseNetworkOpt(r *network.Request, o string) error {
	key, value, _ := strings.Cut(o, "=")
	switch key {
	case mtuOpt:
		mtu, err := strconv.Atoi(value)
		if err != nil || mtu < 68 || mtu > 65535 {
			return fmt.Errorf("invalid %s %q: want a number from 68 to 65535", mtuOpt, value)
		}
		r.MTU = mtu
	case bridgeNameOpt:
		if value == "" {
			return fmt.Errorf("invalid %s: empty", bridgeNameOpt)
		}
		r.BridgeName = value // the rest is the store's to check (checkBridgeName)
	case masqueradeOpt, iccOpt:
		on, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("invalid %s %q: want true or false", key, value)
		}
		if key == iccOpt {
			r.NoICC = !on
		} else {
			r.NoMasquerade = !on
		}
	case gwModeOpt:
		switch value {
		case "nat", "nat-unprotected":
			r.Unprotected = value == "nat-unprotected"
		default:
			return fmt.Errorf("invalid %s %q: want nat or nat-unprotected (routed and isolated are not done)", gwModeOpt, value)
		}
	default:
		return fmt.Errorf("invalid option %q: only %s=N, %s=NAME, %s=true|false, %s=true|false and %s=nat|nat-unprotected for now", o, mtuOpt, bridgeNameOpt, masqueradeOpt, iccOpt, gwModeOpt)
	}
	return nil
}

func networkLsCmd(g *globals, st Streams) *cobra.Command {
	var quiet, noTrunc bool
	var format string
	var filterFlags []string
	c := &cobra.Command{
		Use:     "ls [-q] [--no-trunc] [-f KEY=VALUE]... [--format FORMAT]",
		Aliases: []string{"list"},
		Short:   "List the networks: bridge, host, none and those of network create",
		Args:    cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			filter, err := parseNetworkFilters(filterFlags)
			if err != nil {
				return networkFailed(err)
			}
			rows, err := networkRows(g.networks(), noTrunc)
			if err == nil && filter["dangling"] != nil {
				err = markInUse(g, rows)
			}
			if err != nil {
				return networkFailed(err)
			}
			rows = slices.DeleteFunc(rows, func(r networkRow) bool { return !networkKeeps(filter, r) })
			switch {
			case quiet:
				format = "{{.ID}}"
			case format == "":
				format = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
			}
			if err := writeList(st.Out, format, format, networkHeaders, rows); err != nil {
				return networkFailed(err)
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "only display network IDs")
	c.Flags().BoolVar(&noTrunc, "no-trunc", false, "do not truncate the output")
	c.Flags().StringArrayVarP(&filterFlags, "filter", "f", nil, "filter output based on conditions provided ("+strings.Join(networkFilterKeys, "=, ")+"=)")
	c.Flags().StringVar(&format, "format", "", `format the output: a Go template ("{{.Name}}"), "table TEMPLATE" or "json"`)
	return c
}

// networkRow is a line of network ls: the fields a --format template
// sees, by Docker's names (alphabetical, so that "json" prints them in
// Docker's order).
type networkRow struct {
	CreatedAt string
	Driver    string
	ID        string
	IPv6      string
	Internal  string
	Labels    string
	Name      string
	Scope     string

	labels map[string]string
	fullID string
	custom bool // a network of network create (type=custom)
	inUse  bool // a container uses it (markInUse: only for dangling=)
}

// markInUse marks the rows of the networks of network create that a
// container uses, as network rm and prune count them: one attached to
// it (a cached ADD result) or recorded on it (created or stopped ones
// too).
func markInUse(g *globals, rows []networkRow) error {
	nets := g.networks()
	for i, r := range rows {
		if !r.custom {
			continue
		}
		attached, err := nets.Attached(r.Name)
		if err != nil {
			return err
		}
		users, err := networkUsers(g, &network.Network{Name: r.Name, ID: r.fullID})
		if err != nil {
			return err
		}
		rows[i].inUse = len(attached)+len(users) > 0
	}
	return nil
}

// Label is the value of label k ("" without it), as Docker's {{.Label "k"}}.
func (r networkRow) Label(k string) string { return r.labels[k] }

// networkHeaders is a table's header line: each field's column name.
var networkHeaders = listHeader{
	"CreatedAt": "CREATED AT", "Driver": "DRIVER", "ID": "NETWORK ID", "IPv6": "IPV6",
	"Internal": "INTERNAL", "Labels": "LABELS", "Name": "NAME", "Scope": "SCOPE",
}

// networkRows are the networks as network ls lists them, by name (Docker
// sorts them so): the networks of network create, and the predefined
// ones (the default bridge made if it is not yet); IDs of 12 digits
// unless noTrunc.
func networkRows(nets *network.Store, noTrunc bool) ([]networkRow, error) {
	if _, err := nets.Default(); err != nil {
		return nil, err
	}
	all, err := nets.List()
	if err != nil {
		return nil, err
	}
	row := func(id, name, driver string) networkRow {
		r := networkRow{ID: id, Name: name, Driver: driver, Scope: "local", IPv6: "false", Internal: "false", fullID: id}
		if !noTrunc {
			r.ID = id[:12]
		}
		return r
	}
	var rows []networkRow
	for _, n := range all {
		r := row(n.ID, n.Name, "bridge")
		r.CreatedAt = n.Created.String()
		r.Internal = strconv.FormatBool(n.Internal)
		r.labels, r.Labels = n.Labels, labelList(n.Labels)
		r.custom = n.Name != network.DefaultName
		rows = append(rows, r)
	}
	for _, p := range network.Predefined {
		if p.Name != network.DefaultName {
			rows = append(rows, row(network.PredefinedID(p.Name), p.Name, p.Driver))
		}
	}
	slices.SortFunc(rows, func(a, b networkRow) int { return strings.Compare(a.Name, b.Name) })
	return rows, nil
}

// labelList is labels as Docker's list columns (ps, network ls) print
// them: k=v,... sorted.
func labelList(labels map[string]string) string {
	var l []string
	for k, v := range labels {
		l = append(l, k+"="+v)
	}
	slices.Sort(l)
	return strings.Join(l, ",")
}

// networkFilterKeys are the filters network ls knows (Docker's names).
var networkFilterKeys = []string{"dangling", "driver", "id", "label", "name", "scope", "type"}

// parseNetworkFilters parses network ls's --filter KEY=VALUE flags.
func parseNetworkFilters(flags []string) (filters, error) {
	return parseFilters(flags, func(key, value string) error {
		switch {
		case key == "type" && value != "custom" && value != "builtin":
			return fmt.Errorf("invalid filter: 'type'='%s' (want custom or builtin)", value)
		case key == "dangling" && !slices.Contains([]string{"true", "false", "1", "0"}, value):
			return fmt.Errorf("invalid filter: 'dangling'='%s' (want true, false, 1 or 0)", value)
		case !slices.Contains(networkFilterKeys, key):
			return fmt.Errorf("invalid filter '%s' (minimal-docker's network ls filters on %s)", key, strings.Join(networkFilterKeys, ", "))
		}
		return nil
	})
}

// networkKeeps reports whether r passes network ls's filter
// (filters.match; name and id: a regular expression found in it).
func networkKeeps(filter filters, r networkRow) bool {
	return filter.match(map[string]func(string) bool{
		"driver": func(v string) bool { return r.Driver == v },
		"id":     func(v string) bool { return matches(v, r.fullID) },
		"name":   func(v string) bool { return matches(v, r.Name) },
		"scope":  func(v string) bool { return r.Scope == v },
		"type":   func(v string) bool { return r.custom == (v == "custom") },
		"label":  func(v string) bool { return labelMatches(r.labels, v) },
		// Docker's: a network of network create that no container uses;
		// the predefined ones are never dangling.
		"dangling": func(v string) bool { return (r.custom && !r.inUse) == (v == "true" || v == "1") },
	})
}

// inspectedNetwork is `network inspect`'s object, with Docker's fields.
type inspectedNetwork struct {
	Name       string
	Id         string
	Created    time.Time
	Scope      string
	Driver     string
	EnableIPv6 bool
	IPAM       struct {
		Driver  string
		Options map[string]string
		Config  []ipamConfig
	}
	Internal   bool
	Attachable bool
	Ingress    bool
	ConfigFrom struct{ Network string }
	ConfigOnly bool
	Containers map[string]networkEndpoint
	Options    map[string]string
	Labels     map[string]string
}

// ipamConfig is Docker's IPAM.Config entry.
type ipamConfig struct {
	Subnet             string
	IPRange            string `json:",omitempty"`
	Gateway            string
	AuxiliaryAddresses map[string]string `json:",omitempty"`
}

type networkEndpoint struct {
	Name        string
	EndpointID  string
	MacAddress  string
	IPv4Address string
	IPv6Address string
}

func networkInspectCmd(g *globals, st Streams) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "inspect [-f TEMPLATE] NETWORK [NETWORK...]",
		Short: "Display detailed information on one or more networks",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return inspectNetworks(g, st, args, format)
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "", "format the output using the given Go template")
	return c
}

func inspectNetworks(g *globals, st Streams, args []string, format string) error {
	nets := g.networks()
	ctrs, err := g.containers()
	if err != nil {
		return dockerError(err)
	}
	out := []any{}
	failed := false
	for _, ref := range args {
		if ref == "host" || ref == "none" || ref == network.PredefinedID("host") || ref == network.PredefinedID("none") {
			obj, err := inspectModeNetwork(g, nets, ref)
			if err != nil {
				return dockerError(err)
			}
			out = append(out, obj)
			continue
		}
		n, err := nets.Get(ref)
		if err != nil {
			fmt.Fprintf(st.Err, "Error: %v\n", err)
			failed = true
			continue
		}
		if err := sweepNetwork(g, nets, n.Name); err != nil {
			return dockerError(err)
		}
		obj, err := inspectNetwork(nets, ctrs, n)
		if err != nil {
			return dockerError(err)
		}
		out = append(out, obj)
	}
	if err := printInspected(st.Out, out, format); err != nil {
		return dockerError(err)
	}
	if failed {
		return exitOne
	}
	return nil
}

func inspectNetwork(nets *network.Store, ctrs *store.Store, n *network.Network) (*inspectedNetwork, error) {
	o := &inspectedNetwork{Name: n.Name, Id: n.ID, Created: n.Created, Scope: "local", Driver: "bridge",
		Internal: n.Internal, Containers: map[string]networkEndpoint{}, Options: map[string]string{}, Labels: map[string]string{}}
	maps.Copy(o.Labels, n.Labels)
	o.IPAM.Driver, o.IPAM.Options = "default", map[string]string{}
	cfg := ipamConfig{Subnet: n.Subnet.String(), Gateway: n.Gateway.String(), AuxiliaryAddresses: n.AuxStrings()}
	if n.IPRange.IsValid() {
		cfg.IPRange = n.IPRange.String()
	}
	o.IPAM.Config = []ipamConfig{cfg}
	if n.Name == network.DefaultName { // Docker's options of its default bridge
		o.Options = map[string]string{
			"com.docker.network.bridge.default_bridge":       "true",
			"com.docker.network.bridge.enable_ip_masquerade": "true",
			"com.docker.network.bridge.name":                 n.Bridge(),
		}
	}
	if n.MTU != 0 {
		o.Options[mtuOpt] = strconv.Itoa(n.MTU)
	}
	if n.BridgeName != "" {
		o.Options[bridgeNameOpt] = n.BridgeName
	}
	if n.NoMasquerade {
		o.Options[masqueradeOpt] = "false"
	}
	if n.NoICC {
		o.Options[iccOpt] = "false"
	}
	if n.Unprotected {
		o.Options[gwModeOpt] = "nat-unprotected"
	}
	ids, err := nets.Attached(n.Name)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		ep, err := nets.Endpoint(n.Name, id)
		if err != nil || ep == nil {
			continue // detached meanwhile
		}
		e := networkEndpoint{MacAddress: ep.MAC, IPv4Address: ep.Address.String()}
		if c, err := ctrs.Get(id); err == nil {
			e.Name = strings.TrimPrefix(c.Name, "/")
		}
		o.Containers[id] = e
	}
	return o, nil
}

// inspectModeNetwork is network inspect's object of network host or none
// (ref: the name or the ID): no address management, no bridge, the
// containers in that mode (from their records) without addresses.
func inspectModeNetwork(g *globals, nets *network.Store, ref string) (*inspectedNetwork, error) {
	name, driver := "host", "host"
	if ref == "none" || ref == network.PredefinedID("none") {
		name, driver = "none", "null"
	}
	def, err := nets.Default() // its creation time is the store's
	if err != nil {
		return nil, err
	}
	o := &inspectedNetwork{Name: name, Id: network.PredefinedID(name), Created: def.Created, Scope: "local", Driver: driver,
		Containers: map[string]networkEndpoint{}, Options: map[string]string{}, Labels: map[string]string{}}
	o.IPAM.Driver, o.IPAM.Options, o.IPAM.Config = "default", map[string]string{}, []ipamConfig{}
	ctrs, err := g.containers()
	if err != nil {
		return nil, err
	}
	all, err := ctrs.List()
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		if c.HostConfig.NetworkMode == name && c.State.Running {
			o.Containers[c.ID] = networkEndpoint{Name: strings.TrimPrefix(c.Name, "/")}
		}
	}
	return o, nil
}

func networkRmCmd(g *globals, st Streams) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:     "rm NETWORK [NETWORK...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more networks (not one a container uses)",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			nets := g.networks()
			failed := false
			for _, ref := range args {
				err := removeNetwork(g, nets, ref)
				if errors.Is(err, network.ErrNotFound) && force {
					continue
				}
				if err != nil {
					fmt.Fprintf(st.Err, "Error response from daemon: %v\n", err)
					failed = true
					continue
				}
				fmt.Fprintln(st.Out, ref)
			}
			if failed {
				return exitOne
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "do not fail on a network that does not exist")
	return c
}

// removeNetwork removes the network ref names unless a container uses it.
func removeNetwork(g *globals, nets *network.Store, ref string) error {
	if network.IsPredefined(ref) {
		return fmt.Errorf("%s is a pre-defined network and cannot be removed", ref)
	}
	for _, p := range []string{"host", "none"} {
		if strings.HasPrefix(network.PredefinedID(p), ref) && len(ref) >= 12 {
			return fmt.Errorf("%s is a pre-defined network and cannot be removed", p)
		}
	}
	n, err := nets.Get(ref)
	if err != nil {
		return err
	}
	if network.IsPredefined(n.Name) {
		return fmt.Errorf("%s is a pre-defined network and cannot be removed", n.Name)
	}
	if err := sweepNetwork(g, nets, n.Name); err != nil {
		return err
	}
	users, err := networkUsers(g, n)
	if err != nil {
		return err
	}
	return nets.Remove(n, users)
}

// sweepNetwork releases what containers that are gone left on network
// name (network.Store.Sweep): an attachment is a container's while its
// record is there (a detached one, started or not; rm detaches it), or
// its runtime state says its init or its owner (a foreground run) still
// runs. A foreground run killed (-9) leaves neither.
func sweepNetwork(g *globals, nets *network.Store, name string) error {
	ctrs, err := g.containers()
	if err != nil {
		return err
	}
	rt, err := g.store()
	if err != nil {
		return err
	}
	withSbinInPath() // DEL runs iptables
	_, err = nets.Sweep(name, func(id string) (bool, error) {
		if _, err := os.Stat(ctrs.Dir(id)); !errors.Is(err, fs.ErrNotExist) {
			return true, nil // a record (or a Stat that failed: kept on doubt)
		}
		if container.ValidID(id) != nil {
			return false, nil // no runtime's container: a hook's leftover
		}
		return rt.Live(id)
	})
	return err
}

// sweepNetworks is sweepNetwork of every network there is (none made).
func sweepNetworks(g *globals) error {
	nets := g.networks()
	all, err := nets.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range all {
		errs = append(errs, sweepNetwork(g, nets, n.Name))
	}
	return errors.Join(errs...)
}

// networkUsers are the detached containers whose record names network n
// (created, running or stopped: Docker keeps their endpoints' config).
func networkUsers(g *globals, n *network.Network) ([]string, error) {
	ctrs, err := g.containers()
	if err != nil {
		return nil, err
	}
	all, err := ctrs.List()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range all {
		on := func(e store.Endpoint) bool { return e.Network == n.Name || e.Network == n.ID }
		if m := c.HostConfig.NetworkMode; m == n.Name || m == n.ID || slices.ContainsFunc(c.Endpoints, on) {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}

const networkPruneWarning = "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] "

func networkPruneCmd(g *globals, st Streams) *cobra.Command {
	var force bool
	var filterFlags []string
	c := &cobra.Command{
		Use:   "prune [-f] [--filter until=TIME|label=K[=V]|label!=K[=V]]...",
		Short: "Remove all networks no container uses",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			filter, err := parsePruneFilter(filterFlags, time.Now())
			if err != nil {
				return networkFailed(err)
			}
			if !force && !confirmWith(st, networkPruneWarning) {
				return nil
			}
			nets := g.networks()
			all, err := nets.List()
			if err != nil {
				return networkFailed(err)
			}
			var removed []string
			var errs []error
			for _, n := range all {
				err := sweepNetwork(g, nets, n.Name)
				if network.IsPredefined(n.Name) || !filter.keeps(n.Created, n.Labels) { // never removed, or left by the filter
					if err != nil {
						errs = append(errs, err)
					}
					continue
				}
				var users []string
				if err == nil {
					users, err = networkUsers(g, n)
				}
				if err == nil {
					err = nets.Remove(n, users)
				}
				var inUse *network.InUseError
				switch {
				case errors.As(err, &inUse):
				case err != nil:
					errs = append(errs, err)
				default:
					removed = append(removed, n.Name)
				}
			}
			if len(removed) > 0 {
				fmt.Fprintf(st.Out, "Deleted Networks:\n%s\n", strings.Join(removed, "\n"))
			}
			if err := errors.Join(errs...); err != nil {
				return networkFailed(err)
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	c.Flags().StringArrayVar(&filterFlags, "filter", nil, "remove only networks made before until=TIME (a timestamp, or a duration before now such as 24h), with label=KEY[=VALUE], or without label!=KEY[=VALUE] (repeatable)")
	return c
}

// networkHookCmd is the OCI hook of a container on a network (hidden):
// `network hook add NAME` (createRuntime: CNI ADD in the network
// namespace of the init whose pid the state on stdin gives) and `network
// hook del NAME` (poststop: CNI DEL).
func networkHookCmd(g *globals, st Streams) *cobra.Command {
	var publish []string
	var h hookMember
	var dir string
	c := &cobra.Command{
		Use:    "hook add|del [--publish MAPPING]... [--ifname IF] [--hosts PATH --hostname NAME [--alias A]... [--add-host NAME:IP]...] [--dir DIR] NETWORK|pasta|slirp4netns",
		Short:  "The OCI hook of a container on a network: CNI ADD (createRuntime) or DEL (poststop), or a user-mode network's start and stop; the container's state on stdin",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			var state specs.State
			if err := json.NewDecoder(st.In).Decode(&state); err != nil {
				return fmt.Errorf("network hook: the container's state on stdin: %w", err)
			}
			if state.ID == "" {
				return errors.New("network hook: the container's state on stdin has no id")
			}
			var ports []network.PortMapping
			for _, v := range publish {
				m, err := network.ParsePublish(v)
				if err != nil {
					return err
				}
				ports = append(ports, m...)
			}
			switch {
			case args[0] == "add" && userMode(args[1]):
				return userModeAdd(st.Err, args[1], dir, state.ID, state.Pid, ports)
			case args[0] == "del" && userMode(args[1]):
				return userModeDel(dir, state.ID)
			case args[0] == "add":
				_, err := networkAdd(g, args[1], state.ID, state.Pid, ports, h)
				return err
			case args[0] == "del":
				return networkDel(g, args[1], state.ID)
			}
			return fmt.Errorf("network hook: %q: want add or del", args[0])
		},
	}
	c.Flags().StringArrayVar(&publish, "publish", nil, "a published port, as -p (add)")
	c.Flags().StringVar(&dir, "dir", "", "the directory of a user-mode network's files (pasta, slirp4netns)")
	h.register(c.Flags())
	return c
}

// networkAdd is `network hook add`'s CNI ADD, which a foreground
// run also runs itself (runNetwork): container id, whose init is pid,
// on network name, publishing ports, with h's interface and names.
func networkAdd(g *globals, name, id string, pid int, ports []network.PortMapping, h hookMember) (*network.Endpoint, error) {
	withSbinInPath() // the plugins run iptables
	nets := g.networks()
	n, err := nets.Get(name)
	if err != nil {
		return nil, err
	}
	m, err := h.member(g, id)
	if err != nil {
		return nil, err
	}
	o := network.AttachOptions{IfName: h.ifName, Ports: ports, Member: m}
	if h.ip != "" {
		if o.IP, err = netip.ParseAddr(h.ip); err != nil {
			return nil, fmt.Errorf("network hook: --ip: %w", err)
		}
	}
	if h.mac != "" {
		if o.MAC, err = network.ParseMAC(h.mac); err != nil {
			return nil, fmt.Errorf("network hook: %w", err)
		}
	}
	return nets.Attach(n, id, pid, o)
}

// networkDel is `network hook del`'s CNI DEL (and a foreground
// run's, runNetwork): container id, whose processes are gone, off
// network name, then off every other network it is on — those network
// connect added while it ran have no hook of their own in the config
// the runtime keeps.
func networkDel(g *globals, name, id string) error {
	withSbinInPath() // the plugins run iptables
	return g.networks().DetachGone(name, id)
}

// runNetwork is a foreground run's network (container.Network): the
// hooks' ADD and DEL, run by the run itself, which is the runtime there.
type runNetwork struct {
	g      *globals
	name   string // the network's
	id     string // the container's
	ports  []network.PortMapping
	member hookMember
	ep     *network.Endpoint // once attached
}

func (r *runNetwork) Attach(pid int) error {
	var err error
	r.ep, err = networkAdd(r.g, r.name, r.id, pid, r.ports, r.member)
	return err
}

// Describe says what the container got (--explain); "" before Attach.
func (r *runNetwork) Describe() string {
	if r.ep == nil {
		return ""
	}
	return fmt.Sprintf("network %s: %s", r.name, r.ep.Describe())
}

func (r *runNetwork) Detach() error { return networkDel(r.g, r.name, r.id) }

// runNetworks are a foreground run's networks (--network more than
// once): joined in order (eth0, eth1...), left in reverse.
type runNetworks []container.Network

// Attach joins each network; on a failure it leaves those it joined.
func (rs runNetworks) Attach(pid int) error {
	for i, r := range rs {
		if err := r.Attach(pid); err != nil {
			for j := i - 1; j >= 0; j-- {
				_ = rs[j].Detach()
			}
			return err
		}
	}
	return nil
}

func (rs runNetworks) Detach() error {
	var errs []error
	for i := len(rs) - 1; i >= 0; i-- {
		errs = append(errs, rs[i].Detach())
	}
	return errors.Join(errs...)
}

// Describe says what the container got on each (--explain).
func (rs runNetworks) Describe() string {
	var parts []string
	for _, r := range rs {
		if d, ok := r.(interface{ Describe() string }); ok && d.Describe() != "" {
			parts = append(parts, d.Describe())
		}
	}
	return strings.Join(parts, "; ")
}

// withMoreNetworks is a foreground run's first network with the others
// of extra after it, each on the next interface, with its address and
// aliases (memberFor: the network hook's flags with those aliases).
func withMoreNetworks(g *globals, s *specs.Spec, id string, first container.Network, extra []netValue, memberFor func([]string) []string) (container.Network, error) {
	rs := runNetworks{first}
	for i, v := range extra {
		ip, mac, err := v.addresses(g)
		if err != nil {
			return nil, err
		}
		r, err := withNetwork(g, s, id, v.name, fmt.Sprintf("eth%d", i+1), nil, withAddresses(memberFor(v.aliases), ip, mac), false)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// withSbinInPath puts the sbin directories in PATH for the CNI plugins
// (iptables), which a hook inherits from whoever ran the runtime.
func withSbinInPath() {
	path := os.Getenv("PATH")
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if !slices.Contains(filepath.SplitList(path), d) {
			if path != "" {
				path += ":"
			}
			path += d
		}
	}
	os.Setenv("PATH", path)
}

// hookTimeout bounds a network hook (seconds): CNI ADD or DEL, which
// run iptables.
const hookTimeout = 150

// withNetwork puts container id on network name (interface ifName), publishing ports,
// with member's flags (its names, etcfiles.go): a detached container
// (detached) through the hooks in its config s that attach it (CNI ADD
// at createRuntime) and detach it (CNI DEL at poststop); a foreground
// run through the value returned (nil for a detached one), which the
// run attaches and detaches itself (container.Options.Network). The
// network must exist (Docker's "network NAME not found").
func withNetwork(g *globals, s *specs.Spec, id, name, ifName string, ports []network.PortMapping, member []string, detached bool) (container.Network, error) {
	nets := g.networks()
	n, err := nets.Get(name)
	if err != nil {
		return nil, err
	}
	if err := sweepNetwork(g, nets, n.Name); err != nil {
		return nil, err
	}
	if detached {
		return nil, withNetworkOn(g, s, n, ifName, ports, member)
	}
	h := hookMember{ifName: ifName}
	if err := h.parse(member); err != nil {
		return nil, err
	}
	return &runNetwork{g: g, name: n.Name, id: id, ports: ports, member: h}, nil
}

// withNetworkOn adds network n's hooks to s, for interface ifName.
func withNetworkOn(g *globals, s *specs.Spec, n *network.Network, ifName string, ports []network.PortMapping, member []string) error {
	var add []string
	if ifName != network.IfName {
		add = append(add, "--ifname", ifName)
	}
	for _, p := range ports {
		add = append(add, "--publish", p.String())
	}
	return withNetworkHooks(g, s, n.Name, append(add, member...), nil)
}

// withNetworkHooks adds to s the hooks `network hook add ADD... NAME`
// (createRuntime) and `network hook del DEL... NAME` (poststop), NAME a
// network's or a user-mode network's (pasta, slirp4netns).
func withNetworkHooks(g *globals, s *specs.Spec, name string, add, del []string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--network %s: find minimal-docker's binary: %w", name, err)
	}
	hook := func(verb string, flags ...string) specs.Hook {
		t := hookTimeout
		args := append([]string{self, "--root", g.imageRoot, "network", "hook", verb}, flags...)
		return specs.Hook{Path: self, Args: append(args, name), Timeout: &t}
	}
	if s.Hooks == nil {
		s.Hooks = &specs.Hooks{}
	}
	s.Hooks.CreateRuntime = append(s.Hooks.CreateRuntime, hook("add", add...))
	s.Hooks.Poststop = append(s.Hooks.Poststop, hook("del", del...))
	return nil
}

// networkSettings is a container's NetworkSettings (inspect), from the
// cached CNI result of its network; nil when it has none (none, host,
// container:).
func networkSettings(g *globals, c *store.Container) *store.NetworkSettings {
	mode := c.HostConfig.NetworkMode
	if mode == "" || mode == "none" || mode == "host" || strings.HasPrefix(mode, containerMode) {
		return nil
	}
	if userMode(mode) {
		return userModeSettings(c)
	}
	nets := g.networks()
	ns := &store.NetworkSettings{Networks: map[string]store.EndpointSettings{}, Ports: map[string][]store.PortBinding{}}
	for i, ep := range endpointsOf(c) {
		n, err := nets.Get(ep.Network)
		if err != nil {
			continue
		}
		e := store.EndpointSettings{NetworkID: n.ID, Aliases: ep.Aliases}
		if ep.IPv4Address != "" {
			e.IPAMConfig = &store.EndpointIPAMConfig{IPv4Address: ep.IPv4Address}
		}
		if n.Name != network.DefaultName { // Docker's: names resolve on user-defined networks
			e.DNSNames = dnsNames(c, ep.Aliases)
		}
		if ep, err := nets.Endpoint(n.Name, c.ID); err == nil && ep != nil {
			e.IPAddress, e.IPPrefixLen, e.MacAddress = ep.Address.Addr().String(), ep.Address.Bits(), ep.MAC
			if ep.Gateway.IsValid() {
				e.Gateway = ep.Gateway.String()
			}
		}
		if i == 0 { // the top-level fields are its first network's, with the published ports
			ns.IPAddress, ns.IPPrefixLen, ns.Gateway, ns.MacAddress = e.IPAddress, e.IPPrefixLen, e.Gateway, e.MacAddress
			if e.IPAddress != "" { // published while it is on the network: as its ADD did
				publishedPorts(ns, nets, n.Name, c)
			}
		}
		ns.Networks[n.Name] = e
	}
	return ns
}

// publishedPorts fills ns.Ports with container c's ports on network name
// as its ADD published them (host ports chosen included), and its
// exposed ports not published as null (Docker's).
func publishedPorts(ns *store.NetworkSettings, nets *network.Store, name string, c *store.Container) {
	ports, _ := nets.Ports(name, c.ID)
	fillPorts(ns, ports, c)
}

// fillPorts fills ns.Ports with ports, as published, and container c's
// exposed ports not published as null (Docker's).
func fillPorts(ns *store.NetworkSettings, ports []network.PortMapping, c *store.Container) {
	for _, p := range ports {
		key, ip := network.Port{Number: p.ContainerPort, Protocol: p.Protocol}.String(), p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		ns.Ports[key] = append(ns.Ports[key], store.PortBinding{HostIp: ip, HostPort: strconv.Itoa(p.HostPort)})
	}
	for key := range c.Config.ExposedPorts {
		if _, ok := ns.Ports[key]; !ok {
			ns.Ports[key] = nil
		}
	}
}

// dnsNames are the names container c resolves by on a user-defined
// network (Docker's DNSNames): its name, aliases, short ID and
// hostname (unless the default every container has).
func dnsNames(c *store.Container, aliases []string) []string {
	names := append([]string{strings.TrimPrefix(c.Name, "/")}, aliases...)
	names = append(names, c.ID[:12])
	if h := c.Config.Hostname; h != "" && h != spec.DefaultHostname && !slices.Contains(names, h) {
		names = append(names, h)
	}
	return names
}
