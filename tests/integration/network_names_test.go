package integration

// A container's /etc/hosts, /etc/hostname and /etc/resolv.conf (none,
// host, a user-defined network; --dns, --dns-search, --dns-option,
// --add-host, --hostname), and names on user-defined networks: containers
// find each other by name, --network-alias and short ID through hosts
// files kept current as containers come and go, and network connect and
// disconnect. Each test runs in a network namespace of its own, as
// network_cni_test.go's.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	kproc "github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// dockerHosts are the lines every container's /etc/hosts starts with.
const dockerHosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"

// etcOf prints the container's three files, separated by "--".
const etcOf = "cat /etc/hosts; echo --; cat /etc/hostname; echo --; cat /etc/resolv.conf"

func splitEtc(t *testing.T, r result) (hosts, hostname, resolv string) {
	t.Helper()
	parts := strings.Split(r.stdout, "--\n")
	if len(parts) != 3 {
		t.Fatalf("want the three files:\n%s", r)
	}
	return parts[0], parts[1], parts[2]
}

// TestNamesEtcFiles: the three files in each network mode, with the flags
// that change them; the refusals; a detached container's files are in
// its directory and go with it.
func TestNamesEtcFiles(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	createNetwork(t, ns, root, "--subnet", "10.90.0.0/24", "etc")

	r := mdn(t, ns, root, "run", env.rootfs, "sh", "-c", etcOf)
	r.wantExit(t, 0)
	hosts, hostname, resolv := splitEtc(t, r)
	if hosts != dockerHosts || hostname != "minimal-docker\n" {
		t.Errorf("--network none: /etc/hosts %q, /etc/hostname %q; want Docker's defaults and minimal-docker", hosts, hostname)
	}
	if !regexp.MustCompile(`(?m)^nameserver \S+$`).MatchString(resolv) || regexp.MustCompile(`(?m)^nameserver (127\.|::1)`).MatchString(resolv) {
		t.Errorf("--network none: /etc/resolv.conf has no name server, or a loopback one:\n%s", resolv)
	}

	r = mdn(t, ns, root, "run", "--dns", "192.0.2.53", "--dns", "192.0.2.54", "--dns-search", "a.example", "--dns-option", "ndots:2",
		"--hostname", "box", "--add-host", "db:192.0.2.7", "--add-host", "v6=[2001:db8::7]", env.rootfs, "sh", "-c", etcOf)
	r.wantExit(t, 0)
	hosts, hostname, resolv = splitEtc(t, r)
	if want := dockerHosts + "192.0.2.7\tdb\n2001:db8::7\tv6\n"; hosts != want {
		t.Errorf("--add-host: /etc/hosts\n%s\nwant\n%s", hosts, want)
	}
	if hostname != "box\n" {
		t.Errorf("--hostname box: /etc/hostname %q", hostname)
	}
	if want := "nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch a.example\noptions ndots:2\n"; resolv != want {
		t.Errorf("--dns, --dns-search, --dns-option: /etc/resolv.conf\n%s\nwant\n%s", resolv, want)
	}

	// --network host: the host's files, and its hostname.
	r = mdn(t, ns, root, "run", "--network", "host", env.rootfs, "sh", "-c", etcOf)
	r.wantExit(t, 0)
	hosts, hostname, resolv = splitEtc(t, r)
	hostHosts, _ := os.ReadFile("/etc/hosts")
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	self, _ := os.Hostname()
	if hosts != string(hostHosts) || resolv != string(hostResolv) || hostname != self+"\n" {
		t.Errorf("--network host: want the host's /etc/hosts, /etc/resolv.conf and hostname %q:\n%s", self, r)
	}

	// A user-defined network: its own address with its hostname, after
	// the --add-host lines; host-gateway is the network's gateway.
	id := detachedIn(t, ns, root, "--name", "files", "--network", "etc", "--hostname", "web1", "--add-host", "db:192.0.2.7",
		"--add-host", "gw:host-gateway", env.rootfs, "sleep", "1000")
	ip := inspectIn(t, ns, root, id).NetworkSettings.IPAddress
	r = mdn(t, ns, root, "exec", "files", "sh", "-c", etcOf)
	r.wantExit(t, 0)
	hosts, hostname, _ = splitEtc(t, r)
	if want := dockerHosts + "192.0.2.7\tdb\n10.90.0.1\tgw\n" + ip + "\tweb1\n"; hosts != want || hostname != "web1\n" {
		t.Errorf("--network etc: /etc/hosts\n%s\nwant\n%s\n/etc/hostname %q", hosts, want, hostname)
	}
	dir := filepath.Join(root, "containers", id)
	for _, f := range []string{"hosts", "hostname", "resolv.conf"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the container's %s: %v", f, err)
		}
	}
	// The files are the container's: written there, the host's own stay.
	mdn(t, ns, root, "exec", "files", "sh", "-c", "echo 192.0.2.9 mine >> /etc/hosts").wantExit(t, 0)
	if b, _ := os.ReadFile(filepath.Join(dir, "hosts")); !strings.Contains(string(b), "192.0.2.9 mine") {
		t.Errorf("a line added in the container is not in its hosts file:\n%s", b)
	}
	mdn(t, ns, root, "rm", "-f", "files").wantExit(t, 0)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("rm -f left the container's directory: %v", err)
	}

	// --read-only: the files are read-only too (Docker's).
	r = mdn(t, ns, root, "run", "--read-only", env.rootfs, "sh", "-c", "echo x >> /etc/hosts")
	if r.code == 0 {
		t.Errorf("--read-only: /etc/hosts is writable")
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--dns", "dns.example"}, `invalid --dns "dns.example"`},
		{[]string{"--dns-search", "-x"}, `invalid --dns-search "-x"`},
		{[]string{"--add-host", "nohost"}, `invalid --add-host "nohost"`},
		{[]string{"--add-host", "db:1.2.3"}, `invalid --add-host "db:1.2.3"`},
		{[]string{"--add-host", "gw:host-gateway"}, "host-gateway is the gateway of the container's network"},
		{[]string{"--network-alias", "a"}, "network-scoped aliases are only supported for user-defined networks"},
	} {
		for _, verb := range [][]string{{"run"}, {"run", "-d"}} {
			r := mdn(t, ns, root, append(append(verb, tt.args...), env.rootfs, "true")...)
			r.wantExit(t, 125)
			r.wantStderr(t, tt.want)
		}
	}
	if r := mdn(t, ns, root, "ps", "-a", "-q"); r.stdout != "" {
		t.Errorf("refused runs left containers: %q", r.stdout)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "writable")); len(ents) != 0 {
		t.Errorf("foreground runs left their directories under writable: %v", ents)
	}
	wantNoAttachments(t, root)
}

// hostsIn is container ref's /etc/hosts.
func hostsIn(t *testing.T, ns, root, ref string) string {
	t.Helper()
	r := mdn(t, ns, root, "exec", ref, "cat", "/etc/hosts")
	r.wantExit(t, 0)
	return r.stdout
}

// TestNamesResolve: on a user-defined network busybox wget reaches httpd
// by the server's name, alias and short ID, from a detached container and
// from a foreground run; a container started later appears in the
// running ones' hosts files, and goes when removed; a container on
// another network never appears.
func TestNamesResolve(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.91.0.0/24", "names")
	otherID := createNetwork(t, ns, root, "--subnet", "10.92.0.0/24", "other")
	www := t.TempDir()
	const page = "found by name\n"
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := detachedIn(t, ns, root, "--name", "srv", "--network", "names", "--network-alias", "www", "--network-alias", "web.example",
		"-v", www+":/www:ro", env.rootfs, "httpd", "-f", "-p", "80", "-h", "/www")
	detachedIn(t, ns, root, "--name", "cli", "--network", "names", "--hostname", "client", env.rootfs, "sleep", "1000")
	detachedIn(t, ns, root, "--name", "far", "--network", "other", env.rootfs, "sleep", "1000")
	srvIP := inspectIn(t, ns, root, "srv").NetworkSettings.IPAddress
	cliIP := inspectIn(t, ns, root, "cli").NetworkSettings.IPAddress

	for _, name := range []string{"srv", "www", "web.example", srv[:12]} {
		url := "http://" + name + "/index.html"
		var r result
		waitFor(t, "httpd's answer on "+url, func() bool {
			r = mdn(t, ns, root, "exec", "cli", "wget", "-q", "-O", "-", url)
			return r.code == 0
		})
		if r.stdout != page {
			t.Errorf("wget %s from cli: %q, want %q", url, r.stdout, page)
		}
	}
	r := mdn(t, ns, root, "run", "--network", "names", env.rootfs, "wget", "-q", "-O", "-", "http://srv/index.html")
	r.wantExit(t, 0)
	if r.stdout != page {
		t.Errorf("wget from a foreground run: %q", r.stdout)
	}
	// cli's file: its own line, srv's names; its hostname resolves for
	// srv; far's is in neither.
	if want := dockerHosts + cliIP + "\tclient\n" + srvIP + "\tsrv www web.example " + srv[:12] + "\n"; hostsIn(t, ns, root, "cli") != want {
		t.Errorf("cli's /etc/hosts:\n%s\nwant:\n%s", hostsIn(t, ns, root, "cli"), want)
	}
	if h := hostsIn(t, ns, root, "srv"); !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(cliIP) + `\tcli client [0-9a-f]{12}$`).MatchString(h) {
		t.Errorf("srv's /etc/hosts has no line of cli at %s with its name, hostname and short ID:\n%s", cliIP, h)
	}
	if h := hostsIn(t, ns, root, "far"); strings.Contains(h, "srv") || strings.Contains(h, "cli") {
		t.Errorf("far, on another network, knows the names of network names:\n%s", h)
	}
	if r := mdn(t, ns, root, "exec", "far", "wget", "-q", "-O", "-", "http://srv/index.html"); r.code == 0 {
		t.Errorf("far reached srv by name from another network")
	}

	// A container started later appears in the running ones' files; once
	// removed it is gone from them.
	late := detachedIn(t, ns, root, "--name", "late", "--network", "names", env.rootfs, "sleep", "1000")
	lateIP := inspectIn(t, ns, root, late).NetworkSettings.IPAddress
	lateLine := lateIP + "\tlate " + late[:12] + "\n"
	if h := hostsIn(t, ns, root, "cli"); !strings.Contains(h, lateLine) {
		t.Errorf("cli's /etc/hosts after late started: no %q:\n%s", lateLine, h)
	}
	mdn(t, ns, root, "exec", "cli", "ping", "-c", "1", "-W", "5", "late").wantExit(t, 0)
	mdn(t, ns, root, "rm", "-f", "late").wantExit(t, 0)
	for _, c := range []string{"cli", "srv"} {
		if h := hostsIn(t, ns, root, c); strings.Contains(h, "late") {
			t.Errorf("%s's /etc/hosts after rm -f late:\n%s", c, h)
		}
	}
	// A stopped container is gone from them too (once its monitor has
	// deleted it: the poststop hook), and back when started.
	mdn(t, ns, root, "stop", "-t", "1", "srv").wantExit(t, 0)
	waitFor(t, "srv's line gone from cli's /etc/hosts", func() bool { return !strings.Contains(hostsIn(t, ns, root, "cli"), "srv") })
	mdn(t, ns, root, "start", "srv").wantExit(t, 0)
	if h := hostsIn(t, ns, root, "cli"); !strings.Contains(h, "\tsrv www web.example ") {
		t.Errorf("cli's /etc/hosts with srv started again:\n%s", h)
	}

	for _, c := range []string{"srv", "cli", "far"} {
		mdn(t, ns, root, "rm", "-f", c).wantExit(t, 0)
	}
	wantNoAttachments(t, root)
	if ents, _ := os.ReadDir(filepath.Join(root, "networks", "names")); len(ents) > 1 { // its lock only
		t.Errorf("names records left: %v", ents)
	}
	mdn(t, ns, root, "network", "rm", "names", "other").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+netID[:12], "br-"+otherID[:12])
}

// addrOn is container ref's IPv4 address on interface ifName ("" when it
// has none).
func addrOn(t *testing.T, ns, root, ref, ifName string) string {
	t.Helper()
	r := mdn(t, ns, root, "exec", ref, "ip", "-o", "-4", "addr", "show", ifName)
	if m := regexp.MustCompile(`inet (\S+)/`).FindStringSubmatch(r.stdout); r.code == 0 && m != nil {
		return m[1]
	}
	return ""
}

// TestNamesConnect: network connect puts a running container on a second
// network at once (eth1, its names in the others' hosts files, its
// alias), inspect shows both; a restart keeps it; disconnect takes it off
// (the interface, the address, its names); a created container connected
// joins the network when it starts; Docker's refusals.
func TestNamesConnect(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	frontID := createNetwork(t, ns, root, "--subnet", "10.93.0.0/24", "front")
	backID := createNetwork(t, ns, root, "--subnet", "10.94.0.0/24", "back")
	www := t.TempDir()
	const page = "behind\n"
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	detachedIn(t, ns, root, "--name", "srv", "--network", "back", "-v", www+":/www:ro", env.rootfs, "httpd", "-f", "-p", "80", "-h", "/www")
	cli := detachedIn(t, ns, root, "--name", "cli", "--network", "front", env.rootfs, "sleep", "1000")
	srvIP := inspectIn(t, ns, root, "srv").NetworkSettings.IPAddress
	if r := mdn(t, ns, root, "exec", "cli", "wget", "-q", "-O", "-", "http://srv/index.html"); r.code == 0 {
		t.Fatalf("cli reached srv by name before it was connected to back")
	}

	mdn(t, ns, root, "network", "connect", "--alias", "client", "back", "cli").wantExit(t, 0)
	ip := addrOn(t, ns, root, "cli", "eth1")
	if !strings.HasPrefix(ip, "10.94.0.") {
		t.Fatalf("cli's eth1 after network connect: %q, want an address in 10.94.0.0/24", ip)
	}
	var r result
	waitFor(t, "httpd's answer to cli by name", func() bool {
		r = mdn(t, ns, root, "exec", "cli", "wget", "-q", "-O", "-", "http://srv/index.html")
		return r.code == 0
	})
	if r.stdout != page {
		t.Errorf("wget from cli: %q", r.stdout)
	}
	line := ip + "\tcli client " + cli[:12] + "\n"
	if h := hostsIn(t, ns, root, "srv"); !strings.Contains(h, line) {
		t.Errorf("srv's /etc/hosts has no %q:\n%s", line, h)
	}
	if h := hostsIn(t, ns, root, "cli"); !strings.Contains(h, srvIP+"\tsrv ") || !strings.Contains(h, ip+"\tminimal-docker\n") {
		t.Errorf("cli's /etc/hosts: want srv's line and its own on back:\n%s", h)
	}
	c := inspectIn(t, ns, root, "cli")
	if e, ok := c.NetworkSettings.Networks["back"]; !ok || e.IPAddress != ip || e.NetworkID != backID || len(e.Aliases) != 1 || e.Aliases[0] != "client" {
		t.Errorf("inspect cli: Networks[back] %+v, want %s with alias client", e, ip)
	}
	if e, ok := c.NetworkSettings.Networks["front"]; !ok || !strings.HasPrefix(e.IPAddress, "10.93.0.") {
		t.Errorf("inspect cli: Networks[front] %+v", e)
	}
	if n := inspectNetworkIn(t, ns, root, "back"); n.Containers[cli].IPv4Address != ip+"/24" {
		t.Errorf("network inspect back: Containers %+v, want cli at %s", n.Containers, ip)
	}
	r = mdn(t, ns, root, "network", "connect", "back", "cli")
	r.wantExit(t, 1)
	r.wantStderr(t, "endpoint with name cli already exists in network back")
	r = mdn(t, ns, root, "network", "rm", "back")
	r.wantExit(t, 1)
	r.wantStderr(t, "has active endpoints")

	// A restart joins both networks again.
	mdn(t, ns, root, "restart", "-t", "1", "cli").wantExit(t, 0)
	if a0, a1 := addrOn(t, ns, root, "cli", "eth0"), addrOn(t, ns, root, "cli", "eth1"); !strings.HasPrefix(a0, "10.93.0.") || !strings.HasPrefix(a1, "10.94.0.") {
		t.Errorf("cli after restart: eth0 %q, eth1 %q; want front's and back's", a0, a1)
	}

	mdn(t, ns, root, "network", "disconnect", "back", "cli").wantExit(t, 0)
	if a := addrOn(t, ns, root, "cli", "eth1"); a != "" {
		t.Errorf("cli's eth1 after disconnect: %s", a)
	}
	if h := hostsIn(t, ns, root, "srv"); strings.Contains(h, "cli") {
		t.Errorf("srv's /etc/hosts after disconnect:\n%s", h)
	}
	if h := hostsIn(t, ns, root, "cli"); strings.Contains(h, "srv") {
		t.Errorf("cli's /etc/hosts after disconnect:\n%s", h)
	}
	if l := leases(t, root, "back"); len(l) != 1 || l[0] != srvIP {
		t.Errorf("back's leases after disconnect: %v, want srv's %s", l, srvIP)
	}
	if _, ok := inspectIn(t, ns, root, "cli").NetworkSettings.Networks["back"]; ok {
		t.Errorf("inspect cli: still on back after disconnect")
	}
	r = mdn(t, ns, root, "network", "disconnect", "back", "cli")
	r.wantExit(t, 1)
	r.wantStderr(t, "is not connected to network back")

	// A created container: connected at its start.
	r = mdn(t, ns, root, "create", "--name", "later", "--network", "front", env.rootfs, "sleep", "1000")
	r.wantExit(t, 0)
	later := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { mdn(t, ns, root, "rm", "-f", later) })
	mdn(t, ns, root, "network", "connect", "back", "later").wantExit(t, 0)
	if l := leases(t, root, "back"); len(l) != 1 {
		t.Errorf("back's leases after connecting a created container: %v, want srv's only", l)
	}
	mdn(t, ns, root, "start", "later").wantExit(t, 0)
	laterIP := addrOn(t, ns, root, "later", "eth1")
	if !strings.HasPrefix(laterIP, "10.94.0.") {
		t.Errorf("later's eth1 after start: %q", laterIP)
	}
	if h := hostsIn(t, ns, root, "srv"); !strings.Contains(h, laterIP+"\tlater ") {
		t.Errorf("srv's /etc/hosts with later started:\n%s", h)
	}
	mdn(t, ns, root, "rm", "-f", "later").wantExit(t, 0)
	if h := hostsIn(t, ns, root, "srv"); strings.Contains(h, "later") {
		t.Errorf("srv's /etc/hosts after rm -f later:\n%s", h)
	}

	// Docker's refusals: a container of --network none or host.
	for _, mode := range []struct{ network, want string }{
		{"none", "cannot be connected to multiple networks with one of the networks in private (none) mode"},
		{"host", "cannot be disconnected from host network or connected to host network"},
	} {
		r := mdn(t, ns, root, "create", "--network", mode.network, env.rootfs, "true")
		r.wantExit(t, 0)
		id := strings.TrimSpace(r.stdout)
		r = mdn(t, ns, root, "network", "connect", "back", id)
		r.wantExit(t, 1)
		r.wantStderr(t, mode.want)
		mdn(t, ns, root, "rm", id).wantExit(t, 0)
	}
	r = mdn(t, ns, root, "network", "connect", "nosuch", "cli")
	r.wantExit(t, 1)
	r.wantStderr(t, "network nosuch not found")

	mdn(t, ns, root, "rm", "-f", "srv", "cli").wantExit(t, 0)
	if l := leases(t, root, "back"); len(l) != 0 {
		t.Errorf("back's leases after rm -f: %v", l)
	}
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "front", "back").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+frontID[:12], "br-"+backID[:12])
}

// TestNamesKilledRun: a foreground run killed (-9, no CNI DEL) stays
// in the others' hosts files until its network is swept (here by network
// inspect), which takes its names away with its address.
func TestNamesKilledRun(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	// The runtime's state of the killed run: prune removes it before the
	// suite's leftover checks.
	t.Setenv("MINIMAL_DOCKER_ROOT", filepath.Join(t.TempDir(), "containers"))
	netID := createNetwork(t, ns, root, "--subnet", "10.95.0.0/24", "ghosts")
	t.Cleanup(func() { mdn(t, ns, root, "prune", "-f").wantExit(t, 0) })
	detachedIn(t, ns, root, "--name", "cli", "--network", "ghosts", env.rootfs, "sleep", "1000")

	p := startProc(t, false, func(cmd *exec.Cmd) {
		cmd.Path, _ = exec.LookPath("nsenter")
		cmd.Args = []string{"nsenter", "--net=" + ns, "--", env.bin, "--root", root, "run", "--network", "ghosts", "--network-alias", "ghost",
			env.rootfs, "sh", "-c", "echo up; exec sleep 1000"}
	}, nil)
	p.waitLine(t, "up")
	cpid := p.containerPID(t)
	start, err := kproc.StartTime(cpid)
	if err != nil {
		t.Fatal(err)
	}
	if h := hostsIn(t, ns, root, "cli"); !strings.Contains(h, "\tghost ") {
		t.Errorf("cli's /etc/hosts while the run runs: no ghost\n%s", h)
	}
	if err := unix.Kill(p.Pid(), unix.SIGKILL); err != nil { // minimal-docker itself (nsenter execs it)
		t.Fatal(err)
	}
	p.wait(t)
	waitFor(t, "the container's end with its run", func() bool { return !alive(store.Process{Pid: cpid, StartTime: start}) })
	inspectNetworkIn(t, ns, root, "ghosts") // sweeps
	if h := hostsIn(t, ns, root, "cli"); strings.Contains(h, "ghost") {
		t.Errorf("cli's /etc/hosts after the killed run was swept:\n%s", h)
	}
	mdn(t, ns, root, "rm", "-f", "cli").wantExit(t, 0)
	wantNoAttachments(t, root)
	mdn(t, ns, root, "network", "rm", "ghosts").wantExit(t, 0)
	wantNetnsClean(t, ns, "br-"+netID[:12])
}

// TestNetworkRunMany: run -d (and create) with --network given more than
// once joins each network, in order (eth0, eth1), the long form's
// address, alias and MAC address on the second (its tuning backup gone
// with it: wantNoAttachments); a container on the second finds it
// by that alias; ps --filter network= sees it on both; a foreground run
// joins both and leaves them. A network that does not exist, an address
// outside a network and a mode among them are refused, exit 125, leaving
// nothing.
func TestNetworkRunMany(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	createNetwork(t, ns, root, "--subnet", "10.84.0.0/24", "one")
	createNetwork(t, ns, root, "--subnet", "10.85.0.0/24", "two")
	detachedIn(t, ns, root, "--name", "both", "--network", "one", "--network", "name=two,ip=10.85.0.40,alias=second,mac-address=02:42:0a:55:00:28", env.rootfs, "sleep", "1000")
	if a, b := addrOn(t, ns, root, "both", "eth0"), addrOn(t, ns, root, "both", "eth1"); !strings.HasPrefix(a, "10.84.0.") || b != "10.85.0.40" {
		t.Errorf("both's eth0 %q and eth1 %q: want an address of one, then 10.85.0.40", a, b)
	}
	if r := mdn(t, ns, root, "exec", "both", "cat", "/sys/class/net/eth1/address"); strings.TrimSpace(r.stdout) != "02:42:0a:55:00:28" {
		t.Errorf("both's eth1 MAC address: %s, want 02:42:0a:55:00:28", r)
	}
	r := mdn(t, ns, root, "run", "--rm", "--network", "two", env.rootfs, "ping", "-c", "1", "-W", "5", "second")
	if r.wantExit(t, 0); !strings.Contains(r.stdout, "10.85.0.40") {
		t.Errorf("ping second from two: want 10.85.0.40\n%s", r)
	}
	for _, n := range []string{"one", "two"} {
		if r := mdn(t, ns, root, "ps", "-q", "--filter", "network="+n); len(r.lines()) != 1 {
			t.Errorf("ps --filter network=%s: %q, want both", n, r.lines())
		}
	}
	id := strings.TrimSpace(mdn(t, ns, root, "create", "--network", "two", "--network", "one", env.rootfs, "ip", "-o", "-4", "addr").stdout)
	r = mdn(t, ns, root, "start", "-a", id)
	if r.wantExit(t, 0); !regexp.MustCompile(`eth0\s+inet 10\.85\.0\.`).MatchString(r.stdout) || !regexp.MustCompile(`eth1\s+inet 10\.84\.0\.`).MatchString(r.stdout) {
		t.Errorf("create --network two --network one, then start: want eth0 on two, eth1 on one\n%s", r)
	}
	mdn(t, ns, root, "rm", "-f", "both", id).wantExit(t, 0)
	// A foreground run joins both too, and leaves them.
	r = mdn(t, ns, root, "run", "--rm", "--network", "one", "--network", "name=two,ip=10.85.0.41,mac-address=02:42:0a:55:00:29", env.rootfs,
		"sh", "-c", "ip -o -4 addr; cat /sys/class/net/eth1/address")
	if r.wantExit(t, 0); !regexp.MustCompile(`eth0\s+inet 10\.84\.0\.`).MatchString(r.stdout) || !strings.Contains(r.stdout, "inet 10.85.0.41/24") ||
		!strings.Contains(r.stdout, "02:42:0a:55:00:29") {
		t.Errorf("run --network one --network name=two,ip=10.85.0.41,mac-address=...: want eth0 on one, eth1 at 10.85.0.41 with the MAC address\n%s", r)
	}
	if l := leases(t, root, "two"); len(l) != 0 {
		t.Errorf("two's leases after the foreground run: %v", l)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--rm", "--network", "one", "--network", "nosuch"}, "network nosuch not found"},
		{[]string{"run", "-d", "--network", "one", "--network", "nosuch"}, "network nosuch not found"},
		{[]string{"create", "--network", "one", "--network", "name=two,ip=10.84.0.9"}, "--ip 10.84.0.9: not in network two's subnet"},
		{[]string{"run", "-d", "--network", "bridge", "--network", "one"}, "cannot attach both user-defined and non-user-defined network-modes"},
	} {
		r := mdn(t, ns, root, append(tt.args, env.rootfs, "sleep", "1000")...)
		r.wantExit(t, 125)
		r.wantStderr(t, tt.want)
	}
	if r := mdn(t, ns, root, "ps", "-a", "-q"); r.stdout != "" {
		t.Errorf("ps -a -q after the refusals: %q", r.stdout)
	}
	wantNoAttachments(t, root)
}
