package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/ondisk"
)

// IfName is the container's interface on its network.
const IfName = "eth0"

// cniTimeout bounds one ADD or DEL (the plugins run iptables).
const cniTimeout = 2 * time.Minute

// Endpoint is a container's place on a network, from CNI's result.
type Endpoint struct {
	Address netip.Prefix // the container's address and the subnet's length
	Gateway netip.Addr
	MAC     string

	hostLinks []string   // the result's links on the host (bridge, veth)
	bigTCP    bigTCPTook // the links that took BIG TCP's sizes
}

// Describe says, for --explain, what the container got: its interface's
// address, gateway and MAC, and the links that took BIG TCP's sizes.
func (e *Endpoint) Describe() string {
	return fmt.Sprintf("address %s, gateway %s, MAC %s; %s", e.Address, e.Gateway, e.MAC, e.bigTCP)
}

func (s *Store) cni() *libcni.CNIConfig {
	return libcni.NewCNIConfigWithCacheDir(s.pluginDirs, s.cacheDir(), nil)
}

func runtimeConf(id, netns, ifName string) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: ifName}
}

// leaseHolder names the container that holds address ip on network name
// (host-local's lease file: the container's ID, then its interface), as
// " by container ID12"; "" when the file says none.
func (s *Store) leaseHolder(name string, ip netip.Addr) string {
	b, err := os.ReadFile(filepath.Join(s.IPAMDir(name), ip.String()))
	if err != nil {
		return ""
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if id = strings.TrimSpace(id); id == "" {
		return ""
	}
	return " by container " + id[:min(12, len(id))]
}

// pinPath is where container id's network namespace is bind-mounted.
func (s *Store) pinPath(id string) string { return filepath.Join(s.netnsDir(), id) }

// AttachOptions are an attachment's own settings.
type AttachOptions struct {
	IfName string        // the container's interface ("": eth0)
	Ports  []PortMapping // published through the portmap plugin
	Member *Member       // its names and hosts file (names.go); nil: none
	// IP is the address asked for (--ip; Network.CheckAddress), or the
	// zero Addr: host-local's next free one.
	IP netip.Addr
	// MAC is the container's interface's address asked for
	// (--mac-address; ParseMAC), or nil: the kernel's random one.
	MAC net.HardwareAddr
}

// Attach puts container id, whose init is pid, on network n: it pins the
// init's network namespace (netns/ID; kept when it is that namespace
// already, the container being on another network) and runs CNI ADD
// there, with o.Ports as the portMappings capability (the portmap plugin
// publishes them; those without a host port get a free one, which the
// cached result keeps; a container without ports gets the chain without
// portmap), once the network's firewall rules are there and the host
// ports are free (no other container publishes them, no program of the
// host holds them); the interface gets IPv6 off (disableIPv6); then the
// hosts files of the network's containers learn its address (names.go). On failure it undoes all (CNI DEL,
// unpin). It holds the store's lock shared meanwhile, so that network
// rm (Remove, exclusive) neither removes the network under an ADD nor
// misses the attachment the ADD makes (a network removed before is not
// found).
func (s *Store) Attach(n *Network, id string, pid int, o AttachOptions) (*Endpoint, error) {
	ports := o.Ports
	if o.IfName == "" {
		o.IfName = IfName
	}
	if pid <= 0 {
		return nil, fmt.Errorf("network %s: attach %s: no pid in the container's state", n.Name, id)
	}
	lock, err := ondisk.LockPathShared(filepath.Join(s.dir, ".lock"))
	if err != nil {
		return nil, fmt.Errorf("network %s: attach %s: %w", n.Name, id, err)
	}
	defer lock.Close()
	list, err := s.confList(n.Name)
	if err == nil {
		var dynamic []map[string]string
		if !o.IP.IsValid() && n.IPRange.IsValid() {
			dynamic = n.ipamRanges(n.IPRange)
		}
		list, err = containerChain(list, len(ports) > 0, o.MAC, s.tuningDir(), dynamic)
	}
	if err != nil {
		return nil, err
	}
	if !linkExists(n.Bridge()) {
		// The network's first container since network create or a
		// reboot (which took the rules away): the bridge plugin makes the
		// bridge. (Once it is there, the rules are: no iptables-save on
		// every start.)
		if err := s.firewallUp(n); err != nil {
			return nil, fmt.Errorf("network %s: attach %s: %w", n.Name, id, err)
		}
	}
	pin, err := s.pin(id, pid)
	if err != nil {
		return nil, fmt.Errorf("network %s: attach %s: %w", n.Name, id, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cniTimeout)
	defer cancel()
	rt := runtimeConf(id, pin, o.IfName)
	if o.IP.IsValid() {
		// host-local takes a requested address from CNI_ARGS' IP (and
		// fails when another container holds it); IgnoreUnknown lets the
		// chain's other plugins pass over it.
		rt.Args = [][2]string{{"IgnoreUnknown", "1"}, {"IP", o.IP.String()}}
	}
	if len(ports) > 0 {
		// Under the ports' lock until ADD has cached its result, so that
		// two containers can't both take a host port.
		lock, err := ondisk.LockPath(filepath.Join(s.dir, ".ports.lock"))
		if err == nil {
			defer lock.Close()
			if ports, err = s.portsFree(id, ports); err == nil {
				err = hostPortsFree(ports)
			}
		}
		if err != nil {
			err = fmt.Errorf("network %s: attach %s: %w", n.Name, id, err)
			if derr := s.detachLocked(n.Name, id, o.IfName, nil); derr != nil {
				err = errors.Join(err, derr)
			}
			return nil, err
		}
		rt.CapabilityArgs = map[string]interface{}{"portMappings": ports}
	}
	res, err := s.cni().AddNetworkList(ctx, list, rt)
	var ep *Endpoint
	if err == nil {
		ep, err = endpointOf(res)
	}
	if err == nil {
		ep.bigTCP, err = setBigTCP(pin, o.IfName, ep.hostLinks)
	}
	if err == nil {
		err = disableIPv6(pin, o.IfName)
	}
	if err == nil {
		err = s.join(n.Name, id, ep.Address.Addr(), o.Member)
	}
	if err != nil {
		if o.IP.IsValid() && strings.Contains(err.Error(), "is not available") {
			err = fmt.Errorf("--ip %s: address already in use%s: %w", o.IP, s.leaseHolder(n.Name, o.IP), err)
		}
		err = fmt.Errorf("network %s: attach %s (CNI ADD): %w", n.Name, id, err)
		if derr := s.detachLocked(n.Name, id, o.IfName, rt.CapabilityArgs); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, err
	}
	return ep, nil
}

// Detach takes container id off network name (CNI DEL, with the cached
// result and config of its ADD when there is one, else the network's
// conflist; in its pinned namespace while that is there), then unpins
// the namespace once no network holds the container. A container never
// attached, or detached already, is no error, and runs no DEL (no result
// cached, no pin).
func (s *Store) Detach(name, id string) error {
	return s.detachLocked(name, id, IfName, nil)
}

// DetachGone is Detach from network name, then from every other network
// container id has an attachment on (network connect's: the poststop
// hook's config names only the network the container was created on),
// for a container whose processes are gone (a foreground run's end, the
// poststop hook): its network
// namespace is unpinned first, so that the kernel takes the namespace
// down, and the veths in it, while the DELs run without it (CNI's DEL
// for a namespace that is gone: the plugins release the address, and
// portmap its rules); then it waits until the veths' host ends are gone
// too. With the namespace pinned, the bridge plugin's DEL deletes the
// container's end itself, and the kernel's teardown of the veth (about
// 25 ms here) comes on top of the plugins' execs; this way they overlap.
// A veth still there vethWait after the DELs (something else holds the
// namespace: a container that joined it, a process left by a --pid host
// container, a copy of the pin in another mount namespace) is deleted
// from its host end, which takes its peer with it, as DEL would have.
func (s *Store) DetachGone(name, id string) error {
	lock, err := s.detachLock()
	if err != nil {
		return fmt.Errorf("network %s: detach %s: %w", name, id, err)
	}
	defer lock.Close()
	atts, err := s.cni().GetCachedAttachments(id)
	if err != nil {
		return fmt.Errorf("network %s: detach %s: %w", name, id, err)
	}
	// Without a result cached for name (an ADD undone, or killed before
	// it cached one), DEL runs with the conflist in the pinned namespace,
	// as Detach's.
	var veths []link
	if slices.ContainsFunc(atts, func(a *libcni.NetworkAttachment) bool { return a.Network == name }) {
		veths = s.hostVeths(id, atts)
		if err := s.unpin(id); err != nil {
			return fmt.Errorf("network %s: detach %s: %w", name, id, err)
		}
	}
	err = s.detach(name, id, IfName, nil)
	for _, a := range atts {
		if a.Network != name {
			err = errors.Join(err, s.detach(a.Network, id, a.IfName, nil))
		}
	}
	lock.Close() // the wait needs no lock: the veths are no other DEL's
	return errors.Join(err, waitLinksGone(veths, vethWait))
}

// vethWait is how long DetachGone waits, after the DELs, for the kernel
// to take a veth away with its namespace before it deletes it itself.
const vethWait = 250 * time.Millisecond

// hostVeths are the host ends of container id's veths, from its ADDs'
// cached results (the interfaces outside the namespace that are not the
// network's bridge), with their indexes now.
func (s *Store) hostVeths(id string, atts []*libcni.NetworkAttachment) []link {
	var links []link
	for _, a := range atts {
		list, err := libcni.ConfListFromBytes(a.Config)
		if err != nil {
			continue
		}
		r, err := s.cni().GetNetworkListCachedResult(list, runtimeConf(id, "", a.IfName))
		if err != nil || r == nil {
			continue
		}
		res, err := types100.NewResultFromResult(r)
		if err != nil {
			continue
		}
		bridge := bridgeOf(list)
		for _, i := range res.Interfaces {
			if i.Sandbox != "" || i.Name == bridge {
				continue
			}
			if index, err := linkIndex(i.Name); err == nil {
				links = append(links, link{name: i.Name, index: index})
			}
		}
	}
	return links
}

// bridgeOf is the bridge device of a conflist's bridge plugin.
func bridgeOf(list *libcni.NetworkConfigList) string {
	for _, p := range list.Plugins {
		var c struct {
			Type   string `json:"type"`
			Bridge string `json:"bridge"`
		}
		if json.Unmarshal(p.Bytes, &c) == nil && c.Type == "bridge" {
			return c.Bridge
		}
	}
	return ""
}

// detachLocked is Detach under the detach lock; ifName and capArgs (the
// published ports) are DEL's when no ADD result is cached.
func (s *Store) detachLocked(name, id, ifName string, capArgs map[string]interface{}) error {
	lock, err := s.detachLock()
	if err != nil {
		return fmt.Errorf("network %s: detach %s: %w", name, id, err)
	}
	defer lock.Close()
	return s.detach(name, id, ifName, capArgs)
}

// detachLock is taken by Detach and Sweep, so that a sweep never runs
// DEL beside a container's own.
func (s *Store) detachLock() (*os.File, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	return ondisk.LockPath(filepath.Join(s.dir, ".detach.lock"))
}

func (s *Store) detach(name, id, ifName string, capArgs map[string]interface{}) error {
	var list *libcni.NetworkConfigList
	att, err := s.attachment(name, id)
	if err != nil {
		return err
	}
	if att != nil {
		capArgs = att.CapabilityArgs // the published ports, for portmap
		ifName = att.IfName

		if list, err = libcni.ConfListFromBytes(att.Config); err != nil {
			return fmt.Errorf("network %s: detach %s: cached config: %w", name, id, err)
		}
	} else if _, err := os.Lstat(s.pinPath(id)); errors.Is(err, fs.ErrNotExist) {
		// No result and no pin: ADD never ran (Attach pins first), or
		// this DEL is a second one (the poststop hook after an ADD
		// that failed and was undone). Nothing to undo.
		return nil
	} else if list, err = s.confList(name); errors.Is(err, ErrNotFound) {
		list = nil // nothing to undo
	} else if err != nil {
		return err
	}
	pin := s.pinPath(id)
	if !isNetns(pin) {
		pin = "" // gone: DEL releases the address, the kernel took the veth
	}
	if list != nil {
		ctx, cancel := context.WithTimeout(context.Background(), cniTimeout)
		defer cancel()
		rt := runtimeConf(id, pin, ifName)
		rt.CapabilityArgs = capArgs
		if err := s.cni().DelNetworkList(ctx, list, rt); err != nil {
			return fmt.Errorf("network %s: detach %s (CNI DEL): %w", name, id, err)
		}
	}
	if err := os.Remove(s.tuningBackup(id, ifName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("network %s: detach %s: %w", name, id, err)
	}
	if err := s.leave(name, id); err != nil {
		return fmt.Errorf("network %s: detach %s: %w", name, id, err)
	}
	left, err := s.cni().GetCachedAttachments(id)
	if err != nil {
		return fmt.Errorf("network %s: detach %s: %w", name, id, err)
	}
	if len(left) == 0 {
		return s.unpin(id)
	}
	return nil
}

// Endpoint is container id's place on network name from the cached
// result of its ADD; nil when it is not attached.
func (s *Store) Endpoint(name, id string) (*Endpoint, error) {
	att, err := s.attachment(name, id)
	if err != nil || att == nil {
		return nil, err
	}
	list, err := libcni.ConfListFromBytes(att.Config)
	if err != nil {
		return nil, fmt.Errorf("network %s: %s: cached config: %w", name, id, err)
	}
	res, err := s.cni().GetNetworkListCachedResult(list, runtimeConf(id, "", att.IfName))
	if err != nil {
		return nil, fmt.Errorf("network %s: %s: cached result: %w", name, id, err)
	}
	if res == nil {
		return nil, nil
	}
	return endpointOf(res)
}

// IfNames are the interfaces container id has on networks (its cached
// ADD results).
func (s *Store) IfNames(id string) ([]string, error) {
	atts, err := s.cni().GetCachedAttachments(id)
	if err != nil {
		return nil, fmt.Errorf("%s: attachments: %w", id, err)
	}
	var names []string
	for _, a := range atts {
		names = append(names, a.IfName)
	}
	return names, nil
}

// Attached lists the containers attached to network name (those with a
// cached ADD result).
func (s *Store) Attached(name string) ([]string, error) {
	atts, err := s.cni().GetCachedAttachments("")
	if err != nil {
		return nil, fmt.Errorf("network %s: attachments: %w", name, err)
	}
	var ids []string
	for _, a := range atts {
		if a.Network == name {
			ids = append(ids, a.ContainerID)
		}
	}
	return ids, nil
}

func (s *Store) attachment(name, id string) (*libcni.NetworkAttachment, error) {
	atts, err := s.cni().GetCachedAttachments(id)
	if err != nil {
		return nil, fmt.Errorf("network %s: %s: attachments: %w", name, id, err)
	}
	for _, a := range atts {
		if a.Network == name {
			return a, nil // one interface per network and container
		}
	}
	return nil, nil
}

// confList reads network name's conflist for libcni.
func (s *Store) confList(name string) (*libcni.NetworkConfigList, error) {
	b, err := os.ReadFile(s.confPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("network %s %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	list, err := libcni.ConfListFromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("network %s: %s: %w", name, s.confPath(name), err)
	}
	return list, nil
}

// containerChain is the network's conflist list as one container's ADD
// runs it:
//   - without its portmap plugin when the container publishes no port
//     (portmap would only pass the result on (ADD) and return (DEL), an
//     exec of ~15 ms each way);
//   - with the tuning plugin after the bridge when it asks for a MAC
//     address (the bridge plugin of Debian's containernetworking-plugins
//     1.1 takes none; tuning sets it on the container's interface, and
//     the result says it, so that inspect does; its backup of the old
//     one goes to tuningDir, which detach empties);
//   - with host-local's ranges replaced by dynamic, when not nil (a
//     network's --ip-range, for a container that asks for no address:
//     the conflist's own ranges span the subnet, where --ip may ask).
//
// libcni caches the list that ADD ran, bytes and all, and DEL runs that
// list again: the bytes are rewritten, not only the parsed plugins.
func containerChain(list *libcni.NetworkConfigList, publish bool, mac net.HardwareAddr, tuningDir string, dynamic []map[string]string) (*libcni.NetworkConfigList, error) {
	if publish && mac == nil && dynamic == nil {
		return list, nil
	}
	var raw map[string]any
	if err := json.Unmarshal(list.Bytes, &raw); err != nil {
		return nil, fmt.Errorf("network %s: conflist: %w", list.Name, err)
	}
	plugins, _ := raw["plugins"].([]any)
	var kept []any
	for _, p := range plugins {
		m, _ := p.(map[string]any)
		if m["type"] == "portmap" && !publish {
			continue
		}
		kept = append(kept, p)
		if ipam, _ := m["ipam"].(map[string]any); m["type"] == "bridge" && ipam != nil && dynamic != nil {
			ipam["ranges"] = [][]map[string]string{dynamic}
		}
		if m["type"] == "bridge" && mac != nil {
			kept = append(kept, map[string]any{"type": "tuning", "mac": mac.String(), "dataDir": tuningDir})
		}
	}
	raw["plugins"] = kept
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("network %s: conflist: %w", list.Name, err)
	}
	out, err := libcni.ConfListFromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("network %s: conflist: %w", list.Name, err)
	}
	return out, nil
}

// tuningBackup is the file in which the tuning plugin keeps the MAC
// address it replaced on container id's interface ifName, which its DEL
// restores and removes, but only where the interface still is: a DEL
// after the network namespace is gone (DetachGone's) leaves it.
func (s *Store) tuningBackup(id, ifName string) string {
	return filepath.Join(s.tuningDir(), id+"_"+ifName+".json")
}

// ParseMAC reads --mac-address v: a 48-bit unicast address, other than
// zero (the kernel refuses the others on an Ethernet interface).
func ParseMAC(v string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(v)
	switch {
	case err != nil || len(mac) != 6:
		return nil, fmt.Errorf("invalid --mac-address %q: not a 48-bit MAC address (as 92:d0:c6:0a:29:33)", v)
	case mac[0]&1 != 0:
		return nil, fmt.Errorf("invalid --mac-address %q: a multicast address (the first byte's lowest bit is set)", v)
	case slices.Equal(mac, make(net.HardwareAddr, 6)):
		return nil, fmt.Errorf("invalid --mac-address %q: the zero address", v)
	}
	return mac, nil
}

// endpointOf reads the container's address, gateway and MAC from a CNI
// result.
func endpointOf(r types.Result) (*Endpoint, error) {
	res, err := types100.NewResultFromResult(r)
	if err != nil {
		return nil, fmt.Errorf("CNI result: %w", err)
	}
	ep := &Endpoint{}
	for _, ip := range res.IPs {
		addr, ok := netip.AddrFromSlice(ip.Address.IP.To4())
		if !ok {
			continue
		}
		ones, _ := ip.Address.Mask.Size()
		ep.Address = netip.PrefixFrom(addr, ones)
		ep.Gateway, _ = netip.AddrFromSlice(ip.Gateway.To4())
		if ip.Interface != nil && *ip.Interface < len(res.Interfaces) {
			ep.MAC = res.Interfaces[*ip.Interface].Mac
		}
		break
	}
	for _, i := range res.Interfaces {
		if i.Sandbox == "" {
			ep.hostLinks = append(ep.hostLinks, i.Name)
		} else if ep.MAC == "" {
			ep.MAC = i.Mac
		}
	}
	return ep, nil
}

// pin bind-mounts /proc/PID/ns/net on netns/ID, so that CNI can name the
// namespace, and DEL can run in it once the container's processes are
// gone. A pin left by an earlier run of the same container is replaced.
func (s *Store) pin(id string, pid int) (string, error) {
	if err := os.MkdirAll(s.netnsDir(), 0o700); err != nil {
		return "", fmt.Errorf("pin netns: %w", err)
	}
	p := s.pinPath(id)
	src := fmt.Sprintf("/proc/%d/ns/net", pid)
	if sameFile(p, src) {
		return p, nil // pinned for another network of the container
	}
	if err := s.unpin(id); err != nil {
		return "", err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("pin netns: %w", err)
	}
	f.Close()
	if err := unix.Mount(src, p, "", unix.MS_BIND, ""); err != nil {
		os.Remove(p)
		return "", &os.PathError{Op: "pin netns: bind-mount " + src + " on", Path: p, Err: err}
	}
	return p, nil
}

// NetnsOf is container id's pinned network namespace when that is the
// one of its init pid now (a container on a network of ours), else "".
// Unlike /proc/PID/ns/net, the path names the container's namespace at
// each of its starts, and nothing when it is not running.
func (s *Store) NetnsOf(id string, pid int) string {
	p := s.pinPath(id)
	if isNetns(p) && sameFile(p, fmt.Sprintf("/proc/%d/ns/net", pid)) {
		return p
	}
	return ""
}

// unpin unmounts and removes container id's pin, if any.
func (s *Store) unpin(id string) error {
	p := s.pinPath(id)
	for isNetns(p) {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
			return &os.PathError{Op: "unpin netns: umount", Path: p, Err: err}
		}
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unpin netns: %w", err)
	}
	return nil
}

// sameFile reports whether a and b are the same file (a pin and the
// namespace it should hold).
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// isNetns reports whether p is a network namespace (a pin still mounted).
func isNetns(p string) bool {
	var st unix.Statfs_t
	return unix.Statfs(p, &st) == nil && st.Type == unix.NSFS_MAGIC
}

// Pinned lists the containers whose namespace is pinned (for the
// leftovers checks of tests and, later, prune).
func (s *Store) Pinned() ([]string, error) {
	ents, err := os.ReadDir(s.netnsDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pinned netns: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// Release is Detach for a container that its runtime should have
// detached already (rm's safety net, after the poststop hook): nothing
// runs when no ADD result is cached and no namespace is pinned.
func (s *Store) Release(name, id string) error {
	att, err := s.attachment(name, id)
	if err != nil {
		return err
	}
	if att == nil && !isNetns(s.pinPath(id)) {
		return s.unpin(id) // a pin file never mounted
	}
	return s.Detach(name, id)
}

// Sweep releases what containers that are gone left on network name: an
// attachment (a cached ADD result) or a pinned namespace whose container
// live says is gone — a foreground run killed (-9) before its poststop
// hook, or a hook killed midway. Each gets what its runtime would have
// run: CNI DEL with the cached result (the address, the veth, the
// plugins' rules), then the pin's unmount. A pin with no attachment at
// all (a kill between the pin and ADD's result) is released with the
// network's conflist. It returns the containers released.
func (s *Store) Sweep(name string, live func(id string) (bool, error)) ([]string, error) {
	ids, err := s.Attached(name)
	if err != nil {
		return nil, err
	}
	pinned, err := s.Pinned()
	if err != nil {
		return nil, err
	}
	for _, id := range pinned {
		if atts, err := s.cni().GetCachedAttachments(id); err == nil && len(atts) == 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	lock, err := s.detachLock()
	if err != nil {
		return nil, fmt.Errorf("network %s: sweep: %w", name, err)
	}
	defer lock.Close()
	var released []string
	var errs []error
	for _, id := range ids {
		alive, err := live(id)
		if err != nil {
			errs = append(errs, fmt.Errorf("network %s: sweep %s: %w", name, id, err))
			continue
		}
		if alive {
			continue
		}
		if err := s.detach(name, id, IfName, nil); err != nil {
			errs = append(errs, fmt.Errorf("sweep: %w", err))
			continue
		}
		released = append(released, id)
	}
	return released, errors.Join(errs...)
}

// published are the ports that the containers attached (on any network
// of the store) but id publish, from their ADDs' cached results.
func (s *Store) published(id string) ([]PortMapping, error) {
	atts, err := s.cni().GetCachedAttachments("")
	if err != nil {
		return nil, fmt.Errorf("published ports: %w", err)
	}
	var out []PortMapping
	for _, a := range atts {
		if a.ContainerID != id {
			out = append(out, cachedPorts(a)...)
		}
	}
	return out, nil
}

// cachedPorts are the ports an attachment's ADD published.
func cachedPorts(a *libcni.NetworkAttachment) []PortMapping {
	b, err := json.Marshal(a.CapabilityArgs["portMappings"])
	if err != nil {
		return nil
	}
	var ports []PortMapping
	if json.Unmarshal(b, &ports) != nil {
		return nil
	}
	return ports
}

// Ports are the ports container id publishes on network name (those its
// ADD published, host ports chosen included); nil when it is not
// attached.
func (s *Store) Ports(name, id string) ([]PortMapping, error) {
	att, err := s.attachment(name, id)
	if err != nil || att == nil {
		return nil, err
	}
	return cachedPorts(att), nil
}

// portsFree refuses ports that another container attached publishes
// already (Docker's "port is already allocated"; portmap itself would
// shadow one with the other), and chooses the host ports not given.
func (s *Store) portsFree(id string, ports []PortMapping) ([]PortMapping, error) {
	taken, err := s.published(id)
	if err != nil {
		return nil, err
	}
	for _, p := range ports {
		for _, q := range taken {
			if p.HostPort != 0 && clash(p, q) {
				ip := p.HostIP
				if ip == "" {
					ip = "0.0.0.0"
				}
				return nil, fmt.Errorf("Bind for %s:%d failed: port is already allocated", ip, p.HostPort)
			}
		}
	}
	return assignPorts(ports, taken)
}
