package docker

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/network"
)

func TestDefaultNetwork(t *testing.T) {
	for _, tt := range []struct{ env, want, err string }{
		{"", "bridge", ""},
		{"none", "none", ""},
		{"host", "host", ""},
		{"bridge", "bridge", ""},
		{"default", "bridge", ""},
		{"mynet", "mynet", ""},
		{"container:web", "", "invalid MINIMAL_DOCKER_DEFAULT_NETWORK=\"container:web\""},
		{"a b", "", "invalid MINIMAL_DOCKER_DEFAULT_NETWORK=\"a b\": want none, host, bridge or the name of a network"},
	} {
		t.Setenv(EnvDefaultNetwork, tt.env)
		got, err := defaultNetwork()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s=%q: %q, %v; want an error with %q", EnvDefaultNetwork, tt.env, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s=%q: %q, %v; want %q", EnvDefaultNetwork, tt.env, got, err, tt.want)
		}
	}
}

func TestExposedPorts(t *testing.T) {
	img := map[string]struct{}{"80/tcp": {}, "53/udp": {}, "132/sctp": {}}
	got, err := exposedPorts(img, []string{"8000-8001", "80"}, []network.PortMapping{{ContainerPort: 443, Protocol: "tcp"}})
	port := func(n int, proto string) network.Port { return network.Port{Number: n, Protocol: proto} }
	want := []network.Port{port(53, "udp"), port(80, "tcp"), port(443, "tcp"), port(8000, "tcp"), port(8001, "tcp")}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("exposedPorts = %v, %v; want %v (the image's sctp left out, duplicates once)", got, err, want)
	}
	if _, err := exposedPorts(nil, []string{"80/sctp"}, nil); err == nil || !strings.Contains(err.Error(), `invalid --expose "80/sctp"`) {
		t.Errorf("exposedPorts(--expose 80/sctp) = %v, want an error naming it", err)
	}
}

// TestWithUserMode: a detached container's user-mode network is two
// hooks of its config, calling this binary back: createRuntime starts the
// tool with the ports (host port to choose kept empty), poststop stops
// it; both name the tool's directory and the tool last.
func TestWithUserMode(t *testing.T) {
	g := &globals{imageRoot: "/data/md"}
	s := &specs.Spec{}
	ports := []network.PortMapping{{HostIP: "127.0.0.1", HostPort: 18080, ContainerPort: 80, Protocol: "tcp"}, {ContainerPort: 53, Protocol: "udp"}}
	if err := withUserMode(g, s, network.Slirp4netns, "/run/user/1000/minimal-docker/net", ports); err != nil {
		t.Fatal(err)
	}
	if s.Hooks == nil || len(s.Hooks.CreateRuntime) != 1 || len(s.Hooks.Poststop) != 1 {
		t.Fatalf("hooks %+v, want one createRuntime and one poststop", s.Hooks)
	}
	tail := func(h specs.Hook) []string {
		if len(h.Args) < 3 || h.Args[0] != h.Path || h.Timeout == nil {
			t.Fatalf("hook %+v: want this binary, with a timeout", h)
		}
		return h.Args[1:]
	}
	want := []string{"--root", "/data/md", "network", "hook", "add", "--dir", "/run/user/1000/minimal-docker/net",
		"--publish", "127.0.0.1:18080:80/tcp", "--publish", ":53/udp", "slirp4netns"}
	if got := tail(s.Hooks.CreateRuntime[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("createRuntime %q, want %q", got, want)
	}
	want = []string{"--root", "/data/md", "network", "hook", "del", "--dir", "/run/user/1000/minimal-docker/net", "slirp4netns"}
	if got := tail(s.Hooks.Poststop[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("poststop %q, want %q", got, want)
	}
	for _, p := range []string{"127.0.0.1:18080:80/tcp", ":53/udp"} {
		if m, err := network.ParsePublish(p); err != nil || len(m) != 1 {
			t.Errorf("the hook's --publish %q does not parse back: %v, %v", p, m, err)
		}
	}
}

// TestNetworkFields: --network's long form, Docker's, fills --network,
// --ip, --mac-address and --network-alias; the same field given both
// ways, a field key we don't know, one not done and a missing name are
// refused with Docker's messages.
func TestNetworkFields(t *testing.T) {
	for _, tc := range []struct {
		network, ip, mac string
		aliases          []string
		want             runFlags
		fail             string
	}{
		{network: "web", want: runFlags{network: "web"}},
		{network: "container:db", want: runFlags{network: "container:db"}},
		{network: "name=web,alias=a,alias=b,ip=10.1.0.5,mac-address=02:42:ac:11:00:02",
			want: runFlags{network: "web", ip: "10.1.0.5", mac: "02:42:ac:11:00:02", names: dnsFlags{aliases: []string{"a", "b"}}}},
		{network: `"name=web",alias=a`, want: runFlags{network: "web", names: dnsFlags{aliases: []string{"a"}}}},
		{network: "name=web", ip: "10.1.0.6", want: runFlags{network: "web", ip: "10.1.0.6"}},
		{network: "name=web,ip=10.1.0.5", ip: "10.1.0.6", fail: "conflicting options: cannot specify both --ip and per-network IPv4 address"},
		{network: "name=web,mac-address=02:42:ac:11:00:02", mac: "02:42:ac:11:00:03", fail: "conflicting options: cannot specify both --mac-address and per-network MAC address"},
		{network: "name=web,alias=a", aliases: []string{"b"}, fail: "conflicting options: cannot specify both --network-alias and per-network alias"},
		{network: "alias=a", fail: "network name/id is not specified"},
		{network: "name=web,color=red", fail: "invalid field key color"},
		{network: "name=web,alias", fail: `invalid field "alias" must be a key=value pair`},
		{network: "name=web,ip6=fd00::5", fail: "field ip6 is not done"},
	} {
		f := runFlags{networks: []string{tc.network}, ip: tc.ip, mac: tc.mac, names: dnsFlags{aliases: tc.aliases}}
		err := f.networkFields()
		if tc.fail != "" {
			if err == nil || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("--network %s: %v, want an error with %q", tc.network, err, tc.fail)
			}
			continue
		}
		if err != nil || f.network != tc.want.network || f.ip != tc.want.ip || f.mac != tc.want.mac || !slices.Equal(f.names.aliases, tc.want.names.aliases) {
			t.Errorf("--network %s: network %q ip %q mac %q aliases %q, %v; want %+v", tc.network, f.network, f.ip, f.mac, f.names.aliases, err, tc.want)
		}
	}
}

// TestNetworkFieldsMany: more than one --network, Docker's CLI rules:
// networks of network create only, each once, the legacy flags for the
// first.
func TestNetworkFieldsMany(t *testing.T) {
	for _, tc := range []struct {
		networks []string
		aliases  []string
		extra    []netValue
		fail     string
	}{
		{networks: []string{"web", "name=db,alias=store,ip=10.2.0.5"}, aliases: []string{"w"},
			extra: []netValue{{name: "db", ip: "10.2.0.5", aliases: []string{"store"}}}},
		{networks: []string{"web", "db", "cache"}, extra: []netValue{{name: "db"}, {name: "cache"}}},
		{networks: []string{"web", "name=web,alias=x"}, fail: `network "web" is specified multiple times`},
		{networks: []string{"bridge", "db"}, fail: "cannot attach both user-defined and non-user-defined network-modes"},
		{networks: []string{"db", "host"}, fail: "cannot attach both user-defined and non-user-defined network-modes"},
		{networks: []string{"db", "container:web"}, fail: "cannot attach both user-defined and non-user-defined network-modes"},
		{networks: []string{"web", "name=db,mac-address=02:42:ac:11:00:02"}, extra: []netValue{{name: "db", mac: "02:42:ac:11:00:02"}}},
	} {
		f := runFlags{networks: tc.networks, names: dnsFlags{aliases: tc.aliases}}
		err := f.networkFields()
		if tc.fail != "" {
			if err == nil || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("--network %q: %v, want an error with %q", tc.networks, err, tc.fail)
			}
			continue
		}
		if err != nil || f.network != tc.networks[0] || !reflect.DeepEqual(f.extraNets, tc.extra) || !slices.Equal(f.names.aliases, tc.aliases) {
			t.Errorf("--network %q: network %q extra %+v aliases %q, %v; want extra %+v", tc.networks, f.network, f.extraNets, f.names.aliases, err, tc.extra)
		}
	}
}
