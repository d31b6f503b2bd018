package docker

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestKeepIDMap(t *testing.T) {
	// Enter's layout: subordinate ids 0-65535, the user 65536.
	got, err := keepIDMap(1001, 65536, 65537)
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1001}, {ContainerID: 1001, HostID: 65536, Size: 1}, {ContainerID: 1002, HostID: 1002, Size: 64534}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("keepIDMap = %v, %v; want %v", got, err, want)
	}
	// Podman's layout: the user 0, subordinate ids 1-65536.
	got, err = keepIDMap(1001, 0, 65537)
	want = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 1001}, {ContainerID: 1001, HostID: 0, Size: 1}, {ContainerID: 1002, HostID: 1003, Size: 64534}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("keepIDMap (user 0) = %v, %v; want %v", got, err, want)
	}
	// The user in the middle: the maps go around it.
	got, err = keepIDMap(5, 3, 10)
	want = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 3}, {ContainerID: 3, HostID: 4, Size: 2}, {ContainerID: 5, HostID: 3, Size: 1}, {ContainerID: 6, HostID: 7, Size: 3}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("keepIDMap (user 3) = %v, %v; want %v", got, err, want)
	}
	for _, c := range []struct{ own, n uint32 }{{1001, 1}, {1001, 1002}, {0, 1}, {5, 0}} {
		if _, err := keepIDMap(c.own, c.n-min(c.n, 1), c.n); err == nil {
			t.Errorf("keepIDMap(%d, n=%d): no error", c.own, c.n)
		}
	}
}
