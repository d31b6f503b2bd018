package v2

import (
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func u16(n uint16) *uint16 { return &n }

func device(major, minor int64) specs.LinuxBlockIODevice {
	return specs.LinuxBlockIODevice{Major: major, Minor: minor}
}

func TestPlanIO(t *testing.T) {
	throttles := &specs.LinuxBlockIO{
		ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: device(8, 0), Rate: 1048576}},
		ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: device(8, 0), Rate: 0}},
		ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: device(8, 16), Rate: 100}},
		ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: device(8, 16), Rate: 200}},
	}
	for _, tc := range []struct {
		name    string
		omit    []string
		bfq     bool
		b       *specs.LinuxBlockIO
		want    []string // NAME=VALUE, in order
		wantErr string
	}{
		{"throttles", nil, false, throttles, []string{
			"io.max=8:0 rbps=1048576", "io.max=8:0 wbps=max", "io.max=8:16 riops=100", "io.max=8:16 wiops=200"}, ""},
		{"weight on io.weight's scale", nil, false, &specs.LinuxBlockIO{Weight: u16(500)}, []string{"io.weight=4950"}, ""},
		{"weight bounds", nil, false, &specs.LinuxBlockIO{Weight: u16(1000)}, []string{"io.weight=10000"}, ""},
		{"BFQ weight as it is", nil, true, &specs.LinuxBlockIO{Weight: u16(500), WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: device(8, 0), Weight: u16(300)}}}, []string{"io.bfq.weight=500", "io.bfq.weight=8:0 300"}, ""},
		{"no weight files", []string{ioWeight}, false, &specs.LinuxBlockIO{Weight: u16(500)}, nil,
			"linux.resources.blockIO.weight: not supported here: neither io.bfq.weight nor io.weight in"},
		{"leaf weight", nil, true, &specs.LinuxBlockIO{LeafWeight: u16(500)}, nil,
			"linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weights"},
		{"device weight without BFQ", nil, false, &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: device(8, 0), Weight: u16(300)}}}, nil,
			"linux.resources.blockIO.weightDevice[0].weight: not supported here: no io.bfq.weight in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := cgfstest.ControlDir(t, controlFiles, tc.omit...)
			if tc.bfq {
				cgfstest.WriteFile(t, dir, ioBFQWeight, "default 100")
			}
			writes, err := planIO(dir, &specs.LinuxResources{BlockIO: tc.b})
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("planIO = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range writes {
				got = append(got, w.Name+"="+w.Value)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("writes %q, want %q", got, tc.want)
			}
		})
	}
}

// TestIOAndHugetlbCreate: the io and hugetlb limits are written at create
// in the controllers' files.
func TestIOAndHugetlbCreate(t *testing.T) {
	mount := newMount(t, allControllers)
	m := newTestManager(t, &fake{}, mount+"/ctr")
	r := &specs.LinuxResources{
		BlockIO:        &specs.LinuxBlockIO{ThrottleReadIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: device(254, 0), Rate: 50}}},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "1GB", Limit: 1 << 30}},
	}
	if err := m.Create(r); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	for name, want := range map[string]string{
		ioMax: "254:0 riops=50", "hugetlb.1GB.max": "1073741824", "hugetlb.1GB.rsvd.max": "1073741824", "hugetlb.2MB.max": "max",
	} {
		if got := cgfstest.ReadFile(t, m.Path(""), name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}
