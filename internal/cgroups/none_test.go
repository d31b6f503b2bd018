package cgroups

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestNoneRefusesLimits(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	for _, tc := range []struct {
		name string
		r    *specs.LinuxResources
		want []string
	}{
		{"nil", nil, nil},
		{"devices only", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}, nil},
		{"unlimited", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1)}, Pids: &specs.LinuxPids{Limit: i64(-1)}}, nil},
		{"memory", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1 << 20)}}, []string{"memory"}},
		{"pids and cpu", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}, CPU: &specs.LinuxCPU{Shares: u64(10)}}, []string{"pids", "cpu"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Limits(tc.r); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Limits = %v, want %v", got, tc.want)
			}
			n := &None{HostMode: V1}
			if err := n.Create(tc.r); (err != nil) != (tc.want != nil) {
				t.Errorf("Create: %v", err)
			}
		})
	}
}

func TestNoneSavedAndRestored(t *testing.T) {
	s := Save(&None{HostMode: V2})
	if !s.None || s.Mode != "v2" {
		t.Fatalf("Save = %+v", s)
	}
	m, err := Restore(s)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := m.(*None); !ok || n.HostMode != V2 || n.Path("memory") != "" || n.Destroy() != nil {
		t.Errorf("Restore = %#v", m)
	}
}
