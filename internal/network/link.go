package network

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// deleteLink deletes network interface name of the caller's network
// namespace (RTM_DELLINK), if it is there: a network's bridge, which the
// bridge plugin makes on the first ADD and never removes. (One netlink
// message; the netlink libraries would bring much more.)
func deleteLink(name string) error {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		if strings.Contains(err.Error(), "no such network interface") {
			return nil
		}
		return fmt.Errorf("delete link %s: %w", name, err)
	}
	return deleteLinkIndex(name, ifi.Index)
}

// deleteLinkIndex deletes the interface of index (named name, for the
// errors); gone already is no error.
func deleteLinkIndex(name string, index int) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("delete link %s: netlink socket: %w", name, err)
	}
	defer unix.Close(fd)
	err = linkRequest(fd, unix.RTM_DELLINK, index, nil)
	if err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete link %s: %w", name, err)
	}
	return nil
}

// linkRequest sends the link message typ (RTM_DELLINK, RTM_NEWLINK) for
// the interface of index, with attrs (netlink attributes, each padded
// already), on the NETLINK_ROUTE socket fd, and returns the kernel's
// answer: nil, or its errno.
func linkRequest(fd int, typ uint16, index int, attrs []byte) error {
	size := unix.SizeofNlMsghdr + unix.SizeofIfInfomsg + len(attrs)
	buf := make([]byte, size)
	hdr := (*unix.NlMsghdr)(unsafe.Pointer(&buf[0]))
	*hdr = unix.NlMsghdr{Len: uint32(size), Type: typ, Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK, Seq: 1}
	info := (*unix.IfInfomsg)(unsafe.Pointer(&buf[unix.SizeofNlMsghdr]))
	*info = unix.IfInfomsg{Family: unix.AF_UNSPEC, Index: int32(index)}
	copy(buf[unix.SizeofNlMsghdr+unix.SizeofIfInfomsg:], attrs)
	if err := unix.Sendto(fd, buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	reply := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, reply, 0)
	if err != nil {
		return err
	}
	// The ack: a header, then nlmsgerr's error code (0: done).
	if n < unix.SizeofNlMsghdr+4 {
		return errors.New("short netlink reply")
	}
	rh := (*unix.NlMsghdr)(unsafe.Pointer(&reply[0]))
	if rh.Type == unix.NLMSG_ERROR {
		if code := *(*int32)(unsafe.Pointer(&reply[unix.SizeofNlMsghdr])); code != 0 {
			return unix.Errno(-code)
		}
	}
	return nil
}

// nameAttr is the netlink attribute IFLA_IFNAME naming link name.
func nameAttr(name string) []byte {
	n := unix.SizeofNlAttr + len(name) + 1 // NUL-terminated
	a := make([]byte, (n+unix.NLA_ALIGNTO-1)&^(unix.NLA_ALIGNTO-1))
	*(*unix.NlAttr)(unsafe.Pointer(&a[0])) = unix.NlAttr{Len: uint16(n), Type: unix.IFLA_IFNAME}
	copy(a[unix.SizeofNlAttr:], name)
	return a
}

// u32Attr is a netlink attribute of type typ holding v.
func u32Attr(typ uint16, v uint32) []byte {
	a := make([]byte, unix.SizeofNlAttr+4)
	*(*unix.NlAttr)(unsafe.Pointer(&a[0])) = unix.NlAttr{Len: uint16(len(a)), Type: typ}
	*(*uint32)(unsafe.Pointer(&a[unix.SizeofNlAttr])) = v
	return a
}

// linkExists reports whether network interface name is in the caller's
// network namespace.
func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// link is a network interface of the caller's network namespace, by its
// name and its index (a name can be another's once it is gone).
type link struct {
	name  string
	index int
}

// linkIndex is interface name's index (SIOCGIFINDEX: one ioctl, where
// net.InterfaceByName reads every link); ENODEV when there is none.
func linkIndex(name string) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("link %s: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("link %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("link %s: %w", name, err)
	}
	return int(ifr.Uint32()), nil
}

// gone reports whether l is no longer there (its name gone, or another's).
func (l link) gone() bool {
	index, err := linkIndex(l.name)
	return err != nil || index != l.index
}

// waitLinksGone waits, polling every millisecond, until links are gone,
// for at most wait; then it deletes those still there.
func waitLinksGone(links []link, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	var errs []error
	for _, l := range links {
		for !l.gone() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if !l.gone() {
			errs = append(errs, deleteLinkIndex(l.name, l.index))
		}
	}
	return errors.Join(errs...)
}
