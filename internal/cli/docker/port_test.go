package docker

import (
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

func TestPsPorts(t *testing.T) {
	c := &store.Container{}
	c.HostConfig.PortBindings = map[string][]store.PortBinding{
		"80/tcp":   {{HostPort: "8080"}},
		"7001/udp": {{HostPort: "9001"}},
		"7000/udp": {{HostPort: "9000"}},
		"7003/udp": {{HostPort: "9003"}},
		"53/tcp":   {{HostIp: "127.0.0.1", HostPort: "5353"}},
	}
	if got := psPorts(c); got != "" {
		t.Errorf("psPorts of a container not running = %q, want none", got)
	}
	c.State.Running = true
	want := "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/tcp, 0.0.0.0:9000-9001->7000-7001/udp, 0.0.0.0:9003->7003/udp"
	if got := psPorts(c); got != want {
		t.Errorf("psPorts = %q, want %q", got, want)
	}
}
