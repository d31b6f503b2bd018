package docker

import (
	"reflect"
	"strings"
	"testing"

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
