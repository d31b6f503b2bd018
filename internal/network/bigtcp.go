package network

// BIG TCP for IPv4 (Linux 6.3): a link's gso_ipv4_max_size and
// gro_ipv4_max_size let TCP hand the link, and the kernel merge, packets
// of more than 64 KiB, each still cut into MTU-sized frames wherever
// frames are put on a wire. A veth and a bridge put none on a wire: a
// packet crosses them whole. At the default MTU (1500) a 64 KiB packet
// is 45 segments, where loopback's (MTU 65536) is one, and TCP through
// the bridge ran at about 0.75 of loopback's rate; packets of
// bigTCPSize (Cilium's default), three times fewer, take it above
// loopback's here (bench, "Networks"). A packet
// that leaves the host is cut to the size of the link it leaves by
// (the kernel's software GSO), so nothing on the wire changes.
//
// The standard CNI plugins set no such size (the tuning plugin sets an
// MTU, not a GSO size), so Attach sets it once ADD has made the links:
// on the network's bridge (the host's traffic to a published port), the
// host end of the container's veth, and the container's interface.

import (
	"errors"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// bigTCPSize is the GSO and GRO size set on our networks' links.
const bigTCPSize = 196608

// bigTCPKernel is whether this kernel has BIG TCP for IPv4 (6.3); older
// ones are left as they are (their links keep 64 KiB).
var bigTCPKernel = proc.KernelAtLeast(6, 3)

// bigTCPAttrs are the attributes of the RTM_NEWLINK that sets the sizes.
func bigTCPAttrs() []byte {
	return append(u32Attr(unix.IFLA_GSO_IPV4_MAX_SIZE, bigTCPSize), u32Attr(unix.IFLA_GRO_IPV4_MAX_SIZE, bigTCPSize)...)
}

// bigTCPTook is which links took the BIG TCP sizes (setBigTCP).
type bigTCPTook struct {
	host      []string // of the host's links asked (bridge, veth)
	container string   // the container's interface, "" if it refused
}

// setBigTCP sets the BIG TCP sizes on hostLinks (the caller's network
// namespace) and on ifName in the network namespace at netns, and says
// which links took them. A link that refuses the size (EINVAL, ERANGE,
// EOPNOTSUPP: a device whose TSO limit is lower) keeps its own, which is
// no error: the size only speeds TCP up. A link that is not there is an
// error.
func setBigTCP(netns, ifName string, hostLinks []string) (bigTCPTook, error) {
	var took bigTCPTook
	if !bigTCPKernel {
		return took, nil
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return took, fmt.Errorf("big tcp: netlink socket: %w", err)
	}
	defer unix.Close(fd)
	for _, name := range hostLinks {
		ok, err := bigTCPLink(fd, name)
		if err != nil {
			return took, err
		}
		if ok {
			took.host = append(took.host, name)
		}
	}
	nfd, err := netlinkIn(netns)
	if err != nil {
		return took, fmt.Errorf("big tcp: %s in %s: %w", ifName, netns, err)
	}
	defer unix.Close(nfd)
	ok, err := bigTCPLink(nfd, ifName)
	if ok {
		took.container = ifName
	}
	return took, err
}

// bigTCPLink sets the sizes on link name (of the namespace of the
// netlink socket fd), named in the message: RTM_NEWLINK without
// NLM_F_CREATE changes the link of that name, or says ENODEV. It says
// whether the link took them.
func bigTCPLink(fd int, name string) (bool, error) {
	err := linkRequest(fd, unix.RTM_NEWLINK, 0, append(nameAttr(name), bigTCPAttrs()...))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ERANGE) || errors.Is(err, unix.EOPNOTSUPP):
		return false, nil
	}
	return false, fmt.Errorf("big tcp: link %s: %w", name, err)
}

// String says which links took the sizes, for --explain.
func (t bigTCPTook) String() string {
	if !bigTCPKernel {
		return "BIG TCP: not set (Linux before 6.3: the links keep 64 KiB packets)"
	}
	host, ctr := "none", "refused"
	if len(t.host) > 0 {
		host = strings.Join(t.host, ", ")
	}
	if t.container != "" {
		ctr = t.container
	}
	return fmt.Sprintf("BIG TCP: gso_ipv4_max_size and gro_ipv4_max_size %d on the host's %s, and the container's %s", bigTCPSize, host, ctr)
}

// netlinkIn opens a NETLINK_ROUTE socket in the network namespace at
// path: a socket stays in the namespace it was made in.
func netlinkIn(path string) (int, error) {
	fd := -1
	err := namespaces.OnThreadIn(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: path}, func() error {
		var err error
		if fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE); err != nil {
			return fmt.Errorf("netlink socket: %w", err)
		}
		return nil
	})
	if err != nil && fd >= 0 {
		unix.Close(fd)
		fd = -1
	}
	return fd, err
}
