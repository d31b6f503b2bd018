package spec

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestDefaultDevices: Default and Bundle carry the device rules that deny
// all but the standard nodes; --privileged allows every device.
func TestDefaultDevices(t *testing.T) {
	s, err := Default("rootfs", []string{"true"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Linux.Resources.Devices; !reflect.DeepEqual(got, DefaultDevices()) || len(got) < 2 || got[0].Allow {
		t.Errorf("Default's device rules = %+v", got)
	}
	b, err := Bundle()
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Linux.Resources.Devices; !reflect.DeepEqual(got, DefaultDevices()) {
		t.Errorf("Bundle's device rules = %+v, want the defaults", got)
	}
	s, err = Default("rootfs", []string{"true"}, WithMemory(0), WithPids(0), WithCPUs(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Linux.Resources.Devices) == 0 {
		t.Error("lifting the limits dropped the device rules")
	}
	s, err = Default("rootfs", []string{"true"}, WithPrivileged())
	if err != nil {
		t.Skipf("--privileged: %v", err)
	}
	if want := []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}; !reflect.DeepEqual(s.Linux.Resources.Devices, want) {
		t.Errorf("--privileged device rules = %+v, want %+v", s.Linux.Resources.Devices, want)
	}
}
