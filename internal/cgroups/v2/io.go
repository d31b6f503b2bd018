package v2

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// The io controller's files: io.max holds the throttles, "MAJOR:MINOR
// rbps=N wbps=N riops=N wiops=N"; io.weight the weight (1-10000, default
// 100), and io.bfq.weight the BFQ scheduler's (1-1000, the blkio scale;
// per device "MAJOR:MINOR WEIGHT" since kernel 5.4).
const (
	ioMax       = "io.max"
	ioWeight    = "io.weight"
	ioBFQWeight = "io.bfq.weight"
)

// ioThrottleKeys are the io.max keys, in cgfs.Throttles' order.
var ioThrottleKeys = [len(cgfs.Throttles)]string{"rbps", "wbps", "riops", "wiops"}

// weightToIO maps a blkio weight (10-1000) onto io.weight (1-10000) as runc
// and crun do.
func weightToIO(w uint16) uint64 {
	if w < 10 {
		w = 10
	}
	return 1 + (uint64(w)-10)*9999/990
}

// planIO plans the writes of linux.resources.blockIO as runc converts them
// for v2: Weight to io.bfq.weight as it is where the BFQ scheduler is in
// use, else to io.weight on its scale; each WeightDevice's weight to
// io.bfq.weight as "MAJOR:MINOR WEIGHT"; each throttle to io.max as
// "MAJOR:MINOR KEY=RATE" (rate 0 removes the limit: "max"). v2 has no leaf
// weights, and per-device weights only with BFQ: those fail, naming the
// field, before anything is written (runc drops them silently).
func planIO(dir string, r *specs.LinuxResources) ([]cgfs.Write, error) {
	if !cgfs.WantsBlockIO(r) {
		return nil, nil
	}
	b := r.BlockIO
	bfq := cgfs.Exists(dir, ioBFQWeight)
	field := func(name, value string) string {
		return fmt.Sprintf("linux.resources.blockIO.%s %q", name, value)
	}
	var writes []cgfs.Write
	if b.Weight != nil && *b.Weight != 0 {
		switch {
		case bfq:
			v := fmt.Sprint(*b.Weight)
			writes = append(writes, cgfs.Write{Name: ioBFQWeight, Value: v, Field: field("weight", v)})
		case cgfs.Exists(dir, ioWeight):
			v := fmt.Sprint(weightToIO(*b.Weight))
			writes = append(writes, cgfs.Write{Name: ioWeight, Value: v, Field: field("weight", fmt.Sprint(*b.Weight))})
		default:
			return nil, fmt.Errorf("linux.resources.blockIO.weight: not supported here: neither %s nor %s in %s",
				ioBFQWeight, ioWeight, dir)
		}
	}
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		return nil, fmt.Errorf("linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weights")
	}
	for i, d := range b.WeightDevice {
		name := fmt.Sprintf("weightDevice[%d]", i)
		if d.LeafWeight != nil && *d.LeafWeight != 0 {
			return nil, fmt.Errorf("linux.resources.blockIO.%s.leafWeight: cgroup v2 has no leaf weights", name)
		}
		if d.Weight == nil || *d.Weight == 0 {
			continue
		}
		if !bfq {
			return nil, fmt.Errorf("linux.resources.blockIO.%s.weight: not supported here: no %s in %s (per-device weights need the BFQ I/O scheduler)",
				name, ioBFQWeight, dir)
		}
		v := fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.Weight)
		writes = append(writes, cgfs.Write{Name: ioBFQWeight, Value: v, Field: field(name+".weight", v)})
	}
	for n, t := range cgfs.Throttles {
		for i, d := range t.Devices(b) {
			rate := "max"
			if d.Rate != 0 {
				rate = fmt.Sprint(d.Rate)
			}
			v := fmt.Sprintf("%d:%d %s=%s", d.Major, d.Minor, ioThrottleKeys[n], rate)
			writes = append(writes, cgfs.Write{Name: ioMax, Value: v, Field: field(fmt.Sprintf("%s[%d]", t.Field, i), v)})
		}
	}
	return writes, nil
}
