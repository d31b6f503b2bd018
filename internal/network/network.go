// Package network keeps bridge networks (the default one, bridge, made on
// first use: predefined.go; and user-defined ones) and attaches
// containers to them through CNI: libcni (github.com/containernetworking/cni)
// over the standard plugins of Debian's containernetworking-plugins
// (bridge, host-local, portmap) in /usr/lib/cni. No bridge or IPAM code of
// our own: a network is a conflist, and CNI does the rest.
//
// Everything lives under one directory (--root/networks):
//
//	NAME.conflist   the network: a CNI conflist (bridge + host-local +
//	                portmap), with our own facts about it (Docker's ID,
//	                creation time, subnet, gateway, --internal) under the
//	                top-level key "minimalDocker", which libcni ignores
//	.lock           taken by create and rm (subnets are chosen under it)
//	cache/          libcni's cache (results/NAME-ID-eth0): the result of
//	                each ADD, which DEL and inspect read back
//	ipam/NAME/      host-local's leases (its dataDir)
//	names/ID.json   a container's names on its networks and its hosts
//	                file, which ADD and DEL keep current (names.go)
//	netns/ID        the container's network namespace, bind-mounted
//	                there by Attach and unmounted by Detach, so that DEL
//	                runs inside it after the container's processes are
//	                gone (the bridge plugin removes the veth, and the
//	                masquerade rules of a conflist with ipMasq on, only
//	                with the namespace in hand)
//
// Attach (CNI ADD) and Detach (CNI DEL) are what the container's OCI
// hooks call (minimal-docker's hidden `network hook`): createRuntime, in
// the runtime's namespaces while the init waits before pivot_root, and
// poststop, once the container is gone. The runtime runs them on every
// path: a foreground run's end, a failed create, minimal-runc delete (a
// detached container's monitor deletes it at each end, restarts
// included).
package network

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/ondisk"
)

// PluginDir is where Debian's containernetworking-plugins puts the CNI
// plugins.
const PluginDir = "/usr/lib/cni"

// cniVersion is the spec version of our conflists: the newest that
// Debian 12's plugins (1.1.1) speak.
const cniVersion = "1.0.0"

// ErrNotFound is a network that does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is a name already taken.
var ErrExists = errors.New("already exists")

// Network is a user-defined bridge network.
type Network struct {
	Name     string
	ID       string // 64 hex digits, Docker's
	Created  time.Time
	Subnet   netip.Prefix
	Gateway  netip.Addr
	Internal bool
	MTU      int               // the bridge's and its veths' (0: the bridge plugin's, 1500)
	Labels   map[string]string // network create --label
	// IPRange is where containers get their addresses when they ask for
	// none (network create --ip-range), or the zero Prefix: the subnet.
	IPRange netip.Prefix
	// AuxAddresses are addresses no container gets (network create
	// --aux-address NAME=IP).
	AuxAddresses map[string]netip.Addr
	BridgeOptions
}

// BridgeOptions are a network's options of Docker's bridge driver (-o),
// as network create asks for them and the conflist keeps them.
type BridgeOptions struct {
	// BridgeName is the bridge device's name given (-o
	// com.docker.network.bridge.name), "" for Docker's br-ID12.
	BridgeName string `json:"bridge,omitempty"`
	// NoMasquerade: no masquerade of the network's traffic out of it (-o
	// com.docker.network.bridge.enable_ip_masquerade=false).
	NoMasquerade bool `json:"noMasquerade,omitempty"`
	// NoICC: its containers can't reach each other (-o
	// com.docker.network.bridge.enable_icc=false; firewall.go).
	NoICC bool `json:"noICC,omitempty"`
	// Unprotected: other interfaces of the host may reach its containers'
	// addresses, not only their published ports (-o
	// com.docker.network.bridge.gateway_mode_ipv4=nat-unprotected;
	// firewall.go).
	Unprotected bool `json:"natUnprotected,omitempty"`
}

// ipamRanges is host-local's range set for addresses of within (the
// subnet, or the --ip-range) on n: its pool, less the auxiliary
// addresses, with the gateway on each range. A network without aux
// addresses or range has its subnet alone, as before they were.
func (n *Network) ipamRanges(within netip.Prefix) []map[string]string {
	if len(n.AuxAddresses) == 0 && within == n.Subnet {
		return []map[string]string{{"subnet": n.Subnet.String(), "gateway": n.Gateway.String()}}
	}
	var set []map[string]string
	for _, r := range poolRanges(n.Subnet, within, n.AuxAddresses) {
		set = append(set, map[string]string{"subnet": n.Subnet.String(), "rangeStart": r.first.String(), "rangeEnd": r.last.String(), "gateway": n.Gateway.String()})
	}
	return set
}

// CheckAddress refuses ip as an address for a container on n (--ip), as
// Docker does: an IPv4 address in n's subnet, other than its gateway and
// its network and broadcast addresses, on a network of network create.
// (Whether another container holds it is host-local's to say, at ADD.)
func (n *Network) CheckAddress(ip netip.Addr) error {
	switch {
	case n.Name == DefaultName:
		return fmt.Errorf("--ip %s: user specified IP address is supported on user defined networks only (not %s)", ip, n.Name)
	case !ip.Is4():
		return fmt.Errorf("--ip %s: not an IPv4 address", ip)
	case !n.Subnet.Contains(ip):
		return fmt.Errorf("--ip %s: not in network %s's subnet %s", ip, n.Name, n.Subnet)
	case ip == n.Gateway:
		return fmt.Errorf("--ip %s: the gateway of network %s: address already in use", ip, n.Name)
	case ip == n.Subnet.Masked().Addr() || ip == broadcast(n.Subnet):
		return fmt.Errorf("--ip %s: the network or broadcast address of network %s's subnet %s", ip, n.Name, n.Subnet)
	}
	for name, a := range n.AuxAddresses {
		if ip == a {
			return fmt.Errorf("--ip %s: reserved on network %s (its --aux-address %s): address already in use", ip, n.Name, name)
		}
	}
	return nil
}

// Bridge is the network's bridge device: the name given at create, else
// Docker's, br- and the ID's first 12 digits (15 characters, the
// kernel's limit); the default bridge's is DefaultBridge.
func (n *Network) Bridge() string {
	switch {
	case n.Name == DefaultName:
		return DefaultBridge
	case n.BridgeName != "":
		return n.BridgeName
	}
	return "br-" + n.ID[:12]
}

// meta is what the conflist keeps of ours, under "minimalDocker".
type meta struct {
	ID       string            `json:"id"`
	Created  time.Time         `json:"created"`
	Subnet   string            `json:"subnet"`
	Gateway  string            `json:"gateway"`
	Internal bool              `json:"internal"`
	MTU      int               `json:"mtu,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	IPRange  string            `json:"ipRange,omitempty"`
	Aux      map[string]string `json:"auxAddresses,omitempty"`
	BridgeOptions
}

// Store is the networks under one directory.
type Store struct {
	dir        string
	pluginDirs []string
	// iptables runs iptables-save and iptables-restore (runIptables; the
	// unit tests' is a table in memory).
	iptables func(tool string, stdin []byte, args ...string) ([]byte, error)
	// bridgeNF is the file that says whether traffic within a bridge
	// goes through iptables (br_netfilter; the unit tests' is a file of
	// their own).
	bridgeNF string
}

// BridgeNFFile is br_netfilter's switch for IPv4 iptables, in the
// caller's network namespace (absent without the module).
const BridgeNFFile = "/proc/sys/net/bridge/bridge-nf-call-iptables"

// hostIptables is the iptables a Store runs: the host's (the unit tests
// put a refusal here, so that a test without a fake table can't touch
// the machine's firewall).
var hostIptables = runIptables

// Open returns the store under dir (made when a network is created).
func Open(dir string) *Store {
	return &Store{dir: dir, pluginDirs: []string{PluginDir}, iptables: hostIptables, bridgeNF: BridgeNFFile}
}

func (s *Store) confPath(name string) string { return filepath.Join(s.dir, name+".conflist") }
func (s *Store) cacheDir() string            { return filepath.Join(s.dir, "cache") }
func (s *Store) ipamDir() string             { return filepath.Join(s.dir, "ipam") }
func (s *Store) netnsDir() string            { return filepath.Join(s.dir, "netns") }
func (s *Store) tuningDir() string           { return filepath.Join(s.dir, "tuning") }

// IPAMDir is where host-local keeps network name's leases.
func (s *Store) IPAMDir(name string) string { return filepath.Join(s.ipamDir(), name) }

// validName: [a-zA-Z0-9][a-zA-Z0-9_.-]* (Docker's rule; a loop, not a
// regular expression compiled at every start).
func validName(name string) bool {
	for i, c := range []byte(name) {
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return name != ""
}

// reserved are Docker's predefined networks (--network none and host are
// the runtime's own, bridge the default bridge, which Default makes), and
// default, Docker's other name for bridge.
var reserved = []string{DefaultName, "host", "none", "default"}

// CheckName refuses a name Docker refuses, and the predefined ones.
func CheckName(name string) error {
	if !validName(name) {
		return fmt.Errorf("invalid network name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	if len(name) > 128 {
		return fmt.Errorf("invalid network name %q: longer than 128 characters", name)
	}
	if slices.Contains(reserved, name) {
		return fmt.Errorf("network name %s is reserved for the predefined network", name)
	}
	return nil
}

// Request is what network create asks for; a zero Subnet is chosen,
// a zero Gateway is the subnet's first address, a zero MTU is 1500.
type Request struct {
	Name     string
	Subnet   netip.Prefix
	Gateway  netip.Addr
	Internal bool
	MTU      int
	Labels   map[string]string
	// IPRange and AuxAddresses are the network's (with Subnet only).
	IPRange      netip.Prefix
	AuxAddresses map[string]netip.Addr
	BridgeOptions
}

// Create makes the network: its conflist, written atomically under the
// store's lock, with a subnet that overlaps no other network's and no
// route of the caller's network namespace; and its firewall rules
// (firewall.go).
func (s *Store) Create(r Request) (*Network, error) {
	if err := CheckName(r.Name); err != nil {
		return nil, err
	}
	return s.create(r, false)
}

// create is Create; the default bridge (def) is made once: a second
// create of it returns the first's, and its subnet is DefaultSubnet
// unless that overlaps another network or a route.
func (s *Store) create(r Request, def bool) (*Network, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("network create: %w", err)
	}
	lock, err := ondisk.LockPath(filepath.Join(s.dir, ".lock"))
	if err != nil {
		return nil, fmt.Errorf("network create: %w", err)
	}
	defer lock.Close()
	nets, err := s.List()
	if err != nil {
		return nil, err
	}
	for _, n := range nets {
		if n.Name == r.Name && def {
			return n, nil // made meanwhile
		}
		if n.Name == r.Name {
			return nil, fmt.Errorf("network with name %s %w", r.Name, ErrExists)
		}
	}
	routes, err := hostRoutes()
	if err != nil {
		return nil, err
	}
	subnet := r.Subnet
	if def && checkSubnet(DefaultSubnet, nets, routes) == nil {
		subnet = DefaultSubnet
	}
	if subnet.IsValid() {
		if err := checkSubnet(subnet, nets, routes); err != nil {
			return nil, err
		}
	} else if subnet, err = chooseSubnet(nets, routes); err != nil {
		return nil, err
	}
	gw, err := gatewayOf(subnet, r.Gateway)
	if err != nil {
		return nil, err
	}
	if err := checkPool(subnet, gw, r.IPRange, r.AuxAddresses); err != nil {
		return nil, err
	}
	if r.BridgeName != "" {
		if err := checkBridgeName(r.BridgeName, nets); err != nil {
			return nil, err
		}
	}
	n := &Network{Name: r.Name, Created: time.Now().UTC(), Subnet: subnet, Gateway: gw, Internal: r.Internal, MTU: r.MTU, Labels: r.Labels,
		IPRange: r.IPRange, AuxAddresses: r.AuxAddresses, BridgeOptions: r.BridgeOptions}
	if n.ID, err = newID(); err != nil {
		return nil, err
	}
	b, err := s.conflist(n)
	if err != nil {
		return nil, err
	}
	if err := ondisk.WriteFile(s.confPath(n.Name), b, 0o600, ondisk.Durable); err != nil {
		return nil, fmt.Errorf("network create %s: %w", n.Name, err)
	}
	if err := s.firewallUp(n); err != nil {
		err = fmt.Errorf("network create: %w", err)
		if derr := s.firewallDown(n); derr != nil {
			err = errors.Join(err, derr)
		}
		if rerr := os.Remove(s.confPath(n.Name)); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	return n, nil
}

// conflist is n's CNI conflist: a bridge (the gateway on it; no
// masquerade of the plugin's: firewall.go makes one rule for the network;
// n's MTU on it and its veths, when set)
// with host-local addresses, and portmap, ready for
// published ports (Attach leaves it out of the chain of a container that
// publishes none).
func (s *Store) conflist(n *Network) ([]byte, error) {
	ipam := map[string]any{
		"type":    "host-local",
		"ranges":  [][]map[string]string{n.ipamRanges(n.Subnet)},
		"dataDir": s.ipamDir(),
	}
	if !n.Internal {
		ipam["routes"] = []map[string]string{{"dst": "0.0.0.0/0"}}
	}
	bridge := map[string]any{
		"type":        "bridge",
		"bridge":      n.Bridge(),
		"isGateway":   true,
		"ipMasq":      false, // firewall.go: one rule per network
		"hairpinMode": true,
		"ipam":        ipam,
	}
	if n.MTU != 0 {
		bridge["mtu"] = n.MTU // the bridge's and the veths'
	}
	list := map[string]any{
		"cniVersion":    cniVersion,
		"name":          n.Name,
		"minimalDocker": n.meta(),
		"plugins": []map[string]any{
			bridge,
			{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	b, err := json.MarshalIndent(list, "", "\t")
	if err != nil {
		return nil, fmt.Errorf("network %s: conflist: %w", n.Name, err)
	}
	return b, nil
}

// parse reads a conflist back into a Network.
func parse(b []byte, path string) (*Network, error) {
	var list struct {
		Name string `json:"name"`
		Meta *meta  `json:"minimalDocker"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("network %s: %w", path, err)
	}
	if list.Meta == nil || len(list.Meta.ID) != 64 {
		return nil, fmt.Errorf("network %s: no minimalDocker.id: not one of ours", path)
	}
	m := list.Meta
	subnet, err := netip.ParsePrefix(m.Subnet)
	if err != nil {
		return nil, fmt.Errorf("network %s: subnet: %w", path, err)
	}
	gw, err := netip.ParseAddr(m.Gateway)
	if err != nil {
		return nil, fmt.Errorf("network %s: gateway: %w", path, err)
	}
	n := &Network{Name: list.Name, ID: m.ID, Created: m.Created, Subnet: subnet, Gateway: gw, Internal: m.Internal, MTU: m.MTU, Labels: m.Labels,
		BridgeOptions: m.BridgeOptions}
	if m.IPRange != "" {
		if n.IPRange, err = netip.ParsePrefix(m.IPRange); err != nil {
			return nil, fmt.Errorf("network %s: ip range: %w", path, err)
		}
	}
	for name, v := range m.Aux {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("network %s: aux address %s: %w", path, name, err)
		}
		if n.AuxAddresses == nil {
			n.AuxAddresses = map[string]netip.Addr{}
		}
		n.AuxAddresses[name] = a
	}
	return n, nil
}

// meta is n as the conflist's minimalDocker object keeps it (parse reads
// it back).
func (n *Network) meta() meta {
	m := meta{ID: n.ID, Created: n.Created, Subnet: n.Subnet.String(), Gateway: n.Gateway.String(),
		Internal: n.Internal, MTU: n.MTU, Labels: n.Labels, BridgeOptions: n.BridgeOptions}
	if n.IPRange.IsValid() {
		m.IPRange = n.IPRange.String()
	}
	m.Aux = n.AuxStrings()
	return m
}

// AuxStrings are n's aux addresses as text (Docker's
// AuxiliaryAddresses); nil without any.
func (n *Network) AuxStrings() map[string]string {
	var out map[string]string
	for name, a := range n.AuxAddresses {
		if out == nil {
			out = map[string]string{}
		}
		out[name] = a.String()
	}
	return out
}

// List returns the networks, by name.
func (s *Store) List() ([]*Network, error) {
	paths, err := filepath.Glob(filepath.Join(s.dir, "*.conflist"))
	if err != nil {
		return nil, fmt.Errorf("networks: %w", err)
	}
	var nets []*Network
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("networks: %w", err)
		}
		n, err := parse(b, p)
		if err != nil {
			return nil, err
		}
		nets = append(nets, n)
	}
	slices.SortFunc(nets, func(a, b *Network) int { return strings.Compare(a.Name, b.Name) })
	return nets, nil
}

// Get finds a network by name, by ID, or by a prefix of one ID (Docker's
// lookup); ErrNotFound when none (or the prefix is ambiguous).
func (s *Store) Get(ref string) (*Network, error) {
	if ref == DefaultName {
		return s.Default()
	}
	if validName(ref) {
		b, err := os.ReadFile(s.confPath(ref))
		if err == nil {
			return parse(b, s.confPath(ref))
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("network %s: %w", ref, err)
		}
	}
	nets, err := s.List()
	if err != nil {
		return nil, err
	}
	var found *Network
	for _, n := range nets {
		if n.ID == ref {
			return n, nil
		}
		if ref != "" && strings.HasPrefix(n.ID, ref) {
			if found != nil {
				return nil, fmt.Errorf("network %s is ambiguous (%s, %s): %w", ref, found.Name, n.Name, ErrNotFound)
			}
			found = n
		}
	}
	if found == nil {
		return nil, fmt.Errorf("network %s %w", ref, ErrNotFound)
	}
	return found, nil
}

// InUseError is a network that containers are attached to.
type InUseError struct {
	Network    *Network
	Containers []string
}

// Error is Docker's message.
func (e *InUseError) Error() string {
	return fmt.Sprintf("error while removing network: network %s id %s has active endpoints", e.Network.Name, e.Network.ID)
}

// Remove removes network n unless a container is attached to it (a
// CNI result is cached for it) or inUse names containers that use it (a
// detached container's record, started or not); then its conflist and
// its leases directory, its bridge and its firewall rules (in the
// caller's network namespace).
func (s *Store) Remove(n *Network, inUse []string) error {
	if IsPredefined(n.Name) {
		return fmt.Errorf("%s is a pre-defined network and cannot be removed", n.Name)
	}
	lock, err := ondisk.LockPath(filepath.Join(s.dir, ".lock"))
	if err != nil {
		return fmt.Errorf("network rm %s: %w", n.Name, err)
	}
	defer lock.Close()
	attached, err := s.Attached(n.Name)
	if err != nil {
		return err
	}
	if users := append(attached, inUse...); len(users) > 0 {
		slices.Sort(users)
		return &InUseError{Network: n, Containers: slices.Compact(users)}
	}
	if err := deleteLink(n.Bridge()); err != nil {
		return fmt.Errorf("network rm %s: %w", n.Name, err)
	}
	if err := s.firewallDown(n); err != nil {
		return fmt.Errorf("network rm: %w", err)
	}
	if err := os.Remove(s.confPath(n.Name)); err != nil {
		return fmt.Errorf("network rm %s: %w", n.Name, err)
	}
	if err := os.RemoveAll(s.IPAMDir(n.Name)); err != nil {
		return fmt.Errorf("network rm %s: %w", n.Name, err)
	}
	return nil
}

func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("network id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// checkBridgeName refuses a bridge device name given at network create
// (-o com.docker.network.bridge.name) that is no interface name (1 to 15
// characters, no slash, colon or space: the kernel's), that another
// network of ours has, or that an interface of the caller's network
// namespace already has: the bridge plugin would take a bridge of the
// host's own as ours (and network rm delete it), and fail on anything
// else.
func checkBridgeName(name string, nets []*Network) error {
	if len(name) > 15 || name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n") {
		return fmt.Errorf("invalid com.docker.network.bridge.name %q: not an interface name (1 to 15 characters, no '/', ':' or spaces)", name)
	}
	if name == DefaultBridge {
		return fmt.Errorf("invalid com.docker.network.bridge.name %q: the default bridge's", name)
	}
	for _, n := range nets {
		if n.Bridge() == name {
			return fmt.Errorf("invalid com.docker.network.bridge.name %q: network %s's bridge", name, n.Name)
		}
	}
	if linkExists(name) {
		return fmt.Errorf("invalid com.docker.network.bridge.name %q: an interface of that name exists already", name)
	}
	return nil
}
