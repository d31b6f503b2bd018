package integration

// The default bridge network (--network bridge, the default as Docker's,
// device minimal-docker0, 172.17.0.0/16), the predefined networks in
// network ls/inspect/rm/create/prune, --network container:NAME, and ports
// published on host ports chosen at start (-p CONTAINER_PORT, -P with the
// image's EXPOSE and --expose). Each test runs in a network namespace of
// its own (newTestNetns), as network_cni_test.go's, and unsets the
// suites' MINIMAL_DOCKER_DEFAULT_NETWORK=none where it tests the default.

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

const defaultBridge = "minimal-docker0"

// dropDefaultBridge registers, before the test's containers (so that it
// runs after their removal), the check that nothing of them is left, and
// the removal of the default bridge's device, which stays as Docker's
// docker0 does (the test's namespace then has only lo), and of portmap's
// shared chains when the test published ports.
func dropDefaultBridge(t *testing.T, ns, root string, published bool) {
	t.Cleanup(func() {
		wantNoAttachments(t, root)
		if v := veths(t, ns); len(v) != 0 {
			t.Errorf("veths left: %v", v)
		}
		if l := leases(t, root, "bridge"); len(l) != 0 {
			t.Errorf("leases left on the default bridge: %v", l)
		}
		if slices.Contains(links(t, ns), defaultBridge) {
			inNetns(t, ns, "ip", "link", "del", defaultBridge)
		}
		if published {
			removePortmapShared(t, ns)
		}
		wantNetnsClean(t, ns, defaultBridge)
	})
}

// TestNetworkDefaultBridge: a container run without --network is on the
// default bridge (minimal-docker0, 172.17.0.0/16, a route out through
// 172.17.0.1), made on first use; network ls/inspect show bridge, host
// and none as Docker does, rm/create refuse them and prune keeps them;
// MINIMAL_DOCKER_DEFAULT_NETWORK names another default.
func TestNetworkDefaultBridge(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	t.Setenv("MINIMAL_DOCKER_DEFAULT_NETWORK", "") // the default: bridge
	dropDefaultBridge(t, ns, root, false)

	r := mdn(t, ns, root, "run", env.rootfs, "sh", "-c", "ip -4 -o addr show eth0; ip route show default")
	r.wantExit(t, 0)
	if !regexp.MustCompile(`inet 172\.17\.\d+\.\d+/16`).MatchString(r.stdout) || !strings.Contains(r.stdout, "default via 172.17.0.1 dev eth0") {
		t.Errorf("want eth0 with an address in 172.17.0.0/16 and a default route via 172.17.0.1\n%s", r)
	}
	if !slices.Contains(links(t, ns), defaultBridge) {
		t.Errorf("no %s in the namespace after a run on the default bridge: %v", defaultBridge, links(t, ns))
	}
	if v, l := veths(t, ns), leases(t, root, "bridge"); len(v)+len(l) != 0 {
		t.Errorf("after the run ended: veths %v, leases %v", v, l)
	}

	b := inspectNetworkIn(t, ns, root, "bridge")
	if c := b.IPAM.Config[0]; c.Subnet != "172.17.0.0/16" || c.Gateway != "172.17.0.1" || b.Driver != "bridge" || b.Name != "bridge" || b.Internal {
		t.Errorf("network inspect bridge: %+v, want 172.17.0.0/16 via 172.17.0.1, driver bridge", b)
	}
	id := detachedIn(t, ns, root, "--name", "dflt", env.rootfs, "sleep", "1000")
	c := inspectIn(t, ns, root, "dflt")
	if c.HostConfig.NetworkMode != "bridge" || c.NetworkSettings == nil || !strings.HasPrefix(c.NetworkSettings.Networks["bridge"].IPAddress, "172.17.") {
		t.Errorf("inspect dflt: NetworkMode %q, NetworkSettings %+v; want bridge, an address in 172.17.0.0/16", c.HostConfig.NetworkMode, c.NetworkSettings)
	}
	if e := inspectNetworkIn(t, ns, root, "bridge").Containers[id]; e.Name != "dflt" {
		t.Errorf("network inspect bridge: Containers[dflt] %+v", e)
	}

	r = mdn(t, ns, root, "network", "ls")
	r.wantExit(t, 0)
	hostID, noneID := predefinedID(t, ns, root, "host"), predefinedID(t, ns, root, "none")
	want := []string{"NETWORK ID     NAME      DRIVER    SCOPE", b.Id[:12] + "   bridge    bridge    local",
		hostID[:12] + "   host      host      local", noneID[:12] + "   none      null      local"}
	if got := r.lines(); !slices.Equal(got, want) {
		t.Errorf("network ls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for name, driver := range map[string]string{"host": "host", "none": "null"} {
		r := mdn(t, ns, root, "network", "inspect", "-f", "{{.Name}} {{.Driver}} {{len .IPAM.Config}}", name)
		r.wantExit(t, 0)
		if got := strings.TrimSpace(r.stdout); got != name+" "+driver+" 0" {
			t.Errorf("network inspect %s: %q, want %q", name, got, name+" "+driver+" 0")
		}
	}
	for _, ref := range []string{"bridge", "host", "none", b.Id, hostID[:12]} {
		name := map[string]string{b.Id: "bridge", hostID[:12]: "host"}[ref]
		if name == "" {
			name = ref
		}
		r := mdn(t, ns, root, "network", "rm", ref)
		r.wantExit(t, 1)
		r.wantStderr(t, "Error response from daemon: "+name+" is a pre-defined network and cannot be removed")
	}
	for _, name := range []string{"bridge", "host", "none"} {
		r := mdn(t, ns, root, "network", "create", name)
		r.wantExit(t, 1)
		r.wantStderr(t, "network name "+name+" is reserved")
	}
	mdn(t, ns, root, "rm", "-f", "dflt").wantExit(t, 0)
	r = mdn(t, ns, root, "network", "prune", "-f")
	r.wantExit(t, 0)
	if r.stdout != "" {
		t.Errorf("network prune with the predefined networks only: %q, want nothing removed", r.stdout)
	}
	if got := inspectNetworkIn(t, ns, root, "bridge").Id; got != b.Id {
		t.Errorf("the default bridge's id changed from %s to %s after prune", b.Id, got)
	}

	// The default named by the variable; an invalid one refused.
	t.Setenv("MINIMAL_DOCKER_DEFAULT_NETWORK", "none")
	r = mdn(t, ns, root, "run", env.rootfs, "sh", "-c", "ls /sys/class/net")
	r.wantExit(t, 0)
	if strings.Fields(r.stdout)[0] != "lo" || len(strings.Fields(r.stdout)) != 1 {
		t.Errorf("run with MINIMAL_DOCKER_DEFAULT_NETWORK=none: interfaces %q, want lo only", r.stdout)
	}
	t.Setenv("MINIMAL_DOCKER_DEFAULT_NETWORK", "no/such")
	for _, verb := range []string{"run", "create"} {
		r = mdn(t, ns, root, verb, env.rootfs, "true")
		r.wantExit(t, 125)
		r.wantStderr(t, `invalid MINIMAL_DOCKER_DEFAULT_NETWORK="no/such"`)
	}
	if r := mdn(t, ns, root, "ps", "-a", "-q"); r.stdout != "" {
		t.Errorf("ps -a after refused runs: %q", r.stdout)
	}
}

// TestNetworkDefaultBridgeSubnet: the default bridge takes another subnet
// when a route of the host covers 172.17.0.0/16.
func TestNetworkDefaultBridgeSubnet(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	inNetns(t, ns, "ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1")
	defer inNetns(t, ns, "ip", "link", "del", "uplink0")
	inNetns(t, ns, "ip", "addr", "add", "172.17.5.1/16", "dev", "uplink0")
	inNetns(t, ns, "ip", "link", "set", "uplink1", "up")
	inNetns(t, ns, "ip", "link", "set", "uplink0", "up")
	b := inspectNetworkIn(t, ns, root, "bridge")
	sub, err := netip.ParsePrefix(b.IPAM.Config[0].Subnet)
	if err != nil || sub.Overlaps(netip.MustParsePrefix("172.17.0.0/16")) || !sub.Addr().IsPrivate() {
		t.Errorf("the default bridge's subnet %q with a route to 172.17.0.0/16: want another private one", b.IPAM.Config[0].Subnet)
	}
}

// TestNetworkContainerMode: --network container:NAME runs in a running
// container's network namespace (the same interfaces and address, its
// hostname), at run, run -d and at start of one created; it is refused
// when that container is not running, and with -p, --expose, --hostname
// (Docker's conflicts).
func TestNetworkContainerMode(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	dropDefaultBridge(t, ns, root, false)
	srvID := detachedIn(t, ns, root, "--name", "srv", "--network", "bridge", "--hostname", "srvhost", env.rootfs, "sleep", "1000")
	srv := inspectIn(t, ns, root, "srv")
	addr := srv.NetworkSettings.IPAddress
	if addr == "" {
		t.Fatalf("srv has no address: %+v", srv.NetworkSettings)
	}

	r := mdn(t, ns, root, "run", "--network", "container:srv", env.rootfs, "sh", "-c", "ip -4 -o addr show eth0; hostname")
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "inet "+addr+"/16") || !strings.HasSuffix(strings.TrimSpace(r.stdout), "srvhost") {
		t.Errorf("run --network container:srv: want srv's eth0 (%s) and hostname srvhost\n%s", addr, r)
	}
	netnsOf := func(pid int) string {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	detachedIn(t, ns, root, "--name", "side", "--network", "container:"+srvID[:12], env.rootfs, "sleep", "1000")
	side := inspectIn(t, ns, root, "side")
	if side.HostConfig.NetworkMode != "container:"+srvID || side.NetworkSettings != nil {
		t.Errorf("inspect side: NetworkMode %q, NetworkSettings %+v; want container:%s and none", side.HostConfig.NetworkMode, side.NetworkSettings, srvID)
	}
	if a, b := netnsOf(srv.State.Pid), netnsOf(side.State.Pid); a != b {
		t.Errorf("srv's network namespace %s, side's %s: want the same", a, b)
	}
	// Docker's: srv's /etc files, not files of side's own.
	srvEtc := mdn(t, ns, root, "exec", "srv", "cat", "/etc/hosts", "/etc/resolv.conf", "/etc/hostname")
	srvEtc.wantExit(t, 0)
	sideEtc := mdn(t, ns, root, "exec", "side", "cat", "/etc/hosts", "/etc/resolv.conf", "/etc/hostname")
	sideEtc.wantExit(t, 0)
	if !strings.Contains(srvEtc.stdout, addr+"\tsrvhost") || sideEtc.stdout != srvEtc.stdout {
		t.Errorf("side's /etc/hosts, resolv.conf and hostname:\n%s\nwant srv's (with %s srvhost):\n%s", sideEtc.stdout, addr, srvEtc.stdout)
	}

	// A restart policy's run of a container sharing srv's network joins
	// the namespace srv has then (srv restarted meanwhile: a new one),
	// not whatever /proc/OLDPID names.
	detachedIn(t, ns, root, "--name", "follow", "--restart", "always", "--network", "container:srv", env.rootfs, "sleep", "1000")
	t.Cleanup(func() { mdn(t, ns, root, "rm", "-f", "follow") })
	mdn(t, ns, root, "restart", "-t", "0", "srv").wantExit(t, 0)
	srv = inspectIn(t, ns, root, "srv")
	oldFollow := inspectIn(t, ns, root, "follow").State.Pid
	if err := syscall.Kill(oldFollow, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var follow store.Container
	waitFor(t, "follow's restart", func() bool {
		follow = inspectIn(t, ns, root, "follow")
		return follow.State.Running && follow.State.Pid != oldFollow && follow.State.Pid != 0
	})
	if a, b := netnsOf(srv.State.Pid), netnsOf(follow.State.Pid); a != b {
		t.Errorf("follow restarted by its policy after srv's restart: network namespace %s, srv's %s; want the same", b, a)
	}
	mdn(t, ns, root, "rm", "-f", "follow").wantExit(t, 0)

	r = mdn(t, ns, root, "create", "--name", "later", "--network", "container:srv", env.rootfs, "sleep", "1000")
	r.wantExit(t, 0)
	later := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { mdn(t, ns, root, "rm", "-f", later) })
	mdn(t, ns, root, "start", "later").wantExit(t, 0)
	if a, b := netnsOf(srv.State.Pid), netnsOf(inspectIn(t, ns, root, "later").State.Pid); a != b {
		t.Errorf("a created container started: network namespace %s, srv's %s; want the same", b, a)
	}
	mdn(t, ns, root, "rm", "-f", "later").wantExit(t, 0)

	r = mdn(t, ns, root, "create", "--name", "stopped", env.rootfs, "sleep", "1000")
	r.wantExit(t, 0)
	stopped := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { mdn(t, ns, root, "rm", "-f", stopped) })
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--network", "container:stopped"}, "cannot join network of a non running container: " + stopped},
		{[]string{"--network", "container:nosuch"}, "No such container: nosuch"},
		{[]string{"--network", "container:srv", "-p", "80:80"}, "conflicting options: port publishing and the container type network mode"},
		{[]string{"--network", "container:srv", "-P"}, "conflicting options: port publishing and the container type network mode"},
		{[]string{"--network", "container:srv", "--expose", "80"}, "conflicting options: port exposing and the container type network mode"},
		{[]string{"--network", "container:srv", "--hostname", "x"}, "conflicting options: hostname and the network mode"},
		{[]string{"--network", "container:srv", "--dns", "10.0.0.53"}, "conflicting options: dns and the network mode"},
		{[]string{"--network", "container:srv", "--add-host", "a:10.0.0.1"}, "conflicting options: custom host-to-IP mapping and the network mode"},
	} {
		for _, verb := range []string{"run", "create"} {
			r := mdn(t, ns, root, append(append([]string{verb}, tt.args...), env.rootfs, "true")...)
			r.wantExit(t, 125)
			r.wantStderr(t, tt.want)
		}
	}
	if r := mdn(t, ns, root, "ps", "-a", "-q"); len(r.lines()) != 3 {
		t.Errorf("ps -a after the refusals: %q, want srv, side and stopped", r.lines())
	}
}

// TestNetworkPublishChosen: -p CONTAINER_PORT and -P (the image's EXPOSE
// and --expose, ranges) publish on free host ports of the ephemeral
// range; port, ps and inspect show them as Docker does; the host reaches
// the container's httpd through its chosen port; two containers get
// different ports; an exposed port not published shows as null.
func TestNetworkPublishChosen(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	t.Setenv("MINIMAL_DOCKER_DEFAULT_NETWORK", "") // the default bridge
	dropDefaultBridge(t, ns, root, true)
	mdn(t, ns, root, "import", "-c", "EXPOSE 80", rootfsTarball(t, t.TempDir()), "test/web").wantExit(t, 0)
	www := t.TempDir()
	const page = "chosen\n"
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	first, last := ephemeralRange(t, ns)
	httpd := []string{"-v", www + ":/www:ro", "test/web", "httpd", "-f", "-p", "80", "-h", "/www"}

	detachedIn(t, ns, root, append([]string{"--name", "all", "-P", "--expose", "7000-7001/udp", "--expose", "8080"}, httpd...)...)
	hostPorts := map[string]int{}
	r := mdn(t, ns, root, "port", "all")
	r.wantExit(t, 0)
	line := regexp.MustCompile(`^(\d+/(?:tcp|udp)) -> 0\.0\.0\.0:(\d+)$`)
	var keys []string
	for _, l := range r.lines() {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("port all: line %q, want PORT/PROTO -> 0.0.0.0:HOST_PORT\n%s", l, r)
		}
		p, _ := strconv.Atoi(m[2])
		if p < first || p > last {
			t.Errorf("port all: %s on host port %d, want one of the ephemeral range %d-%d", m[1], p, first, last)
		}
		keys, hostPorts[m[1]] = append(keys, m[1]), p
	}
	if want := []string{"80/tcp", "7000/udp", "7001/udp", "8080/tcp"}; !slices.Equal(keys, want) {
		t.Fatalf("port all: ports %q, want %q", keys, want)
	}
	if hostPorts["7000/udp"] == hostPorts["7001/udp"] {
		t.Errorf("two ports on one host port: %v", hostPorts)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/index.html", hostPorts["80/tcp"])
	var got string
	waitFor(t, "httpd's answer on "+url, func() bool {
		r := mdn(t, ns, root, "run", "--network", "host", env.rootfs, "wget", "-q", "-O", "-", url)
		got = r.stdout
		return r.code == 0
	})
	if got != page {
		t.Errorf("wget %s: %q, want %q", url, got, page)
	}
	c := inspectIn(t, ns, root, "all")
	if !c.HostConfig.PublishAllPorts || len(c.HostConfig.PortBindings) != 0 || len(c.Config.ExposedPorts) != 4 {
		t.Errorf("inspect all: PublishAllPorts %v, PortBindings %v, ExposedPorts %v; want true, none, four", c.HostConfig.PublishAllPorts, c.HostConfig.PortBindings, c.Config.ExposedPorts)
	}
	if b := c.NetworkSettings.Ports["8080/tcp"]; len(b) != 1 || b[0] != (store.PortBinding{HostIp: "0.0.0.0", HostPort: strconv.Itoa(hostPorts["8080/tcp"])}) {
		t.Errorf("inspect all: NetworkSettings.Ports[8080/tcp] %+v", b)
	}

	// -p CONTAINER_PORT, IP::CONTAINER_PORT; an exposed port not published.
	detachedIn(t, ns, root, "--name", "one", "-p", "80", "-p", "127.0.0.1::81", "--expose", "9000", env.rootfs, "sleep", "1000")
	c = inspectIn(t, ns, root, "one")
	if b := c.HostConfig.PortBindings["80/tcp"]; len(b) != 1 || b[0] != (store.PortBinding{}) {
		t.Errorf("inspect one: HostConfig.PortBindings[80/tcp] %+v, want one with no address nor port", b)
	}
	ports := c.NetworkSettings.Ports
	p80, p81 := ports["80/tcp"], ports["81/tcp"]
	if len(p80) != 1 || len(p81) != 1 || p81[0].HostIp != "127.0.0.1" || p80[0].HostPort == strconv.Itoa(hostPorts["80/tcp"]) {
		t.Errorf("inspect one: NetworkSettings.Ports %+v, want 80/tcp on another host port than all's %d, 81/tcp on 127.0.0.1", ports, hostPorts["80/tcp"])
	}
	if b, ok := ports["9000/tcp"]; !ok || b != nil {
		t.Errorf("inspect one: NetworkSettings.Ports[9000/tcp] %v (present %v), want null", b, ok)
	}
	r = mdn(t, ns, root, "ps", "--filter", "name=one", "--format", "{{.Ports}}")
	r.wantExit(t, 0)
	if want := fmt.Sprintf("0.0.0.0:%s->80/tcp, 127.0.0.1:%s->81/tcp, 9000/tcp", p80[0].HostPort, p81[0].HostPort); strings.TrimSpace(r.stdout) != want {
		t.Errorf("ps's PORTS: %q, want %q", strings.TrimSpace(r.stdout), want)
	}
	mdn(t, ns, root, "rm", "-f", "one", "all").wantExit(t, 0)
}

// ephemeralRange is network namespace ns's ephemeral port range.
func ephemeralRange(t *testing.T, ns string) (int, int) {
	t.Helper()
	f := strings.Fields(inNetns(t, ns, "cat", "/proc/sys/net/ipv4/ip_local_port_range"))
	if len(f) != 2 {
		t.Fatalf("ip_local_port_range: %q", f)
	}
	a, err1 := strconv.Atoi(f[0])
	z, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		t.Fatalf("ip_local_port_range: %q", f)
	}
	return a, z
}
