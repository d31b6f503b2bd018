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
	slices.SortFunc(keys, comparePorts)
	for _, k := range keys {
		for _, b := range ports[k] {
			fmt.Fprintf(st.Out, "%s -> %s:%s\n", k, b.HostIp, b.HostPort)
		}
	}
	return nil
}

// comparePorts orders Docker's port keys ("80/tcp") by port, then
// protocol.
func comparePorts(a, b string) int {
	na, pa, _ := strings.Cut(a, "/")
	nb, pb, _ := strings.Cut(b, "/")
	x, _ := strconv.Atoi(na)
	y, _ := strconv.Atoi(nb)
	if x != y {
		return x - y
	}
	return strings.Compare(pa, pb)
}

// psPorts is ps's PORTS of a running container, Docker's: its published
// ports as "0.0.0.0:8080->80/tcp", consecutive ones as one range
// ("0.0.0.0:9000-9001->7000-7001/udp"), by container port; an exposed
// port not published as "80/tcp". The ports are c.NetworkSettings's when
// it is filled in (host ports chosen at start: psNeedsSettings), else
// HostConfig.PortBindings.
func psPorts(c *store.Container) string {
	if !c.State.Running {
		return ""
	}
	type one struct {
		ip         string
		host, cont int
		proto      string
	}
	var all []one
	var bare []string
	bindings := c.HostConfig.PortBindings
	if c.NetworkSettings != nil {
		bindings = c.NetworkSettings.Ports
	}
	for key, bs := range bindings {
		num, proto, _ := strings.Cut(key, "/")
		cont, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		if bs == nil {
			bare = append(bare, key)
		}
		for _, b := range bs {
			host, err := strconv.Atoi(b.HostPort)
			if err != nil {
				continue
			}
			ip := b.HostIp
			if ip == "" {
				ip = "0.0.0.0"
			}
			all = append(all, one{ip, host, cont, proto})
		}
	}
	slices.SortFunc(all, func(a, b one) int {
		if c := strings.Compare(a.proto, b.proto); c != 0 {
			return c
		}
		if c := strings.Compare(a.ip, b.ip); c != 0 {
			return c
		}
		return a.cont - b.cont
	})
	var out []string
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].proto == all[i].proto && all[j].ip == all[i].ip &&
			all[j].cont == all[j-1].cont+1 && all[j].host == all[j-1].host+1 {
			j++
		}
		a, z := all[i], all[j-1]
		if i == j-1 {
			out = append(out, fmt.Sprintf("%s:%d->%d/%s", a.ip, a.host, a.cont, a.proto))
		} else {
			out = append(out, fmt.Sprintf("%s:%d-%d->%d-%d/%s", a.ip, a.host, z.host, a.cont, z.cont, a.proto))
		}
		i = j
	}
	slices.SortFunc(bare, comparePorts)
	return strings.Join(append(out, bare...), ", ")
}

// psNeedsSettings reports whether ps needs c's NetworkSettings for its
// PORTS: a running container with a host port chosen at start, or
// exposed ports.
func psNeedsSettings(c *store.Container) bool {
	if !c.State.Running {
		return false
	}
	if c.HostConfig.PublishAllPorts || len(c.Config.ExposedPorts) > len(c.HostConfig.PortBindings) {
		return true
	}
	for _, bs := range c.HostConfig.PortBindings {
		for _, b := range bs {
			if b.HostPort == "" || strings.Contains(b.HostPort, "-") { // chosen at start
				return true
			}
		}
	}
	return false
}
