package cgroups

import (
	"math"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidate(t *testing.T) {
	u16 := func(n uint16) *uint16 { return &n }
	u64 := func(n uint64) *uint64 { return &n }
	for _, tc := range []struct {
		name    string
		r       *specs.LinuxResources
		wantErr string
	}{
		{"nil", nil, ""},
		{"good", &specs.LinuxResources{
			CPU:            &specs.LinuxCPU{Cpus: "0-3,8", Mems: "0"},
			Memory:         &specs.LinuxMemory{Swappiness: u64(100)},
			HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB"}, {Pagesize: "1GB"}, {Pagesize: "64KB"}},
			BlockIO: &specs.LinuxBlockIO{Weight: u16(10), LeafWeight: u16(1000),
				WeightDevice: []specs.LinuxWeightDevice{{Weight: u16(0)}}},
		}, ""},
		{"swappiness -1 is unset", &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(math.MaxUint64)}}, ""},
		{"cpus", &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-"}}, `linux.resources.cpu.cpus "0-": want numbers and ranges`},
		{"mems", &specs.LinuxResources{CPU: &specs.LinuxCPU{Mems: "a"}}, `linux.resources.cpu.mems "a": want numbers and ranges`},
		{"swappiness", &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(101)}},
			"linux.resources.memory.swappiness 101: the range is 0-100"},
		{"page size", &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB"}, {Pagesize: "2mb"}}},
			`linux.resources.hugepageLimits[1].pageSize "2mb": want a size such as 2MB or 1GB`},
		{"page size path", &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "../2MB"}}},
			`linux.resources.hugepageLimits[0].pageSize "../2MB"`},
		{"weight", &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(9)}}, "linux.resources.blockIO.weight 9: the range is 10-1000"},
		{"leaf weight", &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: u16(1001)}},
			"linux.resources.blockIO.leafWeight 1001: the range is 10-1000"},
		{"device weight", &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LeafWeight: u16(5)}}}},
			"linux.resources.blockIO.weightDevice[0].leafWeight 5: the range is 10-1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.r)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestIgnored(t *testing.T) {
	n, sw, yes, no := int64(1<<20), uint64(30), true, false
	all := &specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: &n, KernelTCP: &n, Swappiness: &sw, DisableOOMKiller: &yes}}
	fields := func(ws []string) []string {
		var f []string
		for _, w := range ws {
			f = append(f, strings.Fields(w)[0])
		}
		return f
	}
	if got, want := fields(Ignored(V1, all)), []string{"linux.resources.memory.kernel", "linux.resources.memory.kernelTCP"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Ignored(v1) = %q, want %q", got, want)
	}
	if got, want := fields(Ignored(V2, all)), []string{"linux.resources.memory.kernel", "linux.resources.memory.kernelTCP",
		"linux.resources.memory.swappiness", "linux.resources.memory.disableOOMKiller"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Ignored(v2) = %q, want %q", got, want)
	}
	zero, unset := int64(0), uint64(math.MaxUint64)
	none := &specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: &zero, Swappiness: &unset, DisableOOMKiller: &no}}
	if got := Ignored(V2, none); len(got) != 0 {
		t.Errorf("Ignored of unset fields = %q", got)
	}
	if got := Ignored(V2, nil); len(got) != 0 {
		t.Errorf("Ignored(nil) = %q", got)
	}
}

func TestSplitAtReady(t *testing.T) {
	limit, mem := int64(1), int64(64<<20)
	r := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}, Memory: &specs.LinuxMemory{Limit: &mem}}
	atCreate, atReady := SplitAtReady(r)
	if atCreate.Pids != nil || atCreate.Memory != r.Memory {
		t.Errorf("at create: %+v, want the memory limit without the pids limit", atCreate)
	}
	if atReady == nil || atReady.Pids == nil || *atReady.Pids.Limit != 1 || atReady.Memory != nil {
		t.Errorf("at ready: %+v, want the pids limit alone", atReady)
	}
	if r.Pids == nil || *r.Pids.Limit != 1 {
		t.Error("SplitAtReady changed its argument")
	}
	for _, r := range []*specs.LinuxResources{nil, {}, {Pids: &specs.LinuxPids{}}, {Pids: &specs.LinuxPids{Limit: new(int64)}}} {
		if c, rd := SplitAtReady(r); c != r || rd != nil {
			t.Errorf("SplitAtReady(%+v) = %+v, %+v; want it as it is, nothing at ready", r, c, rd)
		}
	}
}
