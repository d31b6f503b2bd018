package integration

// The isolation of user-defined networks (our iptables chains,
// internal/network/firewall.go): containers on different networks can't
// reach each other, but published ports answer them; an --internal
// network has no way out; the host's 127.0.0.1 services are out of
// reach; a host port a program holds is not published. Each test runs in
// a network namespace of its own (newTestNetns) and checks that its
// iptables rules are as they were once its networks are removed.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// portmapShared are the nat rules and chains that portmap makes on its
// first use and never removes (README: what stays on the host).
var portmapShared = []string{
	":CNI-HOSTPORT-DNAT", ":CNI-HOSTPORT-MASQ", ":CNI-HOSTPORT-SETMARK",
	"-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
	"-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
	`-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ`,
	"-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE",
	`-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000`,
}

var builtinChain = regexp.MustCompile(`^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) ACCEPT `)

// iptablesState is ns's iptables rules (iptables-save): every rule and
// user chain, and a built-in chain's policy unless ACCEPT; portmap's
// shared chains left out, counters dropped.
func iptablesState(t *testing.T, ns string) []string {
	t.Helper()
	var out []string
	table := ""
	for _, line := range strings.Split(inNetns(t, ns, "iptables-save"), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "*"):
			table = line
			continue
		case line == "" || line == "COMMIT" || strings.HasPrefix(line, "#") || builtinChain.MatchString(line):
			continue
		case strings.HasPrefix(line, ":"):
			line, _, _ = strings.Cut(line, " ")
		}
		if !slices.Contains(portmapShared, line) {
			out = append(out, table+" "+line)
		}
	}
	return out
}

// wantIptablesRestored checks, when the test ends (after its containers
// and networks are removed: call it first), that ns's iptables rules are
// those it had now.
func wantIptablesRestored(t *testing.T, ns string) {
	t.Helper()
	before := iptablesState(t, ns)
	t.Cleanup(func() {
		if after := iptablesState(t, ns); !slices.Equal(after, before) {
			t.Errorf("iptables rules once everything is removed:\n%s\nwant as before:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
		}
	})
}

// ourRules are the rules and chains of ours in ns (filter and nat).
func ourRules(t *testing.T, ns string) []string {
	var out []string
	for _, line := range strings.Split(inNetns(t, ns, "iptables-save"), "\n") {
		if strings.Contains(line, "MINIMAL-DOCKER") {
			out = append(out, line)
		}
	}
	return out
}

// withNetns runs f on a thread in network namespace ns: the sockets it
// makes stay there.
func withNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked when the thread can't go back: it dies with the goroutine
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer self.Close()
		target, err := os.Open(ns)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("setns back: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// serveHTTPIn serves body over HTTP on addr (TCP) in ns until the test
// ends.
func serveHTTPIn(t *testing.T, ns, addr, body string) {
	t.Helper()
	var l net.Listener
	if err := withNetns(ns, func() (err error) { l, err = net.Listen("tcp4", addr); return err }); err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { l.Close() })
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, body) })) //nolint:errcheck // ends with the listener
}

// getIn is the body of GET http://addr/index.html from network
// namespace ns, within timeout: an HTTP request on a connection made
// there (http.Client would dial from another goroutine, on a thread in
// the host's namespace).
func getIn(ns, addr string, timeout time.Duration) (string, error) {
	var conn net.Conn
	if err := withNetns(ns, func() (err error) { conn, err = net.DialTimeout("tcp4", addr, timeout); return err }); err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	req, err := http.NewRequest("GET", "http://"+addr+"/index.html", nil)
	if err != nil {
		return "", err
	}
	if err := req.Write(conn); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return string(b), err
}

// udpIn binds a UDP socket on addr in ns, closed when the test ends.
func udpIn(t *testing.T, ns, addr string) net.PacketConn {
	t.Helper()
	var c net.PacketConn
	if err := withNetns(ns, func() (err error) { c, err = net.ListenPacket("udp4", addr); return err }); err != nil {
		t.Fatalf("bind udp %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// uplink gives ns a veth uplink0 with address 192.0.2.1/24, its peer
// uplink1 either up in ns or (outside != "") moved into network namespace
// outside with 192.0.2.2/24; removed when the test ends.
func uplink(t *testing.T, ns, outside string) {
	t.Helper()
	inNetns(t, ns, "ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1")
	t.Cleanup(func() { inNetns(t, ns, "ip", "link", "del", "uplink0") })
	inNetns(t, ns, "ip", "addr", "add", "192.0.2.1/24", "dev", "uplink0")
	if outside != "" {
		inNetns(t, ns, "ip", "link", "set", "uplink1", "netns", outside)
		inNetns(t, outside, "ip", "addr", "add", "192.0.2.2/24", "dev", "uplink1")
		inNetns(t, outside, "ip", "link", "set", "uplink1", "up")
	} else {
		inNetns(t, ns, "ip", "link", "set", "uplink1", "up")
	}
	inNetns(t, ns, "ip", "link", "set", "uplink0", "up")
}

// webRoot is a directory with index.html holding page, for busybox httpd.
func webRoot(t *testing.T, page string) string {
	t.Helper()
	www := t.TempDir()
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	return www
}

// blockedAfter bounds a fetch that should not get through (a dropped
// packet never answers); one that gets through answers at once.
const blockedAfter = "5"

// fetch is wget of url from container ctr (exec), bounded by
// blockedAfter seconds (busybox wget -T crashes).
func fetch(t *testing.T, ns, root, ctr, url string) result {
	t.Helper()
	return mdn(t, ns, root, "exec", ctr, "timeout", blockedAfter, "wget", "-q", "-O", "-", url)
}

func wantFetch(t *testing.T, ns, root, ctr, url, page string) {
	t.Helper()
	if r := fetch(t, ns, root, ctr, url); r.code != 0 || r.stdout != page {
		t.Errorf("wget %s from %s: want %q\n%s", url, ctr, page, r)
	}
}

func wantBlocked(t *testing.T, ns, root, ctr, url string) {
	t.Helper()
	if r := fetch(t, ns, root, ctr, url); r.code == 0 {
		t.Errorf("wget %s from %s got through, want it blocked\n%s", url, ctr, r)
	}
}

// TestIsolationBetweenNetworks: two networks; containers on one reach
// each other, not those of the other (both ways), but a port published by
// a container of one answers a container of the other on the host's
// (uplink's) address. Our chains are there while the networks are, and
// gone with them.
func TestIsolationBetweenNetworks(t *testing.T) {
	ns := newTestNetns(t)
	wantIptablesRestored(t, ns)
	root := netRoot(t)
	uplink(t, ns, "")
	redID := createNetwork(t, ns, root, "--subnet", "10.91.0.0/24", "red")
	createNetwork(t, ns, root, "--subnet", "10.92.0.0/24", "blue")
	if r := ourRules(t, ns); len(r) == 0 {
		t.Errorf("no MINIMAL-DOCKER rules after network create")
	}
	wwwRed, wwwBlue := webRoot(t, "red\n"), webRoot(t, "blue\n")
	httpd := []string{env.rootfs, "httpd", "-f", "-p", "80", "-h", "/www"}
	detachedIn(t, ns, root, append([]string{"--name", "redsrv", "--network", "red", "-p", "8080:80", "-v", wwwRed + ":/www:ro"}, httpd...)...)
	detachedIn(t, ns, root, append([]string{"--name", "bluesrv", "--network", "blue", "-v", wwwBlue + ":/www:ro"}, httpd...)...)
	detachedIn(t, ns, root, "--name", "redcli", "--network", "red", env.rootfs, "sleep", "1000")
	detachedIn(t, ns, root, "--name", "bluecli", "--network", "blue", env.rootfs, "sleep", "1000")
	red := "http://" + inspectIn(t, ns, root, "redsrv").NetworkSettings.IPAddress + "/index.html"
	blue := "http://" + inspectIn(t, ns, root, "bluesrv").NetworkSettings.IPAddress + "/index.html"

	wantFetch(t, ns, root, "redcli", red, "red\n")
	wantFetch(t, ns, root, "bluecli", blue, "blue\n")
	wantBlocked(t, ns, root, "bluecli", red)
	wantBlocked(t, ns, root, "redcli", blue)
	wantFetch(t, ns, root, "bluecli", "http://192.0.2.1:8080/index.html", "red\n")

	// Attaching again (each run's ADD) adds no rule twice.
	rules := ourRules(t, ns)
	mdn(t, ns, root, "run", "--rm", "--network", "red", env.rootfs, "true").wantExit(t, 0)
	if again := ourRules(t, ns); !slices.Equal(again, rules) {
		t.Errorf("our rules after another run on red:\n%s\nwant as before:\n%s", strings.Join(again, "\n"), strings.Join(rules, "\n"))
	}
	for _, c := range []string{"redsrv", "bluesrv", "redcli", "bluecli"} {
		mdn(t, ns, root, "rm", "-f", c).wantExit(t, 0)
	}
	mdn(t, ns, root, "network", "rm", "red").wantExit(t, 0)
	if r := ourRules(t, ns); len(r) == 0 || strings.Contains(strings.Join(r, "\n"), "br-"+redID[:12]) {
		t.Errorf("our rules with blue left, none of red's: %q", r)
	}
	mdn(t, ns, root, "network", "rm", "blue").wantExit(t, 0)
	if r := ourRules(t, ns); len(r) != 0 {
		t.Errorf("our rules after the last network's rm:\n%s", strings.Join(r, "\n"))
	}
	wantNoAttachments(t, root)
}

// TestIsolationInternal: a container on an --internal network reaches
// its neighbour, but nothing beyond the bridge, even with a default route
// of its own through the gateway (the "outside" namespace beyond the
// test's uplink routes the internal subnet back, so only our rules stop
// it); no masquerade for its subnet. A container on a plain network
// reaches the outside (the control). network prune takes the rules away.
func TestIsolationInternal(t *testing.T) {
	ns := newTestNetns(t)
	wantIptablesRestored(t, ns)
	outside := newTestNetns(t)
	root := netRoot(t)
	uplink(t, ns, outside)
	inNetns(t, outside, "ip", "route", "add", "10.93.0.0/24", "via", "192.0.2.1")
	serveHTTPIn(t, outside, "192.0.2.2:80", "outside\n")
	createNetwork(t, ns, root, "--subnet", "10.93.0.0/24", "--internal", "inner")
	plainID := createNetwork(t, ns, root, "--subnet", "10.94.0.0/24", "plain")
	www := webRoot(t, "inner\n")
	detachedIn(t, ns, root, "--name", "isrv", "--network", "inner", "-v", www+":/www:ro", env.rootfs, "httpd", "-f", "-p", "80", "-h", "/www")
	detachedIn(t, ns, root, "--name", "icli", "--network", "inner", "--cap-add", "NET_ADMIN", env.rootfs, "sleep", "1000")
	detachedIn(t, ns, root, "--name", "pcli", "--network", "plain", env.rootfs, "sleep", "1000")

	wantFetch(t, ns, root, "pcli", "http://192.0.2.2/", "outside\n")
	wantFetch(t, ns, root, "icli", "http://"+inspectIn(t, ns, root, "isrv").NetworkSettings.IPAddress+"/index.html", "inner\n")
	if r := mdn(t, ns, root, "exec", "icli", "ip", "route"); r.code != 0 || strings.Contains(r.stdout, "default") {
		t.Errorf("icli's default route: want none on an internal network\n%s", r)
	}
	mdn(t, ns, root, "exec", "icli", "ip", "route", "add", "default", "via", "10.93.0.1").wantExit(t, 0)
	wantBlocked(t, ns, root, "icli", "http://192.0.2.2/")
	if nat := inNetns(t, ns, "iptables-save", "-t", "nat"); strings.Contains(nat, "10.93.0.") {
		t.Errorf("nat rules for the internal network's subnet:\n%s", nat)
	}
	plainMasq := "-A MINIMAL-DOCKER-POSTROUTING -s 10.94.0.0/24 ! -o br-" + plainID[:12] + " -j MASQUERADE"
	if r := ourNatRules(t, ns); !slices.Contains(r, plainMasq) {
		t.Errorf("nat rules of ours:\n%s\nwant the plain network's %s", strings.Join(r, "\n"), plainMasq)
	}

	for _, c := range []string{"isrv", "icli", "pcli"} {
		mdn(t, ns, root, "rm", "-f", c).wantExit(t, 0)
	}
	r := mdn(t, ns, root, "network", "prune", "-f")
	r.wantExit(t, 0)
	if got := r.lines(); !slices.Equal(got, []string{"Deleted Networks:", "inner", "plain"}) {
		t.Errorf("network prune: %q", got)
	}
	if r := ourRules(t, ns); len(r) != 0 {
		t.Errorf("our rules after network prune:\n%s", strings.Join(r, "\n"))
	}
	wantNoAttachments(t, root)
}

// TestIsolationFromOutside: another machine (a network namespace behind
// the uplink, routing the networks' subnets through the test's) reaches a
// published port on the host's address, but not a container's address
// (Docker 28's protection of unpublished ports), unless the network is
// -o com.docker.network.bridge.gateway_mode_ipv4=nat-unprotected. The
// containers still reach that machine (its replies come back), and the
// host still reaches their addresses. The admin's rules in
// MINIMAL-DOCKER-USER (Docker's DOCKER-USER) come ahead of ours, and stay
// when the last network goes.
func TestIsolationFromOutside(t *testing.T) {
	ns := newTestNetns(t)
	wantIptablesRestored(t, ns)
	outside := newTestNetns(t)
	root := netRoot(t)
	uplink(t, ns, outside)
	for _, subnet := range []string{"10.86.0.0/24", "10.87.0.0/24"} {
		inNetns(t, outside, "ip", "route", "add", subnet, "via", "192.0.2.1")
	}
	serveHTTPIn(t, outside, "192.0.2.2:80", "outside\n")
	createNetwork(t, ns, root, "--subnet", "10.86.0.0/24", "guarded")
	createNetwork(t, ns, root, "--subnet", "10.87.0.0/24", "-o", "com.docker.network.bridge.gateway_mode_ipv4=nat-unprotected", "open")
	www := webRoot(t, "served\n")
	httpd := []string{"-v", www + ":/www:ro", env.rootfs, "httpd", "-f", "-p", "80", "-h", "/www"}
	detachedIn(t, ns, root, append([]string{"--name", "gpub", "--network", "guarded", "-p", "8080:80"}, httpd...)...)
	detachedIn(t, ns, root, append([]string{"--name", "gsrv", "--network", "guarded"}, httpd...)...)
	detachedIn(t, ns, root, append([]string{"--name", "osrv", "--network", "open"}, httpd...)...)
	gsrv := inspectIn(t, ns, root, "gsrv").NetworkSettings.IPAddress + ":80"
	osrv := inspectIn(t, ns, root, "osrv").NetworkSettings.IPAddress + ":80"

	// From the host first: httpd may need a moment to listen.
	for _, addr := range []string{gsrv, osrv, "127.0.0.1:8080"} {
		var body string
		var err error
		waitFor(t, "GET http://"+addr+"/ from the host", func() bool { body, err = getIn(ns, addr, env.timeout); return err == nil })
		if body != "served\n" {
			t.Errorf("GET http://%s/index.html from the host: %q, %v", addr, body, err)
		}
	}
	for _, tt := range []struct {
		addr  string
		reach bool
	}{{"192.0.2.1:8080", true}, {gsrv, false}, {osrv, true}} {
		body, err := getIn(outside, tt.addr, 3*time.Second)
		switch {
		case tt.reach && (err != nil || body != "served\n"):
			t.Errorf("GET http://%s/index.html from outside: %q, %v; want served", tt.addr, body, err)
		case !tt.reach && err == nil:
			t.Errorf("GET http://%s/index.html from outside got through (%q), want it dropped", tt.addr, body)
		}
	}
	wantFetch(t, ns, root, "gsrv", "http://192.0.2.2/", "outside\n")
	r := mdn(t, ns, root, "network", "inspect", "-f", `{{index .Options "com.docker.network.bridge.gateway_mode_ipv4"}}`, "open")
	if r.wantExit(t, 0); strings.TrimSpace(r.stdout) != "nat-unprotected" {
		t.Errorf("network inspect open: gateway_mode_ipv4 %q, want nat-unprotected", r.stdout)
	}

	// The admin's rules in MINIMAL-DOCKER-USER come first: one lets the
	// outside reach gsrv's address, one keeps osrv from the outside's
	// server. They stay when the networks go (removed by the test).
	admin := [][]string{{"-s", "192.0.2.2/32", "-d", strings.TrimSuffix(gsrv, ":80") + "/32", "-j", "ACCEPT"},
		{"-s", strings.TrimSuffix(osrv, ":80") + "/32", "-d", "192.0.2.2/32", "-j", "DROP"}}
	for _, rule := range admin {
		inNetns(t, ns, append([]string{"iptables", "-A", "MINIMAL-DOCKER-USER"}, rule...)...)
	}
	t.Cleanup(func() {
		for _, args := range [][]string{{"-F", "MINIMAL-DOCKER-USER"}, {"-D", "FORWARD", "-j", "MINIMAL-DOCKER-USER"}, {"-X", "MINIMAL-DOCKER-USER"}} {
			_ = exec.Command("nsenter", append([]string{"--net=" + ns, "iptables"}, args...)...).Run()
		}
	})
	if body, err := getIn(outside, gsrv, 3*time.Second); err != nil || body != "served\n" {
		t.Errorf("GET http://%s/index.html from outside, let in by the admin's rule: %q, %v; want served", gsrv, body, err)
	}
	wantBlocked(t, ns, root, "osrv", "http://192.0.2.2/")

	mdn(t, ns, root, "rm", "-f", "gpub", "gsrv", "osrv").wantExit(t, 0)
	mdn(t, ns, root, "network", "rm", "guarded", "open").wantExit(t, 0)
	wantNoAttachments(t, root)
	var left []string
	for _, line := range ourRules(t, ns) {
		if !strings.Contains(line, "MINIMAL-DOCKER-USER") {
			t.Errorf("left after the last network's rm: %s", line)
		} else if strings.HasPrefix(line, "-A MINIMAL-DOCKER-USER") {
			left = append(left, line)
		}
	}
	if len(left) != len(admin) {
		t.Errorf("the admin's rules after the last network's rm: %q, want both kept", left)
	}
}

// TestIsolationLoopback: CVE-2020-8558. portmap turns route_localnet on
// for a bridge with a published port, so that a packet for 127.0.0.1
// arriving there is the host's. A container with NET_ADMIN routes
// 127.0.0.1 through its gateway (its own local routes to 127/8 deleted)
// and sends a UDP datagram (busybox tftp) to a socket bound on 127.0.0.1
// in the test's namespace: it must not arrive. Then the same datagram to
// the gateway's address, which is let in, arrives (on a socket there):
// the first, sent before on the same path, would have arrived first.
// The host still reaches a published port on 127.0.0.1.
func TestIsolationLoopback(t *testing.T) {
	ns := newTestNetns(t)
	wantIptablesRestored(t, ns)
	root := netRoot(t)
	netID := createNetwork(t, ns, root, "--subnet", "10.95.0.0/24", "lo8")
	www := webRoot(t, "published\n")
	detachedIn(t, ns, root, "--name", "pub", "--network", "lo8", "-p", "127.0.0.1:8080:80", "-v", www+":/www:ro", env.rootfs, "httpd", "-f", "-p", "80", "-h", "/www")
	if v := strings.TrimSpace(inNetns(t, ns, "cat", "/proc/sys/net/ipv4/conf/br-"+netID[:12]+"/route_localnet")); v != "1" {
		t.Fatalf("route_localnet on the bridge is %s: want 1 (portmap's, the hole this test checks is closed)", v)
	}
	wget := func(url string) result {
		return mdn(t, ns, root, "run", "--rm", "--network", "host", env.rootfs, "wget", "-q", "-O", "-", url)
	}
	var got result
	waitFor(t, "the published port on 127.0.0.1", func() bool { got = wget("http://127.0.0.1:8080/index.html"); return got.code == 0 })
	if got.stdout != "published\n" {
		t.Errorf("wget of the published port on 127.0.0.1 from the host: %s", got)
	}

	local := udpIn(t, ns, "127.0.0.1:7777")
	gw := udpIn(t, ns, "10.95.0.1:7777")
	attack := "ip route del local 127.0.0.0/8 dev lo table local && ip route del local 127.0.0.1 dev lo table local && " +
		"ip route add 127.0.0.1/32 via 10.95.0.1 dev eth0 && ip route get 127.0.0.1 && " +
		"timeout 2 tftp -g -r attack 127.0.0.1 7777; timeout 2 tftp -g -r control 10.95.0.1 7777; true"
	r := mdn(t, ns, root, "run", "--rm", "--network", "lo8", "--cap-add", "NET_ADMIN", env.rootfs, "sh", "-c", attack)
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "127.0.0.1 via 10.95.0.1 dev eth0") {
		t.Fatalf("the container's route to 127.0.0.1: want via its gateway\n%s", r)
	}
	buf := make([]byte, 512)
	if err := gw.SetReadDeadline(time.Now().Add(env.timeout)); err != nil {
		t.Fatal(err)
	}
	if n, from, err := gw.ReadFrom(buf); err != nil || !strings.Contains(string(buf[:n]), "control") {
		t.Fatalf("the control datagram to the gateway: %q from %v, %v", buf[:n], from, err)
	}
	// Queued already if it came (a deadline passed reads nothing at all).
	if err := local.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, from, err := local.ReadFrom(buf); err == nil {
		t.Errorf("a container's datagram reached 127.0.0.1:7777 in the host's namespace: %q from %v", buf[:n], from)
	}
}

// TestPublishHostPortHeld: -p of a host port that a program of the host
// holds (TCP listening on all addresses, UDP bound on 127.0.0.1) is
// refused, exit 125, Docker's "bind: address already in use", nothing of
// the run left; once the program lets go, the same -p works.
func TestPublishHostPortHeld(t *testing.T) {
	ns := newTestNetns(t)
	wantIptablesRestored(t, ns)
	root := netRoot(t)
	createNetwork(t, ns, root, "--subnet", "10.96.0.0/24", "held")
	var tcp net.Listener
	if err := withNetns(ns, func() (err error) { tcp, err = net.Listen("tcp4", "0.0.0.0:8081"); return err }); err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	udp := udpIn(t, ns, "127.0.0.1:5353")
	for _, tt := range []struct{ publish, want string }{
		{"8081:80", "failed to bind port 0.0.0.0:8081/tcp: listen tcp4 0.0.0.0:8081: bind: address already in use"},
		{"127.0.0.1:8081:80", "failed to bind port 127.0.0.1:8081/tcp: listen tcp4 127.0.0.1:8081: bind: address already in use"},
		{"5353:53/udp", "failed to bind port 0.0.0.0:5353/udp: listen udp4 0.0.0.0:5353: bind: address already in use"},
	} {
		t.Run(tt.publish, func(t *testing.T) {
			for _, run := range [][]string{{"run"}, {"run", "-d"}} {
				r := mdn(t, ns, root, append(run, "--network", "held", "-p", tt.publish, env.rootfs, "true")...)
				r.wantExit(t, 125)
				r.wantStderr(t, "network held", tt.want)
				if v, l := veths(t, ns), leases(t, root, "held"); len(v)+len(l) != 0 {
					t.Errorf("after a refused %s: veths %v, leases %v", run, v, l)
				}
				if r := mdn(t, ns, root, "ps", "-a", "-q"); r.stdout != "" {
					t.Errorf("after a refused %s: ps -a -q %q", run, r.stdout)
				}
			}
		})
	}
	tcp.Close()
	udp.Close()
	r := mdn(t, ns, root, "run", "--rm", "--network", "held", "-p", "8081:80", "-p", "5353:53/udp", env.rootfs, "true")
	r.wantExit(t, 0)
	wantNoAttachments(t, root)
}

// TestIsolationConcurrent: network creates at once, then runs at once on
// one network whose rules were lost (as after a reboot: the ADD that
// finds no bridge puts them back), then network rms at once: the rules
// are each there once, and all gone at the end.
func TestIsolationConcurrent(t *testing.T) {
	ns := newTestNetns(t)
	wantIptablesRestored(t, ns)
	root := netRoot(t)
	const n = 4
	// at runs minimal-docker with args(i) in ns for each i at once.
	at := func(args func(i int) []string) {
		t.Helper()
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				a := append([]string{"--net=" + ns, "--", env.bin, "--root", root}, args(i)...)
				out, err := exec.Command("nsenter", a...).CombinedOutput()
				if err != nil {
					err = fmt.Errorf("%s: %w\n%s", strings.Join(a[3:], " "), err, out)
				}
				errs <- err
			}()
		}
		for i := 0; i < n; i++ {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(func() { mdn(t, ns, root, "network", "prune", "-f") })
	at(func(i int) []string {
		return []string{"network", "create", "--subnet", fmt.Sprintf("10.97.%d.0/24", i), fmt.Sprintf("c%d", i)}
	})
	rules := ourRules(t, ns)
	// 5 chains, 4 jumps, the RETURN, 5 rules per network (4 in filter,
	// the masquerade in nat).
	if len(rules) != 5+4+1+5*n {
		t.Errorf("our rules after %d network creates at once:\n%s", n, strings.Join(rules, "\n"))
	}
	for _, args := range [][]string{
		{"-D", "FORWARD", "-j", "MINIMAL-DOCKER-USER"}, {"-X", "MINIMAL-DOCKER-USER"},
		{"-D", "FORWARD", "-j", "MINIMAL-DOCKER-ISOLATION-1"}, {"-D", "INPUT", "-j", "MINIMAL-DOCKER-INPUT"},
		{"-F", "MINIMAL-DOCKER-ISOLATION-1"}, {"-F", "MINIMAL-DOCKER-ISOLATION-2"}, {"-F", "MINIMAL-DOCKER-INPUT"},
		{"-X", "MINIMAL-DOCKER-ISOLATION-1"}, {"-X", "MINIMAL-DOCKER-ISOLATION-2"}, {"-X", "MINIMAL-DOCKER-INPUT"},
		{"-t", "nat", "-D", "POSTROUTING", "-j", "MINIMAL-DOCKER-POSTROUTING"},
		{"-t", "nat", "-F", "MINIMAL-DOCKER-POSTROUTING"}, {"-t", "nat", "-X", "MINIMAL-DOCKER-POSTROUTING"},
	} {
		inNetns(t, ns, append([]string{"iptables"}, args...)...)
	}
	at(func(i int) []string { return []string{"run", "--rm", "--network", "c0", env.rootfs, "true"} })
	c0Bridge := "br-" + inspectNetworkIn(t, ns, root, "c0").Id[:12]
	c0 := func(rs []string) (out []string) { // rules of no network, and c0's
		for _, r := range rs {
			if !strings.Contains(r, " br-") || strings.Contains(r, c0Bridge) {
				out = append(out, r)
			}
		}
		return out
	}
	if got, want := ourRules(t, ns), c0(rules); !slices.Equal(got, want) {
		t.Errorf("our rules after %d runs at once put them back:\n%s\nwant:\n%s", n, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	at(func(i int) []string { return []string{"network", "rm", fmt.Sprintf("c%d", i)} })
	if r := ourRules(t, ns); len(r) != 0 {
		t.Errorf("our rules after every network's rm:\n%s", strings.Join(r, "\n"))
	}
	wantNoAttachments(t, root)
}
