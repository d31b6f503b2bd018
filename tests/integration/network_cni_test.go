package integration

// User-defined bridge networks through CNI (network create|ls|inspect|rm|
// prune, --network NAME). Every test runs minimal-docker inside a network
// namespace of its own (newTestNetns: `unshare --net=FILE`, a loopback
// up), so that the bridges, veths, iptables rules and ip_forward that CNI
// sets are never the host's; each test checks that nothing it made is
// left in that namespace or under its --root, and that the host's
// namespace never saw its bridge.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/network"
	kproc "github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/store"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// cniNeeds are what the CNI network tests run, with the Debian package
// of each: the plugins (in network.PluginDir) and the programs (in PATH).
var cniNeeds = struct {
	plugins []string
	tools   [][2]string // name, package
}{
	plugins: []string{"bridge", "host-local", "portmap", "firewall", "tuning", "loopback"},
	tools: [][2]string{
		{"unshare", "util-linux"}, {"nsenter", "util-linux"}, {"ip", "iproute2"},
		{"iptables", "iptables"}, {"iptables-save", "iptables"},
	},
}

// requireCNI skips the test, naming all that is missing, without the
// CNI plugins and the programs the network tests run. (The cgroup v2
// lane's guest has the host's own: a host without them makes a guest
// without them.)
func requireCNI(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t)
	var plugins, missing []string
	for _, p := range cniNeeds.plugins {
		if _, err := os.Stat(filepath.Join(network.PluginDir, p)); err != nil {
			plugins = append(plugins, p)
		}
	}
	if len(plugins) > 0 {
		missing = append(missing, fmt.Sprintf("CNI plugin %s in %s (package containernetworking-plugins)", strings.Join(plugins, ", "), network.PluginDir))
	}
	for _, tool := range cniNeeds.tools {
		if _, err := exec.LookPath(tool[0]); err != nil {
			missing = append(missing, fmt.Sprintf("%s in PATH (package %s)", tool[0], tool[1]))
		}
	}
	if len(missing) > 0 {
		t.Skipf("the CNI network tests need what is missing here: %s (make deps installs them; the cgroup v2 lane's guest has the host's)", strings.Join(missing, "; "))
	}
}

// newTestNetns makes a network namespace for the test (bind-mounted on a
// file in a temporary directory, loopback up) and removes it when the
// test ends, after the checks.
func newTestNetns(t *testing.T) string {
	t.Helper()
	requireCNI(t)
	p := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unshare", "--net="+p, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("unshare --net=%s: %v\n%s", p, err, out)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
			t.Errorf("cleanup: umount %s: %v", p, err)
		}
	})
	return p
}

// netRoot is a --root for a network test. When the test ends (after its
// containers are removed) it unmounts any network namespace still pinned
// under it, so that a failed test leaves no mount behind (wantNoAttachments
// has reported it).
func netRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	t.Cleanup(func() {
		pins, _ := filepath.Glob(filepath.Join(root, "networks", "netns", "*"))
		for _, p := range pins {
			_ = unix.Unmount(p, unix.MNT_DETACH)
		}
	})
	return root
}

// mdn runs minimal-docker --root root ARGS in network namespace ns.
func mdn(t *testing.T, ns, root string, args ...string) result {
	t.Helper()
	return startProc(t, false, func(cmd *exec.Cmd) {
		nsenter, err := exec.LookPath("nsenter")
		if err != nil {
			t.Fatal(err)
		}
		cmd.Path = nsenter
		cmd.Args = append([]string{"nsenter", "--net=" + ns, "--", env.bin, "--root", root}, args...)
	}, args).wait(t)
}

// inNetns runs a command in network namespace ns and returns its output.
func inNetns(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=" + ns, "--"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nsenter --net=%s %s: %v\n%s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// links lists the interfaces of network namespace ns, by name (a veth
// without its @peer).
func links(t *testing.T, ns string) []string {
	t.Helper()
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(inNetns(t, ns, "ip", "-o", "link", "show")), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			names = append(names, name)
		}
	}
	return names
}

func veths(t *testing.T, ns string) []string {
	var out []string
	for _, l := range links(t, ns) {
		if strings.HasPrefix(l, "veth") {
			out = append(out, l)
		}
	}
	return out
}

// cniRules are the iptables rules and chains of CNI (the bridge plugin's
// masquerade, portmap's chains) in ns.
func cniRules(t *testing.T, ns string) []string {
	var out []string
	for _, line := range strings.Split(inNetns(t, ns, "iptables-save"), "\n") {
		if strings.Contains(line, "CNI") {
			out = append(out, line)
		}
	}
	return out
}

// ourNatRules are the nat table's rules of our chains in ns (the jump to
// the masquerade chain and each network's rule).
func ourNatRules(t *testing.T, ns string) []string {
	var out []string
	for _, line := range strings.Split(inNetns(t, ns, "iptables-save", "-t", "nat"), "\n") {
		if strings.Contains(line, "MINIMAL-DOCKER") && strings.HasPrefix(line, "-A ") {
			out = append(out, line)
		}
	}
	return out
}

// leases are the addresses host-local holds on network name under root.
func leases(t *testing.T, root, name string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, "networks", "ipam", name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if _, err := netip.ParseAddr(e.Name()); err == nil {
			out = append(out, e.Name())
		}
	}
	return out
}

// wantNoAttachments fails the test for any container still attached
// under root: a cached CNI result, a pinned namespace (or its file), the
// tuning plugin's backup of a MAC address, a mount under root.
func wantNoAttachments(t *testing.T, root string) {
	t.Helper()
	for _, d := range []string{"cache/results", "netns", "tuning"} {
		ents, _ := os.ReadDir(filepath.Join(root, "networks", d))
		for _, e := range ents {
			t.Errorf("left under %s/networks/%s: %s", root, d, e.Name())
		}
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(b), root) {
		t.Errorf("a mount under %s left", root)
	}
}

// wantNetnsClean fails the test for a bridge, veth or CNI iptables rule
// left in ns, or the bridge in the host's namespace.
func wantNetnsClean(t *testing.T, ns string, bridges ...string) {
	t.Helper()
	if l := links(t, ns); !slices.Equal(l, []string{"lo"}) {
		t.Errorf("interfaces left in the test's namespace: %v, want only lo", l)
	}
	if r := cniRules(t, ns); len(r) > 0 {
		t.Errorf("CNI iptables rules left:\n%s", strings.Join(r, "\n"))
	}
	for _, b := range bridges {
		if _, err := net.InterfaceByName(b); err == nil {
			t.Errorf("bridge %s is in the host's namespace", b)
		}
	}
}

// createNetwork runs network create ARGS NAME in ns and removes the
// network when the test ends (after its containers: registered first).
func createNetwork(t *testing.T, ns, root string, args ...string) string {
	t.Helper()
	name := args[len(args)-1]
	r := mdn(t, ns, root, append([]string{"network", "create"}, args...)...)
	r.wantExit(t, 0)
	id := strings.TrimSpace(r.stdout)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("network create printed %q, want the network's id\n%s", id, r)
	}
	t.Cleanup(func() {
		if r := mdn(t, ns, root, "network", "rm", "-f", name); r.code != 0 {
			t.Errorf("cleanup: %s", r)
		}
	})
	return id
}

// detachedIn is run -d ARGS in ns, removed (rm -f, in ns) when the test
// ends.
func detachedIn(t *testing.T, ns, root string, args ...string) string {
	t.Helper()
	r := mdn(t, ns, root, append([]string{"run", "-d"}, args...)...)
	r.wantExit(t, 0)
	id := strings.TrimSpace(r.stdout)
	t.Cleanup(func() {
		if r := mdn(t, ns, root, "rm", "-f", id); r.code != 0 && !strings.Contains(r.stderr, "No such container") {
			t.Errorf("cleanup: %s", r)
		}
	})
	return id
}

// inspectedNetwork is what the tests read of network inspect.
type inspectedNetwork struct {
	Name, Id, Driver, Scope string
	Created                 time.Time
	Internal                bool
	Labels                  map[string]string
	IPAM                    struct {
		Config []struct {
			Subnet, IPRange, Gateway string
			AuxiliaryAddresses       map[string]string
		}
	}
	Containers map[string]struct{ Name, MacAddress, IPv4Address string }
}

func inspectNetworkIn(t *testing.T, ns, root, name string) inspectedNetwork {
	t.Helper()
	r := mdn(t, ns, root, "network", "inspect", name)
	r.wantExit(t, 0)
	var out []inspectedNetwork
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 || len(out[0].IPAM.Config) != 1 {
		t.Fatalf("network inspect %s: want a JSON array of one network with one IPAM config: %v\n%s", name, err, r)
	}
	return out[0]
}

// predefinedID is the ID network inspect gives predefined network name.
func predefinedID(t *testing.T, ns, root, name string) string {
	t.Helper()
	r := mdn(t, ns, root, "network", "inspect", "-f", "{{.Id}}", name)
	r.wantExit(t, 0)
	id := strings.TrimSpace(r.stdout)
	if len(id) != 64 {
		t.Fatalf("network inspect %s: id %q, want 64 hex digits", name, id)
	}
	return id
}

func inspectIn(t *testing.T, ns, root, ref string) store.Container {
	t.Helper()
	r := mdn(t, ns, root, "inspect", ref)
	r.wantExit(t, 0)
	var out []store.Container
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 {
		t.Fatalf("inspect %s: %v\n%s", ref, err, r)
	}
	return out[0]
}

// TestNetworkCreateLsInspectRm: network create with a subnet chosen or
// given, ls and inspect as Docker prints them, the refusals (a name
// taken, a subnet overlapping another network's or a route, an unknown
// network), rm and prune.
func TestNetworkCreateLsInspectRm(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	// An uplink whose route covers 172.18.0.0/16, the first default pool:
	// the chosen subnet must be another. (A veth pair: this kernel may
	// have no dummy driver.)
	inNetns(t, ns, "ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1")
	inNetns(t, ns, "ip", "addr", "add", "172.18.5.1/16", "dev", "uplink0")
	inNetns(t, ns, "ip", "link", "set", "uplink1", "up")
	inNetns(t, ns, "ip", "link", "set", "uplink0", "up")
	defer inNetns(t, ns, "ip", "link", "del", "uplink0")

	autoID := createNetwork(t, ns, root, "auto")
	givenID := createNetwork(t, ns, root, "--subnet", "10.77.0.0/24", "--gateway", "10.77.0.254", "--internal", "--label", "tier=back", "given")

	auto := inspectNetworkIn(t, ns, root, "auto")
	sub, err := netip.ParsePrefix(auto.IPAM.Config[0].Subnet)
	if err != nil {
		t.Fatalf("auto's subnet %q: %v", auto.IPAM.Config[0].Subnet, err)
	}
	if sub.Overlaps(netip.MustParsePrefix("172.18.0.0/16")) || !sub.Addr().IsPrivate() {
		t.Errorf("auto's subnet %s: want a private one not overlapping the uplink's 172.18.0.0/16", sub)
	}
	if auto.IPAM.Config[0].Gateway != sub.Addr().Next().String() || auto.Id != autoID || auto.Driver != "bridge" || auto.Scope != "local" || auto.Internal {
		t.Errorf("network inspect auto: %+v, want id %s, bridge, local, gateway the subnet's first address", auto, autoID)
	}
	given := inspectNetworkIn(t, ns, root, givenID[:12])
	if c := given.IPAM.Config[0]; c.Subnet != "10.77.0.0/24" || c.Gateway != "10.77.0.254" || !given.Internal || given.Name != "given" || given.Labels["tier"] != "back" {
		t.Errorf("network inspect given: %+v", given)
	}

	r := mdn(t, ns, root, "network", "ls")
	r.wantExit(t, 0)
	bridgeID := inspectNetworkIn(t, ns, root, "bridge").Id
	hostID, noneID := predefinedID(t, ns, root, "host"), predefinedID(t, ns, root, "none")
	want := []string{"NETWORK ID     NAME      DRIVER    SCOPE", autoID[:12] + "   auto      bridge    local",
		bridgeID[:12] + "   bridge    bridge    local", givenID[:12] + "   given     bridge    local",
		hostID[:12] + "   host      host      local", noneID[:12] + "   none      null      local"}
	if got := r.lines(); !slices.Equal(got, want) {
		t.Errorf("network ls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// --filter and --format, Docker's: keys AND, a key's values OR; name
	// and id are regular expressions; dangling: a network of network
	// create that no container uses (a created one counts, as for prune).
	mdn(t, ns, root, "create", "--name", "user", "--network", "auto", env.rootfs, "true").wantExit(t, 0)
	t.Cleanup(func() { mdn(t, ns, root, "rm", "-f", "user") })
	// ps --filter network= by name or the start of the ID, and the
	// NETWORKS column.
	for _, tt := range []struct{ filter, want string }{
		{"network=auto", "user auto"}, {"network=" + autoID[:6], "user auto"}, {"network=given", ""}, {"network=nosuch", ""},
	} {
		r := mdn(t, ns, root, "ps", "-a", "--filter", tt.filter, "--format", "{{.Names}} {{.Networks}}")
		if r.wantExit(t, 0); strings.TrimSpace(r.stdout) != tt.want {
			t.Errorf("ps -a --filter %s: %q, want %q", tt.filter, r.stdout, tt.want)
		}
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--filter", "label=tier=back", "--format", `{{.Name}} {{.Internal}} {{.Label "tier"}} {{.Labels}}`}, []string{"given true back tier=back"}},
		{[]string{"--filter", "label=tier=front", "-q"}, nil},
		{[]string{"--filter", "type=builtin", "--format", "{{.Name}}"}, []string{"bridge", "host", "none"}},
		{[]string{"--filter", "type=custom", "--filter", "name=^a", "--format", "{{.Name}}"}, []string{"auto"}},
		{[]string{"--filter", "name=^giv", "--filter", "name=^aut", "-q", "--no-trunc"}, []string{autoID, givenID}},
		{[]string{"--filter", "driver=null", "--format", "table {{.Name}}\t{{.Driver}}"}, []string{"NAME      DRIVER", "none      null"}},
		{[]string{"--filter", "label=tier", "--format", `table {{.Name}}\t{{.Label "tier"}}`}, []string{"NAME      tier", "given     back"}},
		{[]string{"--filter", "dangling=true", "--format", "{{.Name}}"}, []string{"given"}},
		{[]string{"--filter", "dangling=0", "--format", "{{.Name}}"}, []string{"auto", "bridge", "host", "none"}},
		{[]string{"--filter", "id=" + givenID[:8], "--format", "json"}, []string{`{"CreatedAt":"` + given.Created.String() + `","Driver":"bridge","ID":"` + givenID[:12] + `","IPv6":"false","Internal":"true","Labels":"tier=back","Name":"given","Scope":"local"}`}},
	} {
		r := mdn(t, ns, root, append([]string{"network", "ls"}, tt.args...)...)
		r.wantExit(t, 0)
		if got := r.lines(); !slices.Equal(got, tt.want) {
			t.Errorf("network ls %q: %q, want %q", tt.args, got, tt.want)
		}
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"bad filter", []string{"network", "ls", "--filter", "color=red"}, "invalid filter 'color'"},
		{"bad type", []string{"network", "ls", "--filter", "type=other"}, "invalid filter: 'type'='other'"},
		{"bad dangling", []string{"network", "ls", "--filter", "dangling=maybe"}, "invalid filter: 'dangling'='maybe'"},
		{"name taken", []string{"network", "create", "given"}, "network with name given already exists"},
		{"overlaps a network", []string{"network", "create", "--subnet", "10.77.0.128/25", "other"}, "invalid --subnet 10.77.0.128/25: it overlaps subnet 10.77.0.0/24 of network given"},
		{"overlaps a route", []string{"network", "create", "--subnet", "172.18.0.0/24", "other"}, "invalid --subnet 172.18.0.0/24: it overlaps the host's route to 172.18.0.0/16 on uplink0"},
		{"gateway outside", []string{"network", "create", "--subnet", "10.78.0.0/24", "--gateway", "10.79.0.1", "other"}, "invalid --gateway 10.79.0.1: not in subnet 10.78.0.0/24"},
		{"bad subnet", []string{"network", "create", "--subnet", "10.78.0.0", "other"}, `invalid --subnet "10.78.0.0"`},
		{"predefined", []string{"network", "create", "host"}, "network name host is reserved"},
		{"rm unknown", []string{"network", "rm", "nosuch"}, "Error response from daemon: network nosuch not found"},
		{"inspect unknown", []string{"network", "inspect", "nosuch"}, "network nosuch not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := mdn(t, ns, root, tt.args...)
			r.wantExit(t, 1)
			r.wantStderr(t, tt.want)
		})
	}
	r = mdn(t, ns, root, "run", "--network", "nosuch", env.rootfs, "true")
	r.wantExit(t, 125)
	r.wantStderr(t, "network nosuch not found")
	if _, err := os.Stat(filepath.Join(root, "networks", "other.conflist")); err == nil {
		t.Errorf("a refused create left other.conflist")
	}

	mdn(t, ns, root, "rm", "user").wantExit(t, 0)
	r = mdn(t, ns, root, "network", "ls", "--filter", "dangling=true", "-q")
	if r.wantExit(t, 0); !slices.Equal(r.lines(), []string{autoID[:12], givenID[:12]}) {
		t.Errorf("network ls --filter dangling=true once user is removed: %q, want auto's and given's IDs", r.lines())
	}
	r = mdn(t, ns, root, "network", "rm", "auto")
	r.wantExit(t, 0)
	if strings.TrimSpace(r.stdout) != "auto" {
		t.Errorf("network rm printed %q, want auto", r.stdout)
	}
	// prune --filter: given (labelled tier=back, made a moment ago) is
	// left by until=1h, label=tier=front and label!=tier, and removed by
	// label=tier=back.
	for _, f := range []string{"until=1h", "label=tier=front", "label!=tier"} {
		r = mdn(t, ns, root, "network", "prune", "-f", "--filter", f)
		if r.wantExit(t, 0); r.stdout != "" {
			t.Errorf("network prune --filter %s printed %q, want nothing removed", f, r.stdout)
		}
	}
	r = mdn(t, ns, root, "network", "prune", "-f", "--filter", "until=bad")
	r.wantExit(t, 1)
	r.wantStderr(t, `invalid value for until: "bad"`)
	r = mdn(t, ns, root, "network", "prune", "-f", "--filter", "label=tier=back")
	r.wantExit(t, 0)
	if got := r.lines(); !slices.Equal(got, []string{"Deleted Networks:", "given"}) {
		t.Errorf("network prune printed %q", got)
	}
	r = mdn(t, ns, root, "network", "ls", "-q")
	r.wantExit(t, 0)
	if want := []string{bridgeID[:12], hostID[:12], noneID[:12]}; !slices.Equal(r.lines(), want) {
		t.Errorf("network ls -q after rm and prune: %q, want the predefined networks' %q", r.lines(), want)
	}

}

// TestNetworkTwoDetached: two detached containers on one network, busybox
// httpd in one, wget from the other to its address; inspect's
// NetworkSettings and network inspect's Containers; network rm refused
// while they are on it; rm -f of each releases its address and its veth
// (CNI DEL), and network rm then leaves nothing.
func TestNetworkTwoDetached(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.80.0.0/24", "web")
	www := t.TempDir()
	const page = "hello from the network\n"
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := detachedIn(t, ns, root, "--name", "srv", "--network", "web", "-v", www+":/www:ro", env.rootfs, "httpd", "-f", "-p", "80", "-h", "/www")
	cli := detachedIn(t, ns, root, "--name", "cli", "--network", "web", env.rootfs, "sleep", "1000")

	s, c := inspectIn(t, ns, root, "srv"), inspectIn(t, ns, root, "cli")
	subnet := netip.MustParsePrefix("10.80.0.0/24")
	var addrs []string
	for _, x := range []store.Container{s, c} {
		settings := x.NetworkSettings
		if settings == nil {
			t.Fatalf("inspect %s: no NetworkSettings", x.Name)
		}
		e, ok := settings.Networks["web"]
		ip, err := netip.ParseAddr(settings.IPAddress)
		if !ok || err != nil || !subnet.Contains(ip) || settings.Gateway != "10.80.0.1" || settings.IPPrefixLen != 24 ||
			settings.MacAddress == "" || e.IPAddress != settings.IPAddress || e.MacAddress != settings.MacAddress || e.NetworkID != netID {
			t.Errorf("inspect %s: NetworkSettings %+v, want an address in %s, gateway 10.80.0.1, a MAC, Networks[web] the same with NetworkID %s", x.Name, settings, subnet, netID)
		}
		addrs = append(addrs, settings.IPAddress)
	}
	if addrs[0] == addrs[1] {
		t.Fatalf("both containers have address %s", addrs[0])
	}
	n := inspectNetworkIn(t, ns, root, "web")
	if e := n.Containers[srv]; e.Name != "srv" || e.IPv4Address != addrs[0]+"/24" || e.MacAddress != s.NetworkSettings.MacAddress {
		t.Errorf("network inspect web: Containers[srv] %+v, want srv at %s/24", e, addrs[0])
	}
	if e := n.Containers[cli]; e.Name != "cli" || e.IPv4Address != addrs[1]+"/24" {
		t.Errorf("network inspect web: Containers[cli] %+v", e)
	}
	// One masquerade rule for the network (Docker's), none per container.
	masq := "-A MINIMAL-DOCKER-POSTROUTING -s 10.80.0.0/24 ! -o br-" + netID[:12] + " -j MASQUERADE"
	if r := ourNatRules(t, ns); !slices.Equal(r, []string{"-A POSTROUTING -j MINIMAL-DOCKER-POSTROUTING", masq}) {
		t.Errorf("nat rules of ours while containers are on the network:\n%s\nwant the jump and %s", strings.Join(r, "\n"), masq)
	}
	if r := cniRules(t, ns); len(r) != 0 {
		t.Errorf("CNI rules (a masquerade chain per container?) while containers are on the network:\n%s", strings.Join(r, "\n"))
	}

	r := mdn(t, ns, root, "exec", "cli", "wget", "-q", "-O", "-", "http://"+addrs[0]+"/index.html")
	r.wantExit(t, 0)
	if r.stdout != page {
		t.Errorf("wget from cli to srv: %q, want %q", r.stdout, page)
	}

	r = mdn(t, ns, root, "network", "rm", "web")
	r.wantExit(t, 1)
	r.wantStderr(t, "Error response from daemon: error while removing network: network web id "+netID+" has active endpoints")

	if v := veths(t, ns); len(v) != 2 {
		t.Fatalf("veths %v, want two", v)
	}
	if l := leases(t, root, "web"); len(l) != 2 {
		t.Fatalf("leases %v, want two", l)
	}
	mdn(t, ns, root, "rm", "-f", "srv").wantExit(t, 0)
	if l := leases(t, root, "web"); !slices.Equal(l, []string{addrs[1]}) {
		t.Errorf("leases after rm -f srv: %v, want only cli's %s", l, addrs[1])
	}
	if v := veths(t, ns); len(v) != 1 {
		t.Errorf("veths after rm -f srv: %v, want one", v)
	}
	mdn(t, ns, root, "rm", "-f", "cli").wantExit(t, 0)
	if l := leases(t, root, "web"); len(l) != 0 {
		t.Errorf("leases after rm -f of both: %v", l)
	}
	if v := veths(t, ns); len(v) != 0 {
		t.Errorf("veths after rm -f of both: %v", v)
	}
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "web").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+netID[:12])
	if r := ourRules(t, ns); len(r) != 0 {
		t.Errorf("rules of ours after network rm:\n%s", strings.Join(r, "\n"))
	}
	if _, err := os.Stat(filepath.Join(root, "networks", "ipam", "web")); err == nil {
		t.Errorf("network rm left its leases directory")
	}
}

// TestNetworkForegroundRun: a foreground run on a network gets an address
// in its subnet and a default route through the gateway; when it ends (its
// command failing, too) its veth, address and rules are gone.
func TestNetworkForegroundRun(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.81.0.0/24", "fg")
	r := mdn(t, ns, root, "run", "--network", "fg", env.rootfs, "sh", "-c", "ip -4 -o addr show eth0; ip route show default")
	r.wantExit(t, 0)
	if !regexp.MustCompile(`inet 10\.81\.0\.\d+/24`).MatchString(r.stdout) || !strings.Contains(r.stdout, "default via 10.81.0.1 dev eth0") {
		t.Errorf("want eth0 with an address in 10.81.0.0/24 and a default route via 10.81.0.1\n%s", r)
	}
	if v := veths(t, ns); len(v) != 0 {
		t.Errorf("veths after the run ended: %v", v)
	}
	if l := leases(t, root, "fg"); len(l) != 0 {
		t.Errorf("leases after the run ended: %v", l)
	}
	if rules := cniRules(t, ns); len(rules) != 0 {
		t.Errorf("CNI rules after the run ended:\n%s", strings.Join(rules, "\n"))
	}
	wantNoAttachments(t, root)

	r = mdn(t, ns, root, "run", "--network", "fg", env.rootfs, "sh", "-c", "exit 3")
	r.wantExit(t, 3)
	if v, l := veths(t, ns), leases(t, root, "fg"); len(v)+len(l) != 0 {
		t.Errorf("after a run that failed: veths %v, leases %v", v, l)
	}
	wantNoAttachments(t, root)

	// The container's PID 1 killed: the run ends 137, and its network with it.
	p := startProc(t, false, func(cmd *exec.Cmd) {
		cmd.Path, _ = exec.LookPath("nsenter")
		cmd.Args = []string{"nsenter", "--net=" + ns, "--", env.bin, "--root", root, "run", "--network", "fg", env.rootfs, "sh", "-c", "echo up; exec sleep 1000"}
	}, nil)
	p.waitLine(t, "up")
	if v := veths(t, ns); len(v) != 1 {
		t.Errorf("veths while the run runs: %v, want one", v)
	}
	if err := unix.Kill(p.containerPID(t), unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t).wantExit(t, 137)
	if v, l := veths(t, ns), leases(t, root, "fg"); len(v)+len(l) != 0 {
		t.Errorf("after a run killed: veths %v, leases %v", v, l)
	}
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "fg").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+netID[:12])
}

// TestNetworkForegroundRunKilled: a foreground run killed (-9, the
// minimal-docker process itself: no CNI DEL runs) leaves its
// address, veth and pinned namespace; the next command on the network
// (network inspect, run) releases them, and so does network prune, which
// then removes the network. A detached container on the network keeps
// its own.
func TestNetworkForegroundRunKilled(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	// The runtime's states of this test's runs (a killed run leaves its
	// own, and cgroups): prune removes them, before the suite's leftover
	// checks (registered by the first command).
	t.Setenv("MINIMAL_DOCKER_ROOT", filepath.Join(t.TempDir(), "containers"))
	netID := createNetwork(t, ns, root, "--subnet", "10.85.0.0/24", "kill")
	t.Cleanup(func() { mdn(t, ns, root, "prune", "-f").wantExit(t, 0) })
	keep := detachedIn(t, ns, root, "--name", "keep", "--network", "kill", env.rootfs, "sleep", "1000")
	keepAddr := inspectIn(t, ns, root, keep).NetworkSettings.IPAddress

	// killRun starts a foreground run on the network, kills minimal-docker
	// once the container runs, and waits until the container is gone.
	killRun := func() {
		t.Helper()
		p := startProc(t, false, func(cmd *exec.Cmd) {
			cmd.Path, _ = exec.LookPath("nsenter")
			cmd.Args = []string{"nsenter", "--net=" + ns, "--", env.bin, "--root", root, "run", "--network", "kill", env.rootfs, "sh", "-c", "echo up; exec sleep 1000"}
		}, nil)
		p.waitLine(t, "up")
		cpid := p.containerPID(t)
		start, err := kproc.StartTime(cpid)
		if err != nil {
			t.Fatal(err)
		}
		// nsenter execs minimal-docker: p's pid is minimal-docker's.
		if err := unix.Kill(p.Pid(), unix.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.wait(t)
		waitFor(t, "the container's end with its run", func() bool { return !alive(store.Process{Pid: cpid, StartTime: start}) })
		if v, l := veths(t, ns), leases(t, root, "kill"); len(v) != 2 || len(l) != 2 {
			t.Fatalf("after the run was killed: veths %v, leases %v; want keep's and the killed run's", v, l)
		}
	}

	killRun()
	n := inspectNetworkIn(t, ns, root, "kill")
	if len(n.Containers) != 1 || n.Containers[keep].IPv4Address != keepAddr+"/24" {
		t.Errorf("network inspect after the killed run: Containers %+v, want keep's only", n.Containers)
	}
	if v, l := veths(t, ns), leases(t, root, "kill"); len(v) != 1 || !slices.Equal(l, []string{keepAddr}) {
		t.Errorf("after network inspect: veths %v, leases %v; want keep's only (%s)", v, l, keepAddr)
	}
	if p, _ := filepath.Glob(filepath.Join(root, "networks", "netns", "*")); len(p) != 1 || filepath.Base(p[0]) != keep {
		t.Errorf("pinned namespaces %v, want keep's only", p)
	}

	killRun()
	mdn(t, ns, root, "run", "--network", "kill", env.rootfs, "true").wantExit(t, 0)
	if v, l := veths(t, ns), leases(t, root, "kill"); len(v) != 1 || !slices.Equal(l, []string{keepAddr}) {
		t.Errorf("after the next run: veths %v, leases %v; want keep's only (%s)", v, l, keepAddr)
	}

	killRun()
	mdn(t, ns, root, "prune", "-f").wantExit(t, 0)
	if v, l := veths(t, ns), leases(t, root, "kill"); len(v) != 1 || !slices.Equal(l, []string{keepAddr}) {
		t.Errorf("after prune: veths %v, leases %v; want keep's only (%s)", v, l, keepAddr)
	}

	killRun()
	mdn(t, ns, root, "rm", "-f", "keep").wantExit(t, 0)
	r := mdn(t, ns, root, "network", "prune", "-f")
	r.wantExit(t, 0)
	if got := r.lines(); !slices.Equal(got, []string{"Deleted Networks:", "kill"}) {
		t.Errorf("network prune after a killed run: %q, want the network deleted", got)
	}
	if l := leases(t, root, "kill"); len(l) != 0 {
		t.Errorf("leases after network prune: %v", l)
	}
	wantNoAttachments(t, root)
	wantNetnsClean(t, ns, "br-"+netID[:12])
}

// TestNetworkPublish: -p through the portmap plugin: busybox httpd in a
// detached container answers wget from the test's namespace on
// 127.0.0.1:HOST_PORT and on the namespace's other address; port and
// inspect and ps show the mappings (a UDP range too, whose DNAT rules are
// there); a host port taken is refused; rm -f takes the rules away; bad
// -p values are refused.
func TestNetworkPublish(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	// The namespace's other address, on a veth pair (as an uplink).
	inNetns(t, ns, "ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1")
	inNetns(t, ns, "ip", "addr", "add", "192.0.2.1/24", "dev", "uplink0")
	inNetns(t, ns, "ip", "link", "set", "uplink1", "up")
	inNetns(t, ns, "ip", "link", "set", "uplink0", "up")
	netID := createNetwork(t, ns, root, "--subnet", "10.86.0.0/24", "pub")
	www := t.TempDir()
	const page = "published\n"
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-p", "80:0", "--network", "pub"}, `invalid -p "80:0"`},
		{[]string{"-p", "8080:80/sctp", "--network", "pub"}, "the protocol must be tcp or udp"},
		{[]string{"-p", "8080:80"}, "-p needs a bridge network (the default bridge or one of network create), not --network none"},
	} {
		r := mdn(t, ns, root, append(append([]string{"run"}, tt.args...), env.rootfs, "true")...)
		r.wantExit(t, 125)
		r.wantStderr(t, tt.want)
	}

	srv := detachedIn(t, ns, root, "--name", "srv", "--network", "pub", "-p", "8080:80", "-p", "9000-9001:7000-7001/udp",
		"-v", www+":/www:ro", env.rootfs, "httpd", "-f", "-p", "80", "-h", "/www")
	// wget from the test's namespace: in a container on its network
	// (--network host; the static busybox crashes in the host's own
	// userland, reading its nsswitch.conf).
	wget := func(url string) result {
		return mdn(t, ns, root, "run", "--network", "host", env.rootfs, "wget", "-q", "-O", "-", url)
	}
	for _, host := range []string{"127.0.0.1", "192.0.2.1"} {
		url := "http://" + host + ":8080/index.html"
		var got string
		waitFor(t, "httpd's answer on "+url, func() bool {
			r := wget(url)
			got = r.stdout
			return r.code == 0
		})
		if got != page {
			t.Errorf("wget %s: %q, want %q", url, got, page)
		}
	}

	// A host port taken: refused, nothing of the run left.
	for _, args := range [][]string{
		{"run", "--network", "pub", "-p", "127.0.0.1:8080:81", env.rootfs, "true"},
		{"run", "-d", "--network", "pub", "-p", "9001:7001/udp", env.rootfs, "sleep", "1000"},
	} {
		r := mdn(t, ns, root, args...)
		r.wantExit(t, 125)
		r.wantStderr(t, "network pub", "port is already allocated")
		if v, l := veths(t, ns), leases(t, root, "pub"); len(v) != 1 || len(l) != 1 {
			t.Errorf("after a refused %s: veths %v, leases %v; want srv's only", args[:2], v, l)
		}
	}
	r := mdn(t, ns, root, "port", "srv")
	r.wantExit(t, 0)
	if want := []string{"80/tcp -> 0.0.0.0:8080", "7000/udp -> 0.0.0.0:9000", "7001/udp -> 0.0.0.0:9001"}; !slices.Equal(r.lines(), want) {
		t.Errorf("port srv: %q, want %q", r.lines(), want)
	}
	r = mdn(t, ns, root, "ps", "--format", "{{.Ports}}")
	r.wantExit(t, 0)
	if want := "0.0.0.0:8080->80/tcp, 0.0.0.0:9000-9001->7000-7001/udp"; strings.TrimSpace(r.stdout) != want {
		t.Errorf("ps's PORTS: %q, want %q", r.stdout, want)
	}
	r = mdn(t, ns, root, "port", "srv", "7001/udp")
	r.wantExit(t, 0)
	if !slices.Equal(r.lines(), []string{"0.0.0.0:9001"}) {
		t.Errorf("port srv 7001/udp: %q", r.lines())
	}
	r = mdn(t, ns, root, "port", "srv", "81")
	r.wantExit(t, 1)
	r.wantStderr(t, "No public port '81/tcp' published for srv")
	c := inspectIn(t, ns, root, srv)
	if b := c.HostConfig.PortBindings["80/tcp"]; len(b) != 1 || b[0] != (store.PortBinding{HostIp: "", HostPort: "8080"}) {
		t.Errorf("inspect: HostConfig.PortBindings[80/tcp] %+v, want [{\"\" 8080}]", b)
	}
	if c.NetworkSettings == nil || len(c.NetworkSettings.Ports) != 3 ||
		c.NetworkSettings.Ports["7000/udp"][0] != (store.PortBinding{HostIp: "0.0.0.0", HostPort: "9000"}) {
		t.Errorf("inspect: NetworkSettings %+v, want three ports, 7000/udp on 0.0.0.0:9000", c.NetworkSettings)
	}
	rules := strings.Join(cniRules(t, ns), "\n")
	for _, want := range []string{"-p udp -m udp --dport 9000", "-p udp -m udp --dport 9001", "-p tcp -m tcp --dport 8080"} {
		if !strings.Contains(rules, want) {
			t.Errorf("no CNI rule with %q:\n%s", want, rules)
		}
	}

	mdn(t, ns, root, "rm", "-f", "srv").wantExit(t, 0)
	if r := wget("http://127.0.0.1:8080/index.html"); r.code == 0 {
		t.Errorf("port 8080 still answers after rm -f srv")
	}
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "pub").wantExit(t, 0)
	inNetns(t, ns, "ip", "link", "del", "uplink0")
	removePortmapShared(t, ns)
	wantNetnsClean(t, ns, "br-"+netID[:12])
}

// removePortmapShared checks that the CNI rules left in ns are only
// portmap's chains shared by every CNI user of the host (README: what
// stays), empty of any container's rules, and removes them.
func removePortmapShared(t *testing.T, ns string) {
	t.Helper()
	shared := []string{
		":CNI-HOSTPORT-DNAT - [0:0]", ":CNI-HOSTPORT-MASQ - [0:0]", ":CNI-HOSTPORT-SETMARK - [0:0]",
		"-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
		"-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
		`-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ`,
		"-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE",
		`-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000`,
	}
	if got := cniRules(t, ns); !slices.Equal(got, shared) {
		t.Errorf("CNI rules after rm -f and network rm:\n%s\nwant portmap's shared chains only:\n%s", strings.Join(got, "\n"), strings.Join(shared, "\n"))
		return
	}
	for _, args := range [][]string{
		{"-D", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"},
		{"-D", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"},
		{"-D", "POSTROUTING", "-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", "CNI-HOSTPORT-MASQ"},
		{"-F", "CNI-HOSTPORT-MASQ"}, {"-F", "CNI-HOSTPORT-SETMARK"},
		{"-X", "CNI-HOSTPORT-DNAT"}, {"-X", "CNI-HOSTPORT-MASQ"}, {"-X", "CNI-HOSTPORT-SETMARK"},
	} {
		inNetns(t, ns, append([]string{"iptables", "-t", "nat"}, args...)...)
	}
}

// TestNetworkMonitorKilled: a detached container whose monitor was
// killed (-9) is detached by rm -f (the runtime's delete runs its
// poststop hook; rm releases what is left): no address, veth or pinned
// namespace stays.
func TestNetworkMonitorKilled(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.83.0.0/24", "orph")
	detachedIn(t, ns, root, "--name", "orphan", "--network", "orph", env.rootfs, "sleep", "1000")
	c := inspectIn(t, ns, root, "orphan")
	if err := unix.Kill(c.State.MonitorPid, unix.SIGKILL); err != nil {
		t.Fatalf("kill -9 the monitor %d: %v", c.State.MonitorPid, err)
	}
	waitFor(t, "the monitor's end", func() bool { return !alive(c.State.Monitor()) })
	if l := leases(t, root, "orph"); len(l) != 1 {
		t.Errorf("leases with the monitor killed: %v, want the container's", l)
	}
	mdn(t, ns, root, "rm", "-f", "orphan").wantExit(t, 0)
	if v, l := veths(t, ns), leases(t, root, "orph"); len(v)+len(l) != 0 {
		t.Errorf("after rm -f: veths %v, leases %v", v, l)
	}
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "orph").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+netID[:12])
}

// TestNetworkCreateStartRestart: a container made by create is attached
// only when start runs it (rm of one never started leaves nothing); a
// restart policy's runs each get an address (the monitor's delete and
// create run DEL and ADD again), and once the container has ended for
// good its address and veth are released.
func TestNetworkCreateStartRestart(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.82.0.0/24", "life")

	r := mdn(t, ns, root, "create", "--name", "never", "--network", "life", env.rootfs, "sleep", "1000")
	r.wantExit(t, 0)
	if v, l := veths(t, ns), leases(t, root, "life"); len(v)+len(l) != 0 {
		t.Errorf("after create: veths %v, leases %v; want none before start", v, l)
	}
	mdn(t, ns, root, "rm", "never").wantExit(t, 0)

	r = mdn(t, ns, root, "create", "--name", "later", "--network", "life", env.rootfs, "sleep", "1000")
	r.wantExit(t, 0)
	id := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { mdn(t, ns, root, "rm", "-f", id) })
	mdn(t, ns, root, "start", "later").wantExit(t, 0)
	if c := inspectIn(t, ns, root, "later"); c.NetworkSettings == nil || !strings.HasPrefix(c.NetworkSettings.IPAddress, "10.82.0.") {
		t.Errorf("started container's NetworkSettings %+v, want an address in 10.82.0.0/24", c.NetworkSettings)
	}
	if v := veths(t, ns); len(v) != 1 {
		t.Errorf("veths of the started container: %v, want one", v)
	}
	mdn(t, ns, root, "rm", "-f", "later").wantExit(t, 0)

	out := t.TempDir()
	script := "ip -4 -o addr show eth0 >> /out/addrs; exit 1"
	rid := detachedIn(t, ns, root, "--name", "again", "--restart", "on-failure:2", "--network", "life", "-v", out+":/out", env.rootfs, "sh", "-c", script)
	waitFor(t, "the end of the third run", func() bool {
		c := inspectIn(t, ns, root, rid)
		return c.State.Status == store.Exited && c.RestartCount == 2 && !alive(c.State.Monitor())
	})
	b, err := os.ReadFile(filepath.Join(out, "addrs"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(regexp.MustCompile(`inet 10\.82\.0\.\d+/24`).FindAllString(string(b), -1)); n != 3 {
		t.Errorf("each of the three runs has an address on eth0: %d of them do\n%s", n, b)
	}
	if v, l := veths(t, ns), leases(t, root, "life"); len(v)+len(l) != 0 {
		t.Errorf("after the container ended for good: veths %v, leases %v", v, l)
	}
	wantNoAttachments(t, root)
	mdn(t, ns, root, "rm", "again").wantExit(t, 0)
	mdn(t, ns, root, "network", "rm", "life").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+netID[:12])
}

// TestNetworkAddFails: CNI ADD failing (a /30 network has one address
// for containers) fails the run with the plugin's reason, exit 125, and
// leaves nothing of it; the container holding the address keeps it.
func TestNetworkAddFails(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.84.0.0/30", "tiny")
	detachedIn(t, ns, root, "--name", "first", "--network", "tiny", env.rootfs, "sleep", "1000")
	for _, args := range [][]string{
		{"run", "--network", "tiny", env.rootfs, "true"},
		{"run", "-d", "--name", "second", "--network", "tiny", env.rootfs, "sleep", "1000"},
	} {
		r := mdn(t, ns, root, args...)
		r.wantExit(t, 125)
		r.wantStderr(t, "network tiny", "no IP addresses available")
		if v, l := veths(t, ns), leases(t, root, "tiny"); len(v) != 1 || len(l) != 1 {
			t.Errorf("after a failed %s: veths %v, leases %v; want first's only", args[:2], v, l)
		}
	}
	if r := mdn(t, ns, root, "ps", "-a", "-q"); len(r.lines()) != 1 {
		t.Errorf("ps -a after a failed run -d: %q, want first only", r.lines())
	}
	mdn(t, ns, root, "rm", "-f", "first").wantExit(t, 0)
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "tiny").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+netID[:12])
}

// TestNetworkRunKilledMidSetup: kill -9 of a foreground run while its
// CNI ADD is under way (a plugin, a child of the run — which runs ADD
// itself —, seen running with CNI_COMMAND=ADD): the container never
// runs, and once the orphaned plugin has ended and the next command on
// the network (network inspect) has swept, no veth, lease, pinned
// namespace or cached result is left; the network is removable.
func TestNetworkRunKilledMidSetup(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	t.Setenv("MINIMAL_DOCKER_ROOT", filepath.Join(t.TempDir(), "containers"))
	netID := createNetwork(t, ns, root, "--subnet", "10.86.0.0/24", "mid")
	t.Cleanup(func() { mdn(t, ns, root, "prune", "-f") })

	// pluginOf is p's child running a CNI plugin's ADD, or 0.
	pluginOf := func(pid int) int {
		for _, c := range children(pid) {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", c))
			if err == nil && slices.Contains(strings.Split(string(b), "\x00"), "CNI_COMMAND=ADD") {
				return c
			}
		}
		return 0
	}
	killed := false
	for try := 0; try < 5 && !killed; try++ {
		p := startProc(t, false, func(cmd *exec.Cmd) {
			cmd.Path, _ = exec.LookPath("nsenter")
			cmd.Args = []string{"nsenter", "--net=" + ns, "--", env.bin, "--root", root, "run", "--network", "mid", env.rootfs, "echo", "ran"}
		}, nil)
		plugin := 0
		for plugin == 0 && !p.Exited() {
			plugin = pluginOf(p.Pid())
		}
		if plugin == 0 { // the run got past its ADD between two looks: again
			p.wait(t)
			continue
		}
		if err := unix.Kill(p.Pid(), unix.SIGKILL); err != nil {
			t.Fatal(err)
		}
		r := p.wait(t)
		if strings.Contains(r.stdout, "ran") {
			t.Fatalf("the container ran although its run was killed during its CNI ADD\n%s", r)
		}
		// The plugin, orphaned, ends its ADD; no other runs after it
		// (the run that ran them in turn is gone).
		waitFor(t, "the orphaned plugin to end", func() bool { return unix.Kill(plugin, 0) != nil })
		killed = true
	}
	if !killed {
		t.Fatal("never saw the CNI ADD of 5 runs: nothing was killed mid-setup")
	}
	// The ADD left its namespace pinned and no cached result: the sweep
	// releases it with the network's conflist, so nothing may be left
	// once the next command ran.
	t.Logf("after the killed run's ADD, before the sweep: veths %v, leases %v", veths(t, ns), leases(t, root, "mid"))
	n := inspectNetworkIn(t, ns, root, "mid") // sweeps
	if len(n.Containers) != 0 {
		t.Errorf("network inspect after the killed run: Containers %+v, want none", n.Containers)
	}
	if v, l := veths(t, ns), leases(t, root, "mid"); len(v) != 0 || len(l) != 0 {
		t.Errorf("after the sweep: veths %v, leases %v; want none", v, l)
	}
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "mid").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+netID[:12])
}
