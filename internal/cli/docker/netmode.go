package docker

// A container's network mode (--network, Docker's NetworkMode) and its
// ports (-p, -P, --expose), read into a netPlan that spec applies:
//
//	bridge             the default bridge (internal/network.Default: made
//	                   on first use), through CNI as a network of network
//	                   create; $MINIMAL_DOCKER_DEFAULT_NETWORK names
//	                   another default (the test suites say none)
//	NAME               a network of network create
//	none               a network namespace of its own, loopback only
//	host               the host's network namespace
//	container:NAME|ID  a running container's network namespace: the
//	                   spec joins /proc/PID/ns/net of its init (again at
//	                   each start)
//	pasta, slirp4netns a user-mode network (rootless, its default): a
//	                   program of the user's (network.UserMode), which a
//	                   foreground run starts and stops itself, and a
//	                   detached container's hooks at each of its starts
//	                   and ends (withUserMode)

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/network"
	"github.com/minimal-docker/minimal-docker/internal/ondisk"
	"github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
	"github.com/minimal-docker/minimal-docker/internal/spec"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// EnvDefaultNetwork names the network of a container run or created
// without --network (none, host, bridge or a network's name; default
// bridge), as Docker's CLI reads DOCKER_DEFAULT_PLATFORM.
const EnvDefaultNetwork = "MINIMAL_DOCKER_DEFAULT_NETWORK"

// containerMode is the prefix of --network container:NAME|ID.
const containerMode = "container:"

// Docker's refusals of flags that a container: network mode makes
// meaningless.
var (
	errConflictPublish  = errors.New("conflicting options: port publishing and the container type network mode")
	errConflictExpose   = errors.New("conflicting options: port exposing and the container type network mode")
	errConflictHostname = errors.New("conflicting options: hostname and the network mode")
	errConflictMAC      = errors.New("conflicting options: mac-address and the network mode")
)

// defaultNetwork is the network of a container without --network:
// $MINIMAL_DOCKER_DEFAULT_NETWORK, else the default bridge.
func defaultNetwork() (string, error) {
	v := os.Getenv(EnvDefaultNetwork)
	if v == "" && rootless.Active() {
		return network.DefaultUserMode()
	}
	if v == "" {
		return network.DefaultName, nil
	}
	if v == "default" {
		return network.DefaultName, nil
	}
	if strings.HasPrefix(v, containerMode) || checkNetworkMode(v) != nil {
		return "", fmt.Errorf("invalid %s=%q: want none, host, bridge or the name of a network (network create)", EnvDefaultNetwork, v)
	}
	return v, nil
}

// netValue is one --network: a network, and the container's place there
// (its long form's fields).
type netValue struct {
	name, ip, mac string
	aliases       []string
}

// parseNetworkValue reads a --network: a name or mode, or Docker's long
// form name=NAME[,alias=A]...[,ip=IP][,mac-address=MAC].
func parseNetworkValue(given string) (netValue, error) {
	if !strings.Contains(given, "=") {
		return netValue{name: given}, nil
	}
	fields, err := csv.NewReader(strings.NewReader(given)).Read()
	if err != nil {
		return netValue{}, fmt.Errorf("invalid --network %q: %w", given, err)
	}
	var v netValue
	for _, field := range fields {
		key, value, ok := strings.Cut(field, "=")
		if !ok {
			return netValue{}, fmt.Errorf("invalid --network %q: invalid field %q must be a key=value pair", given, field)
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "name":
			v.name = value
		case "alias":
			v.aliases = append(v.aliases, value)
		case "ip":
			v.ip = value
		case "mac-address":
			v.mac = value
		case "ip6", "link-local-ip", "driver-opt", "gw-priority":
			return netValue{}, fmt.Errorf("invalid --network %q: field %s is not done (IPv4 networks only)", given, key)
		default:
			return netValue{}, fmt.Errorf("invalid --network %q: invalid field key %s", given, key)
		}
	}
	if v.name == "" {
		return netValue{}, fmt.Errorf("invalid --network %q: network name/id is not specified", given)
	}
	return v, nil
}

// userDefined reports whether network mode mode is a network of network
// create (not bridge, none, host, container: nor a user-mode network).
func userDefined(mode string) bool {
	return bridged(mode) && mode != network.DefaultName && mode != "default"
}

// networkFields reads the --network flags (parseNetworkValue): the first
// into f's --network, --network-alias, --ip and --mac-address (a field
// given both ways is refused with Docker's messages), the others into
// f.extraNets, as Docker's CLI does: more than one only of networks of
// network create, each once.
func (f *runFlags) networkFields() error {
	var values []netValue
	for _, given := range f.networks {
		v, err := parseNetworkValue(given)
		if err != nil {
			return err
		}
		for _, w := range values {
			if w.name == v.name {
				return fmt.Errorf("network %q is specified multiple times", v.name)
			}
		}
		values = append(values, v)
	}
	if len(values) == 0 {
		return errors.New("--network: no network given")
	}
	first := values[0]
	switch {
	case first.ip != "" && f.ip != "":
		return errors.New("conflicting options: cannot specify both --ip and per-network IPv4 address")
	case first.mac != "" && f.mac != "":
		return errors.New("conflicting options: cannot specify both --mac-address and per-network MAC address")
	case len(first.aliases) > 0 && len(f.names.aliases) > 0:
		return errors.New("conflicting options: cannot specify both --network-alias and per-network alias")
	}
	f.network = first.name
	if first.ip != "" {
		f.ip = first.ip
	}
	if first.mac != "" {
		f.mac = first.mac
	}
	if len(first.aliases) > 0 {
		f.names.aliases = first.aliases
	}
	f.extraNets = values[1:]
	if len(f.extraNets) == 0 {
		return nil
	}
	for _, v := range values {
		if !userDefined(v.name) {
			return errors.New("conflicting options: cannot attach both user-defined and non-user-defined network-modes")
		}
	}
	return nil
}

// checkNetworkMode refuses a --network value that names no mode and no
// possible network.
func checkNetworkMode(v string) error {
	switch {
	case v == network.Pasta && os.Geteuid() == 0 && !rootless.Active():
		// pasta drops from real root to nobody, which can't join the
		// container's network namespace; Podman refuses it too.
		return fmt.Errorf("--network %s: only for rootless containers (started by root, pasta runs as nobody, which can't join the container's network namespace); as root use bridge, a network of network create, or %s", v, network.Slirp4netns)
	case v == "none", v == "host", userMode(v):
		return nil
	case rootless.Active():
		return fmt.Errorf("--network %s: rootless, a container has none, host, %s, %s or container:NAME|ID (bridge networks need root)", v, network.Pasta, network.Slirp4netns)
	case v == network.DefaultName:
		return nil
	case strings.HasPrefix(v, containerMode):
		if strings.TrimPrefix(v, containerMode) == "" {
			return fmt.Errorf("invalid --network %q: want container:NAME or container:ID", v)
		}
		return nil
	case network.CheckName(v) != nil:
		return fmt.Errorf("invalid --network %q: want bridge, none, host, container:NAME|ID or the name of a network (network create)", v)
	}
	return nil
}

// netPlan is what spec made of a container's --network, -p, -P and
// --expose (fillRecord keeps it).
type netPlan struct {
	publish []network.PortMapping // -p's, as given (HostPort 0: chosen at start)
	ports   []network.PortMapping // published: -p's and -P's
	exposed []network.Port        // Config.ExposedPorts: the image's, --expose's, -p's
	// shareEtc is, with container:NAME, that container's directory,
	// whose /etc files the container shares (Docker's); "" when it has
	// none (made before it had them): then the container has its own.
	shareEtc string
	// ip is --ip's address (checked against the network: network's
	// CheckAddress), or the zero Addr.
	ip netip.Addr
	// mac is --mac-address's (network.ParseMAC), or nil.
	mac net.HardwareAddr
	// run is a foreground run's bridge network, which the run attaches
	// itself (withNetwork); nil otherwise.
	run container.Network
}

// bridged reports whether network mode mode is a bridge network's (the
// default one or of network create): not none, host nor container:.
func bridged(mode string) bool {
	return mode != "none" && mode != "host" && !userMode(mode) && !strings.HasPrefix(mode, containerMode)
}

// userModeDir is where the user-mode networks' programs keep their files:
// beneath $XDG_RUNTIME_DIR rootless, /run as root.
func userModeDir() (string, error) {
	if rootless.Active() {
		return rootless.RuntimeDir(filepath.Join(rootless.Name, "net"))
	}
	const dir = "/run/minimal-docker-net"
	return dir, os.MkdirAll(dir, 0o700)
}

// userMode reports whether network mode mode is a user-mode network's
// (pasta, slirp4netns: network.UserMode), a rootless container's way out.
func userMode(mode string) bool {
	return mode == network.Pasta || mode == network.Slirp4netns
}

// planNetwork reads the container's network flags into f.net (the ports
// a bridge network's hooks publish: withNetwork, once the /etc files are
// known), and puts the container in another container's network
// namespace for container:NAME (joinContainerNetwork, which records its
// ID in f.network); host's is the options'.
func (f *runFlags) planNetwork(g *globals, s *specs.Spec, img *imageRun) error {
	var p netPlan
	for _, v := range f.publish {
		m, err := network.ParsePublish(v)
		if err != nil {
			return err
		}
		p.publish = append(p.publish, m...)
	}
	var fromImage map[string]struct{}
	if img != nil {
		fromImage = img.config.ExposedPorts
	}
	exposed, err := exposedPorts(fromImage, f.expose, p.publish)
	if err != nil {
		return err
	}
	p.exposed, p.ports = exposed, p.publish
	if f.publishAll {
		for _, e := range exposed {
			if !slices.ContainsFunc(p.publish, func(m network.PortMapping) bool {
				return m.ContainerPort == e.Number && m.Protocol == e.Protocol
			}) {
				p.ports = append(p.ports, network.PortMapping{ContainerPort: e.Number, Protocol: e.Protocol})
			}
		}
	}
	f.net = p
	if f.ip != "" {
		ip, err := checkIP(g, f.ip, f.network)
		if err != nil {
			return err
		}
		f.net.ip = ip
	}
	if f.mac != "" {
		mac, err := network.ParseMAC(f.mac)
		if err != nil {
			return err
		}
		if !bridged(f.network) {
			return fmt.Errorf("%w (--mac-address with --network %s: the container has no interface of its own to give it to)", errConflictMAC, f.network)
		}
		f.net.mac = mac
	}
	switch mode := f.network; {
	case mode == "none" || mode == "host":
		if len(p.publish) > 0 {
			return fmt.Errorf("-p needs a bridge network (the default bridge or one of network create), not --network %s", mode)
		}
		f.net.ports = nil // -P: nothing to publish, as Docker's
		return nil
	case userMode(mode):
		return network.CheckUserPorts(p.ports)
	case strings.HasPrefix(mode, containerMode):
		switch {
		case len(p.publish) > 0 || f.publishAll:
			return errConflictPublish
		case len(f.expose) > 0:
			return errConflictExpose
		case f.hostnameSet:
			return errConflictHostname
		}
		c, err := joinContainerNetwork(g, s, strings.TrimPrefix(mode, containerMode))
		if err != nil {
			return err
		}
		if c.Config.Hostname != "" {
			s.Hostname = c.Config.Hostname // Docker's: the other container's
		}
		f.network = containerMode + c.ID
		if ctrs, err := g.containers(); err == nil {
			if _, err := os.Stat(filepath.Join(ctrs.Dir(c.ID), "hosts")); err == nil {
				f.net.shareEtc = ctrs.Dir(c.ID)
			}
		}
	}
	return nil
}

// exposedPorts are a container's exposed ports, sorted: the image's
// (those of a protocol other than tcp and udp left out), --expose's, and
// the container ports of -p (Docker exposes them too).
func exposedPorts(fromImage map[string]struct{}, expose []string, publish []network.PortMapping) ([]network.Port, error) {
	var out []network.Port
	for k := range fromImage {
		ps, err := network.ParseExpose(k)
		if err == nil {
			out = append(out, ps...)
		}
	}
	for _, v := range expose {
		ps, err := network.ParseExpose(v)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	for _, m := range publish {
		out = append(out, network.Port{Number: m.ContainerPort, Protocol: m.Protocol})
	}
	slices.SortFunc(out, func(a, b network.Port) int {
		if a.Number != b.Number {
			return a.Number - b.Number
		}
		return strings.Compare(a.Protocol, b.Protocol)
	})
	return slices.Compact(out), nil
}

// joinContainerNetwork puts spec s in the network namespace of container
// ref's init (/proc/PID/ns/net), which must be running (Docker's "cannot
// join network of a non running container").
func joinContainerNetwork(g *globals, s *specs.Spec, ref string) (*store.Container, error) {
	ctrs, err := g.containers()
	if err != nil {
		return nil, err
	}
	c, err := ctrs.Get(ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("--network container:%s: No such container: %s", ref, ref)
	}
	if err != nil {
		return nil, err
	}
	alive, err := proc.Alive(c.State.Pid, c.State.PidStartTime)
	if err != nil {
		return nil, err
	}
	if !c.State.Running || !alive {
		return nil, fmt.Errorf("--network container:%s: cannot join network of a non running container: %s", ref, c.ID)
	}
	path := fmt.Sprintf("/proc/%d/ns/net", c.State.Pid)
	// A container on a network of ours has its namespace pinned under the
	// store: that path stays its namespace across its restarts, so that
	// a restart policy's run of this one (the monitor's, on this bundle)
	// joins the namespace it has then, or fails while it is stopped,
	// where /proc/PID would name whatever process took PID next.
	if p := g.networks().NetnsOf(c.ID, c.State.Pid); p != "" {
		path = p
	}
	for i := range s.Linux.Namespaces {
		if s.Linux.Namespaces[i].Type == specs.NetworkNamespace {
			s.Linux.Namespaces[i].Path = path
			return c, nil
		}
	}
	return nil, fmt.Errorf("--network container:%s: the spec has no network namespace", ref)
}

// rejoinContainerNetwork points the bundle of container c, whose network
// mode is container:ID, at that container's network namespace as it is
// now (start: its init's pid has changed since create, or since the last
// start).
func rejoinContainerNetwork(g *globals, ctrs *store.Store, c *store.Container) error {
	ref, ok := strings.CutPrefix(c.HostConfig.NetworkMode, containerMode)
	if !ok {
		return nil
	}
	p := filepath.Join(ctrs.Dir(c.ID), "bundle", "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("start container %s: %w", c.ID, err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("start container %s: %s: %w", c.ID, p, err)
	}
	if s.Linux == nil {
		return fmt.Errorf("start container %s: %s: no linux section", c.ID, p)
	}
	if _, err := joinContainerNetwork(g, &s, ref); err != nil {
		return err
	}
	if b, err = spec.MarshalIndent(&s); err != nil {
		return fmt.Errorf("start container %s: %w", c.ID, err)
	}
	if err := ondisk.WriteFile(p, b, 0o600, ondisk.Durable); err != nil {
		return fmt.Errorf("start container %s: %w", c.ID, err)
	}
	return nil
}

// userModeName names a container's user-mode network's files in
// userModeDir (short: its API socket's path must fit in 107 bytes).
func userModeName(id string) string { return id[:min(len(id), 12)] }

// withUserMode gives a detached container (run -d, create) user-mode
// network tool, publishing ports, through the hooks in its config s:
// createRuntime starts the tool for the init's network namespace
// (userModeAdd), poststop stops it (userModeDel), at each start and end
// of the container — its monitor's restarts included — as a bridge
// network's hooks attach and detach it. dir is userModeDir.
func withUserMode(g *globals, s *specs.Spec, tool, dir string, ports []network.PortMapping) error {
	add := []string{"--dir", dir}
	for _, p := range ports {
		add = append(add, "--publish", p.String())
	}
	return withNetworkHooks(g, s, tool, add, []string{"--dir", dir})
}

// userModeAdd is `network hook add --dir DIR pasta|slirp4netns`: it
// starts tool for the network namespace of container id's init (pid),
// publishing ports, and leaves it running past the hook's end, recorded
// in dir (network.UserMode.Keep).
func userModeAdd(stderr io.Writer, tool, dir, id string, pid int, ports []network.PortMapping) error {
	if dir == "" {
		return fmt.Errorf("network hook add %s: no --dir", tool)
	}
	if pid <= 0 {
		return fmt.Errorf("network hook add %s: the container's state on stdin has no pid", tool)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil { // $XDG_RUNTIME_DIR emptied since create (a reboot)
		return fmt.Errorf("network hook add %s: %w", tool, err)
	}
	// Tools left by ends that ran no poststop hook (a monitor killed,
	// then its container ended) would hold their ports: stopped first.
	// Another container's leftover that can't be stopped does not keep
	// this one from starting: said on the hook's stderr.
	if err := network.SweepKept(dir); err != nil {
		fmt.Fprintf(stderr, "minimal-docker: warning: %v\n", err)
	}
	u := &network.UserMode{Tool: tool, Ports: ports, Dir: dir, Name: userModeName(id), Keep: true}
	return u.Attach(pid)
}

// userModeDel is `network hook del --dir DIR pasta|slirp4netns`: it stops
// the tool userModeAdd left for container id, if it still runs.
func userModeDel(dir, id string) error {
	if dir == "" {
		return errors.New("network hook del: no --dir")
	}
	return network.StopKept(dir, userModeName(id))
}

// userModeSettings is the NetworkSettings (inspect, port, ps) of
// detached container c on a user-mode network: while its tool runs, the
// ports it publishes (host ports chosen included) and the exposed ports
// not published as null, as a bridge network's (Docker's); no networks
// (Podman's, for pasta and slirp4netns).
func userModeSettings(c *store.Container) *store.NetworkSettings {
	ns := &store.NetworkSettings{Networks: map[string]store.EndpointSettings{}, Ports: map[string][]store.PortBinding{}}
	if !c.State.Running {
		return ns
	}
	if dir, err := userModeDir(); err == nil {
		if k, _ := network.ReadKept(dir, userModeName(c.ID)); k != nil {
			fillPorts(ns, k.Ports, c)
		}
	}
	return ns
}

// stopUserMode stops detached container c's user-mode network tool if
// its poststop hook did not (its monitor killed): rm leaves no pasta or
// slirp4netns behind.
func stopUserMode(c *store.Container) error {
	if !userMode(c.HostConfig.NetworkMode) {
		return nil
	}
	dir, err := userModeDir()
	if err != nil {
		return err
	}
	return network.StopKept(dir, userModeName(c.ID))
}

// checkIP reads --ip v for a container on network mode, as Docker does:
// only on a network of network create, an IPv4 address of its subnet,
// not its gateway (network's CheckAddress).
func checkIP(g *globals, v, mode string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("invalid --ip %q: not an IPv4 address", v)
	}
	if !bridged(mode) {
		return netip.Addr{}, fmt.Errorf("--ip %s: user specified IP address is supported on user defined networks only (not --network %s)", ip, mode)
	}
	n, err := g.networks().Get(mode)
	if err != nil {
		return netip.Addr{}, err
	}
	return ip, n.CheckAddress(ip)
}

// withAddresses are the network hook's flags member with --ip ip and
// --mac-address mac, those given.
func withAddresses(member []string, ip netip.Addr, mac net.HardwareAddr) []string {
	if ip.IsValid() {
		member = append(slices.Clone(member), "--ip", ip.String())
	}
	if mac != nil {
		member = append(slices.Clone(member), "--mac-address", mac.String())
	}
	return member
}
