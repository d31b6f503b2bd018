package v1

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// The blkio controller's files. The weights come with an I/O scheduler
// that has them: blkio.weight with CFQ (gone since kernel 5.0),
// blkio.bfq.weight with BFQ; the leaf weights with CFQ alone. The
// throttle files are the block layer's own.
const (
	blkioWeight           = "blkio.weight"
	blkioWeightDevice     = "blkio.weight_device"
	blkioBFQWeight        = "blkio.bfq.weight"
	blkioBFQWeightDevice  = "blkio.bfq.weight_device"
	blkioLeafWeight       = "blkio.leaf_weight"
	blkioLeafWeightDevice = "blkio.leaf_weight_device"
)

// blkioThrottleFiles are the throttle files, in cgfs.Throttles' order.
var blkioThrottleFiles = [len(cgfs.Throttles)]string{
	"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
}

// planBlkio plans the writes of linux.resources.blockIO as runc makes
// them: Weight to blkio.weight, or blkio.bfq.weight where CFQ's is absent;
// LeafWeight to blkio.leaf_weight; each WeightDevice as "MAJOR:MINOR
// WEIGHT" to the weight_device file beside the weight's and to
// blkio.leaf_weight_device; each throttle as "MAJOR:MINOR RATE" to its
// blkio.throttle file (rate 0 removes the device's limit). A field whose
// file the kernel lacks fails, naming the field, before anything is
// written. Zero weights are "not set", as in runc.
func planBlkio(dir string, r *specs.LinuxResources) ([]cgfs.Write, error) {
	if !cgfs.WantsBlockIO(r) {
		return nil, nil
	}
	b := r.BlockIO
	weight, weightDevice := blkioWeight, blkioWeightDevice
	if !cgfs.Exists(dir, blkioWeight) {
		weight, weightDevice = blkioBFQWeight, blkioBFQWeightDevice
	}
	var writes []cgfs.Write
	var missing error
	add := func(file, value, field, needs string) {
		if missing != nil {
			return
		}
		if !cgfs.Exists(dir, file) {
			missing = fmt.Errorf("linux.resources.blockIO.%s: not supported here: no %s in %s (%s)", field, file, dir, needs)
			return
		}
		writes = append(writes, cgfs.Write{Name: file, Value: value,
			Field: fmt.Sprintf("linux.resources.blockIO.%s %q", field, value)})
	}
	const (
		needsWeight   = "weights need the CFQ or BFQ I/O scheduler"
		needsLeaf     = "leaf weights need the CFQ I/O scheduler, gone since Linux 5.0"
		needsThrottle = "throttling needs a kernel with CONFIG_BLK_DEV_THROTTLING"
	)
	if b.Weight != nil && *b.Weight != 0 {
		add(weight, fmt.Sprint(*b.Weight), "weight", needsWeight)
	}
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		add(blkioLeafWeight, fmt.Sprint(*b.LeafWeight), "leafWeight", needsLeaf)
	}
	for i, d := range b.WeightDevice {
		if d.Weight != nil && *d.Weight != 0 {
			add(weightDevice, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.Weight), fmt.Sprintf("weightDevice[%d].weight", i), needsWeight)
		}
		if d.LeafWeight != nil && *d.LeafWeight != 0 {
			add(blkioLeafWeightDevice, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.LeafWeight), fmt.Sprintf("weightDevice[%d].leafWeight", i), needsLeaf)
		}
	}
	for n, t := range cgfs.Throttles {
		for i, d := range t.Devices(b) {
			add(blkioThrottleFiles[n], fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate), fmt.Sprintf("%s[%d]", t.Field, i), needsThrottle)
		}
	}
	return writes, missing
}
