package network

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestHostsBytes(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    Hosts
		want string
	}{
		{"defaults", Hosts{}, defaultHosts},
		{"all", Hosts{
			Extra:  []HostEntry{{IP: "10.1.1.1", Names: []string{"db"}}},
			Own:    []HostEntry{{IP: "10.0.0.2", Names: []string{"box"}}},
			Others: []HostEntry{{IP: "10.0.0.3", Names: []string{"web", "www", "0123456789ab"}}},
		}, defaultHosts + "10.1.1.1\tdb\n10.0.0.2\tbox\n10.0.0.3\tweb www 0123456789ab\n"},
		{"host's file without a last newline", Hosts{Base: []byte("127.0.0.1 localhost\n1.2.3.4 h"), Extra: []HostEntry{{IP: "::1", Names: []string{"x"}}}},
			"127.0.0.1 localhost\n1.2.3.4 h\n::1\tx\n"},
		{"host's file empty", Hosts{Base: []byte{}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.h.Bytes()); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestParseAddHost(t *testing.T) {
	for _, tt := range []struct {
		in, ip, name, err string
	}{
		{"db:10.0.0.5", "10.0.0.5", "db", ""},
		{"db=10.0.0.5", "10.0.0.5", "db", ""},
		{"v6:::1", "::1", "v6", ""},
		{"v6=[2001:db8::1]", "2001:db8::1", "v6", ""},
		{"gw:host-gateway", HostGateway, "gw", ""},
		{"db", "", "", "want NAME:IP"},
		{":10.0.0.5", "", "", "want NAME:IP"},
		{"db:nope", "", "", `invalid IP address "nope"`},
	} {
		e, err := ParseAddHost(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "--add-host") {
				t.Errorf("ParseAddHost(%q): %v, want an error of --add-host with %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || e.IP != tt.ip || len(e.Names) != 1 || e.Names[0] != tt.name {
			t.Errorf("ParseAddHost(%q) = %+v, %v; want %s %s", tt.in, e, err, tt.ip, tt.name)
		}
	}
}

func TestResolvConf(t *testing.T) {
	const host = "# the host's\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver ::1\nnameserver 2001:db8::1\nsearch corp.example\noptions edns0 trust-ad\n"
	for _, tt := range []struct {
		name, host string
		dns        DNS
		hostNet    bool
		want       string
	}{
		{"loopback and IPv6 servers dropped", host, DNS{}, false,
			"# the host's\nnameserver 10.0.0.1\nsearch corp.example\noptions edns0 trust-ad\n"},
		{"none left: Docker's", "nameserver 127.0.0.53\nsearch x\n", DNS{}, false,
			"search x\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"empty host's", "", DNS{}, false, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"host network: as is", host, DNS{}, true, host},
		{"--dns", host, DNS{Servers: []string{"192.0.2.53"}}, false,
			"nameserver 192.0.2.53\nsearch corp.example\noptions edns0 trust-ad\n"},
		{"--dns-search and --dns-option", host, DNS{Search: []string{"a.example", "b.example"}, Options: []string{"ndots:2"}}, false,
			"nameserver 10.0.0.1\nsearch a.example b.example\noptions ndots:2\n"},
		{"--dns-search .", host, DNS{Search: []string{"."}}, false,
			"nameserver 10.0.0.1\noptions edns0 trust-ad\n"},
		{"--dns-option, host network keeps loopback", host, DNS{Options: []string{"ndots:1"}}, true,
			"nameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver ::1\nnameserver 2001:db8::1\nsearch corp.example\noptions ndots:1\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(ResolvConf([]byte(tt.host), tt.dns, tt.hostNet)); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
	if !OnlyResolved([]byte("nameserver 127.0.0.53\noptions edns0\n")) || OnlyResolved([]byte(host)) || OnlyResolved(nil) {
		t.Errorf("OnlyResolved: wrong")
	}
}

func TestDNSCheck(t *testing.T) {
	for _, d := range []DNS{{Servers: []string{"dns.example"}}, {Search: []string{"-bad"}}, {Search: []string{""}}} {
		if err := d.Check(); err == nil {
			t.Errorf("Check(%+v): no error", d)
		}
	}
	if err := (DNS{Servers: []string{"1.1.1.1", "2001:db8::1"}, Search: []string{".", "a.example"}}).Check(); err != nil {
		t.Errorf("Check of good values: %v", err)
	}
}

// TestNamesRewrite: joining and leaving rewrite the members' hosts
// files in place (the same inode), each with its own lines and the others
// on its user-defined networks, none of the default bridge's.
func TestNamesRewrite(t *testing.T) {
	dir := t.TempDir()
	s := Open(filepath.Join(dir, "networks"))
	hosts := map[string]string{}
	for _, id := range []string{"a", "b", "c"} {
		hosts[id] = filepath.Join(dir, id+"-hosts")
		if err := os.WriteFile(hosts[id], []byte(defaultHosts), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.Stat(hosts["a"])
	member := func(id string, names ...string) *Member {
		return &Member{Hosts: hosts[id], Hostname: "h" + id, Names: names, Extra: []HostEntry{{IP: "192.0.2.1", Names: []string{"x"}}}}
	}
	join := func(net, id, ip string, names ...string) {
		t.Helper()
		if err := s.join(net, id, netip.MustParseAddr(ip), member(id, names...)); err != nil {
			t.Fatal(err)
		}
	}
	read := func(id string) string {
		b, err := os.ReadFile(hosts[id])
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(string(b), defaultHosts+"192.0.2.1\tx\n")
	}
	join("web", "a", "10.0.0.2", "srv", "www", "srv")
	join("web", "b", "10.0.0.3", "cli")
	join(DefaultName, "b", "172.17.0.2", "cli")
	join(DefaultName, "c", "172.17.0.3", "other")
	if got, want := read("a"), "10.0.0.2\tha\n10.0.0.3\tcli\n"; got != want {
		t.Errorf("a's hosts:\n%s\nwant:\n%s", got, want)
	}
	if got, want := read("b"), "172.17.0.2\thb\n10.0.0.3\thb\n10.0.0.2\tsrv www\n"; got != want {
		t.Errorf("b's hosts:\n%s\nwant:\n%s", got, want)
	}
	if got, want := read("c"), "172.17.0.3\thc\n"; got != want {
		t.Errorf("c's hosts (default bridge: no names):\n%s\nwant:\n%s", got, want)
	}
	if err := s.leave("web", "a"); err != nil {
		t.Fatal(err)
	}
	if got, want := read("b"), "172.17.0.2\thb\n10.0.0.3\thb\n"; got != want {
		t.Errorf("b's hosts after a left:\n%s\nwant:\n%s", got, want)
	}
	if got := read("a"); got != "" {
		t.Errorf("a's hosts after it left: %q, want its base only", got)
	}
	after, _ := os.Stat(hosts["a"])
	if !os.SameFile(before, after) {
		t.Errorf("a's hosts file was replaced, not rewritten in place")
	}
	if _, err := os.Stat(s.memberPath("a")); !os.IsNotExist(err) {
		t.Errorf("a's record is left after it left its last network: %v", err)
	}
	// A member whose file is gone (its container removed without its
	// DEL) is no error, and its record goes.
	os.Remove(hosts["c"])
	if err := s.leave(DefaultName, "b"); err != nil {
		t.Errorf("leave with a member's file gone: %v", err)
	}
	if _, err := os.Stat(s.memberPath("c")); !os.IsNotExist(err) {
		t.Errorf("c's record is left with its hosts file gone: %v", err)
	}
}

// TestOwnNames: a container's own line names its fully qualified name
// and, when that has a dot, the part before it (Docker's), for a domain
// name of its own (--domainname) or a hostname with dots.
func TestOwnNames(t *testing.T) {
	for _, tt := range []struct {
		hostname, domainname string
		want                 []string
	}{
		{"web", "", []string{"web"}},
		{"web", "example.com", []string{"web.example.com", "web"}},
		{"web.local", "", []string{"web.local", "web"}},
		{"web.local", "example.com", []string{"web.local.example.com", "web"}},
	} {
		if got := ownNames(tt.hostname, tt.domainname); !slices.Equal(got, tt.want) {
			t.Errorf("ownNames(%q, %q) = %q, want %q", tt.hostname, tt.domainname, got, tt.want)
		}
	}
}
