package docker

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestKeepIDMap(t *testing.T) {
	got, err := keepIDMap(1001, 65537)
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 1001}, {ContainerID: 1001, HostID: 0, Size: 1}, {ContainerID: 1002, HostID: 1002, Size: 64535}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("keepIDMap = %v, %v; want %v", got, err, want)
	}
	for _, c := range []struct{ own, n uint32 }{{0, 65537}, {70000, 65537}, {1001, 1}} {
		if _, err := keepIDMap(c.own, c.n); err == nil {
			t.Errorf("keepIDMap(%d, %d): no error", c.own, c.n)
		}
	}
	if n := mappedCount([]byte("         0       1001          1\n         1     200000      65536\n")); n != 65537 {
		t.Errorf("mappedCount = %d", n)
	}
}
