package network

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
)

// disableIPv6 turns IPv6 off on interface ifName in the network
// namespace at netns, as Docker does for a network without IPv6 (ours
// are IPv4 only; moby's GHSA-x84c-p2g9-rqv9): else the kernel gives the
// interface a link-local address, over which the containers of a bridge
// reach each other past every IPv4 rule (enable_icc=false's drop), and
// router advertisements could give it more. loopback keeps ::1. A kernel
// without IPv6 has nothing to turn off.
func disableIPv6(netns, ifName string) error {
	p := "/proc/sys/net/ipv6/conf/" + ifName + "/disable_ipv6"
	err := namespaces.OnThreadIn(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netns}, func() error {
		// /proc/sys/net is the opening thread's namespace's.
		err := os.WriteFile(p, []byte("1"), 0)
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat("/proc/sys/net/ipv6"); errors.Is(serr, fs.ErrNotExist) {
				return nil // no IPv6 in this kernel
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("disable IPv6 on %s in %s: %w", ifName, netns, err)
	}
	return nil
}
