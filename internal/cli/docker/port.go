package docker

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

// newPortCmd is `port CONTAINER [PRIVATE_PORT[/PROTO]]`: Docker's list of
// a container's published ports (NetworkSettings.Ports: those of a
// container on its network), "80/tcp -> 0.0.0.0:8080" a line, or the
// host's addresses of one port.
func newPortCmd(g *globals, st Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List a container's published ports, or those of one of its ports",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			return dockerError(port(g, st, args))
		},
	}
}

func port(g *globals, st Streams, args []string) error {
	s, err := g.containers()
	if err != nil {
		return err
	}
	c, err := s.Get(args[0])
	if err != nil {
		return err
	}
	var ports map[string][]store.PortBinding
	if ns := networkSettings(g, c); ns != nil {
		ports = ns.Ports
	}
	if len(args) == 2 {
		key := args[1]
		if !strings.Contains(key, "/") {
			key += "/tcp"
		}
		num, proto, _ := strings.Cut(key, "/")
		if n, err := strconv.Atoi(num); err != nil || n < 1 || n > 65535 || (proto != "tcp" && proto != "udp") {
			return fmt.Errorf("invalid port %q: want PORT[/tcp|udp]", args[1])
		}
		bs := ports[key]
		if len(bs) == 0 {
			return fmt.Errorf("No public port '%s' published for %s", key, strings.TrimPrefix(c.Name, "/"))
		}
		for _, b := range bs {
			fmt.Fprintf(st.Out, "%s:%s\n", b.HostIp, b.HostPort)
		}
		return nil
	}
	keys := make([]string, 0, len(ports))
	for k := range ports {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { // by port, then protocol
		na, pa, _ := strings.Cut(a, "/")
		nb, pb, _ := strings.Cut(b, "/")
		x, _ := strconv.Atoi(na)
		y, _ := strconv.Atoi(nb)
		if x != y {
			return x - y
		}
		return strings.Compare(pa, pb)
	})
	for _, k := range keys {
		for _, b := range ports[k] {
			fmt.Fprintf(st.Out, "%s -> %s:%s\n", k, b.HostIp, b.HostPort)
		}
	}
	return nil
}
