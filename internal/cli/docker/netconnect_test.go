package docker

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/network"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

func TestEndpointsOf(t *testing.T) {
	for _, tt := range []struct {
		c    store.Container
		want []string
	}{
		{store.Container{HostConfig: store.HostConfig{NetworkMode: "none"}}, nil},
		{store.Container{HostConfig: store.HostConfig{NetworkMode: "host"}}, nil},
		{store.Container{HostConfig: store.HostConfig{NetworkMode: "web"}}, []string{"web"}}, // a record without Endpoints
		{store.Container{HostConfig: store.HostConfig{NetworkMode: "web"}, Endpoints: []store.Endpoint{{Network: "web"}, {Network: "db"}}}, []string{"web", "db"}},
		{store.Container{HostConfig: store.HostConfig{NetworkMode: "web"}, Endpoints: []store.Endpoint{}}, nil}, // all disconnected
	} {
		var got []string
		for _, e := range endpointsOf(&tt.c) {
			got = append(got, e.Network)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("endpointsOf(%s, %v) = %v, want %v", tt.c.HostConfig.NetworkMode, tt.c.Endpoints, got, tt.want)
		}
	}
}

func TestMemberArgs(t *testing.T) {
	extra := []network.HostEntry{{IP: "10.0.0.1", Names: []string{"gw"}}}
	got := memberArgs("/r/hosts", "box", "example.com", []string{"www"}, extra)
	want := []string{"--hosts", "/r/hosts", "--hostname", "box", "--domainname", "example.com", "--alias", "www", "--alias", "box", "--add-host", "gw=10.0.0.1"}
	if !slices.Equal(got, want) {
		t.Errorf("memberArgs = %q, want %q", got, want)
	}
	// The default hostname is every container's: no name of its own.
	if got := memberArgs("/r/hosts", "minimal-docker", "", nil, nil); slices.Contains(got, "--alias") || slices.Contains(got, "--domainname") {
		t.Errorf("memberArgs with the default hostname: %q", got)
	}
	var h hookMember
	h.ifName = "eth1"
	if err := h.parse(want); err != nil || h.hosts != "/r/hosts" || h.hostname != "box" || h.domain != "example.com" || !slices.Equal(h.aliases, []string{"www", "box"}) ||
		!slices.Equal(h.addHosts, []string{"gw=10.0.0.1"}) || h.ifName != "eth1" {
		t.Errorf("parse(memberArgs): %+v, %v", h, err)
	}
}

func TestDropNetworkHooks(t *testing.T) {
	hook := func(args ...string) specs.Hook {
		return specs.Hook{Path: "/bin/md", Args: append([]string{"/bin/md", "--root", "/r", "network", "hook"}, args...)}
	}
	other := specs.Hook{Path: "/bin/other", Args: []string{"/bin/other", "web"}}
	s := &specs.Spec{Hooks: &specs.Hooks{
		CreateRuntime: []specs.Hook{hook("add", "web"), other, hook("add", "--ifname", "eth1", "db")},
		Poststop:      []specs.Hook{hook("del", "web"), hook("del", "db")},
	}}
	dropNetworkHooks(s, "web")
	if len(s.Hooks.CreateRuntime) != 2 || s.Hooks.CreateRuntime[0].Path != "/bin/other" || len(s.Hooks.Poststop) != 1 || !isNetworkHook(s.Hooks.Poststop[0], "db") {
		t.Errorf("after dropping web's hooks: %+v", s.Hooks)
	}
}
