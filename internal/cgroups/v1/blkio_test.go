package v1

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
)

func u16(n uint16) *uint16 { return &n }

func throttle(major, minor int64, rate uint64) []specs.LinuxThrottleDevice {
	return []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: major, Minor: minor}, Rate: rate}}
}

func TestPlanBlkio(t *testing.T) {
	cfq := map[string]string{blkioWeight: "", blkioWeightDevice: "", blkioLeafWeight: "", blkioLeafWeightDevice: ""}
	bfq := map[string]string{blkioBFQWeight: "", blkioBFQWeightDevice: ""}
	weightDevice := []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: u16(300), LeafWeight: u16(200)}}
	for _, tc := range []struct {
		name    string
		extra   map[string]string // files besides the throttles
		b       *specs.LinuxBlockIO
		want    map[string]string
		wantErr string
	}{
		{"throttles", nil, &specs.LinuxBlockIO{
			ThrottleReadBpsDevice: throttle(8, 0, 1048576), ThrottleWriteBpsDevice: throttle(8, 16, 2097152),
			ThrottleReadIOPSDevice: throttle(254, 0, 100), ThrottleWriteIOPSDevice: throttle(254, 0, 0),
		}, map[string]string{
			"blkio.throttle.read_bps_device": "8:0 1048576", "blkio.throttle.write_bps_device": "8:16 2097152",
			"blkio.throttle.read_iops_device": "254:0 100", "blkio.throttle.write_iops_device": "254:0 0",
		}, ""},
		{"CFQ weights", cfq, &specs.LinuxBlockIO{Weight: u16(500), LeafWeight: u16(400), WeightDevice: weightDevice},
			map[string]string{blkioWeight: "500", blkioLeafWeight: "400", blkioWeightDevice: "8:0 300", blkioLeafWeightDevice: "8:0 200"}, ""},
		{"BFQ weight", bfq, &specs.LinuxBlockIO{Weight: u16(500), WeightDevice: weightDevice[:0]},
			map[string]string{blkioBFQWeight: "500"}, ""},
		{"zero weight is unset", nil, &specs.LinuxBlockIO{Weight: u16(0), ThrottleReadBpsDevice: throttle(8, 0, 1)},
			map[string]string{"blkio.throttle.read_bps_device": "8:0 1"}, ""},
		{"no scheduler with weights", nil, &specs.LinuxBlockIO{ThrottleReadBpsDevice: throttle(8, 0, 1), Weight: u16(500)}, nil,
			"linux.resources.blockIO.weight: not supported here: no blkio.bfq.weight in DIR (weights need the CFQ or BFQ I/O scheduler)"},
		{"BFQ has no leaf weight", bfq, &specs.LinuxBlockIO{LeafWeight: u16(500)}, nil,
			"linux.resources.blockIO.leafWeight: not supported here: no blkio.leaf_weight in DIR (leaf weights need the CFQ I/O scheduler, gone since Linux 5.0)"},
		{"BFQ has no device leaf weight", bfq, &specs.LinuxBlockIO{WeightDevice: weightDevice}, nil,
			"linux.resources.blockIO.weightDevice[0].leafWeight: not supported here: no blkio.leaf_weight_device in DIR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range controlFiles {
				files[k] = v
			}
			for k, v := range tc.extra {
				files[k] = v
			}
			dir := cgfstest.ControlDir(t, files)
			r := &specs.LinuxResources{BlockIO: tc.b}
			if !cgfs.WantsBlockIO(r) {
				t.Fatal("wantsBlkio = false")
			}
			err := cgfstest.Set(planBlkio, dir, r)
			if tc.wantErr != "" {
				want := strings.ReplaceAll(tc.wantErr, "DIR", dir)
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("planBlkio = %v, want %q", err, want)
				}
				if got := cgfstest.ReadFile(t, dir, "blkio.throttle.read_bps_device"); got != "" {
					t.Errorf("a refused blockIO wrote the throttle %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.want {
				if got := cgfstest.ReadFile(t, dir, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestWantsBlkio(t *testing.T) {
	for _, tc := range []struct {
		b    *specs.LinuxBlockIO
		want bool
	}{
		{nil, false},
		{&specs.LinuxBlockIO{}, false},
		{&specs.LinuxBlockIO{Weight: u16(0)}, false},
		{&specs.LinuxBlockIO{Weight: u16(10)}, true},
		{&specs.LinuxBlockIO{ThrottleWriteIOPSDevice: throttle(1, 1, 0)}, true},
	} {
		if got := cgfs.WantsBlockIO(&specs.LinuxResources{BlockIO: tc.b}); got != tc.want {
			t.Errorf("cgfs.WantsBlockIO(%+v) = %v, want %v", tc.b, got, tc.want)
		}
	}
}
