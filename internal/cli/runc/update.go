package runc

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/container"
)

// updateFlags are runc update's flags. Those of limits minimal-runc cannot
// change are accepted so that they are refused with a clear error (by
// spec.CheckUpdate), not as unknown flags.
type updateFlags struct {
	resources string
	// Sizes, as runc takes them: a number with an optional unit ("512m"),
	// or -1 for unlimited.
	memory, memorySwap, memoryReservation, kernelMemory, kernelMemoryTCP string
	pidsLimit, cpuQuota, cpuRtRuntime                                    int64
	cpuPeriod, cpuShare, cpuRtPeriod                                     uint64
	blkioWeight                                                          uint16
	cpusetCpus, cpusetMems, l3CacheSchema, memBwSchema                   string
}

func (f *updateFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVarP(&f.resources, "resources", "r", "", "path to a JSON file of linux.resources to update, or - for stdin")
	fl.StringVar(&f.memory, "memory", "", "memory limit (in bytes, or with a unit: 512m); -1 for unlimited")
	fl.StringVar(&f.memorySwap, "memory-swap", "", "total memory usage (memory + swap); -1 for unlimited swap")
	fl.Int64Var(&f.pidsLimit, "pids-limit", 0, "maximum number of pids in the container; -1 for unlimited")
	fl.Int64Var(&f.cpuQuota, "cpu-quota", 0, "CPU CFS hardcap limit (in usecs) per period; -1 for none")
	fl.Uint64Var(&f.cpuPeriod, "cpu-period", 0, "CPU CFS period (in usecs) for --cpu-quota")
	unsupported := " (not supported by minimal-runc)"
	fl.StringVar(&f.cpusetCpus, "cpuset-cpus", "", "CPUs to use (0-3, 0,1)")
	fl.StringVar(&f.cpusetMems, "cpuset-mems", "", "memory nodes to use (0-3, 0,1)")
	fl.StringVar(&f.memoryReservation, "memory-reservation", "", "memory soft limit"+unsupported)
	fl.StringVar(&f.kernelMemory, "kernel-memory", "", "obsolete: ignored with a warning, as by runc")
	fl.StringVar(&f.kernelMemoryTCP, "kernel-memory-tcp", "", "obsolete: ignored with a warning, as by runc")
	fl.Uint64Var(&f.cpuShare, "cpu-share", 0, "CPU shares"+unsupported)
	fl.Uint64Var(&f.cpuRtPeriod, "cpu-rt-period", 0, "CPU realtime period"+unsupported)
	fl.Int64Var(&f.cpuRtRuntime, "cpu-rt-runtime", 0, "CPU realtime runtime"+unsupported)
	fl.Uint16Var(&f.blkioWeight, "blkio-weight", 0, "block IO weight"+unsupported)
	fl.StringVar(&f.l3CacheSchema, "l3-cache-schema", "", "Intel RDT L3 cache schema"+unsupported)
	fl.StringVar(&f.memBwSchema, "mem-bw-schema", "", "Intel RDT memory bandwidth schema"+unsupported)
}

// limitFlags are the flags that set limits, which --resources replaces.
var limitFlags = []string{
	"memory", "memory-swap", "pids-limit", "cpu-quota", "cpu-period", "memory-reservation",
	"kernel-memory", "kernel-memory-tcp", "cpu-share", "cpu-rt-period", "cpu-rt-runtime",
	"cpuset-cpus", "cpuset-mems", "blkio-weight", "l3-cache-schema", "mem-bw-schema",
}

// resourcesFrom builds the update: from --resources (a file, or - for in),
// else from the flags that were given. Nothing given is an empty update.
func (f *updateFlags) resourcesFrom(c *cobra.Command, in io.Reader) (*specs.LinuxResources, error) {
	fl := c.Flags()
	var given []string
	for _, name := range limitFlags {
		if fl.Changed(name) {
			given = append(given, "--"+name)
		}
	}
	if f.resources != "" {
		if len(given) > 0 {
			return nil, fmt.Errorf("--resources and %s cannot be combined: put every limit in the JSON", strings.Join(given, ", "))
		}
		return readResources(f.resources, in)
	}
	for _, name := range []string{"l3-cache-schema", "mem-bw-schema"} {
		if fl.Changed(name) {
			return nil, fmt.Errorf("--%s: Intel RDT is not supported by minimal-runc", name)
		}
	}
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{}, CPU: &specs.LinuxCPU{}}
	for _, s := range []struct {
		name  string
		value string
		dest  **int64
	}{
		{"memory", f.memory, &r.Memory.Limit},
		{"memory-swap", f.memorySwap, &r.Memory.Swap},
		{"memory-reservation", f.memoryReservation, &r.Memory.Reservation},
		{"kernel-memory", f.kernelMemory, &r.Memory.Kernel},
		{"kernel-memory-tcp", f.kernelMemoryTCP, &r.Memory.KernelTCP},
	} {
		if !fl.Changed(s.name) {
			continue
		}
		n, err := parseSize(s.value)
		if err != nil {
			return nil, fmt.Errorf("invalid --%s: %w", s.name, err)
		}
		*s.dest = &n
	}
	if fl.Changed("pids-limit") {
		r.Pids = &specs.LinuxPids{Limit: &f.pidsLimit}
	}
	set64 := func(name string, v int64, dest **int64) {
		if fl.Changed(name) {
			*dest = &v
		}
	}
	setU64 := func(name string, v uint64, dest **uint64) {
		if fl.Changed(name) {
			*dest = &v
		}
	}
	set64("cpu-quota", f.cpuQuota, &r.CPU.Quota)
	set64("cpu-rt-runtime", f.cpuRtRuntime, &r.CPU.RealtimeRuntime)
	setU64("cpu-period", f.cpuPeriod, &r.CPU.Period)
	setU64("cpu-share", f.cpuShare, &r.CPU.Shares)
	setU64("cpu-rt-period", f.cpuRtPeriod, &r.CPU.RealtimePeriod)
	r.CPU.Cpus, r.CPU.Mems = f.cpusetCpus, f.cpusetMems
	if fl.Changed("blkio-weight") {
		r.BlockIO = &specs.LinuxBlockIO{Weight: &f.blkioWeight}
	}
	return r, nil
}

// readResources reads a linux.resources JSON object from path, or from in
// when path is "-".
func readResources(path string, in io.Reader) (*specs.LinuxResources, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(in)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("--resources: %w", err)
	}
	r := &specs.LinuxResources{}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("--resources %s: not a linux.resources JSON object: %w", path, err)
	}
	return r, nil
}

// sizePattern is a size as runc reads it (go-units RAMInBytes): a number,
// optionally decimal, with an optional binary unit: k, kb, kib, m, ... p.
// Compiled on first use: every command would pay for it at start-up.
var sizePattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*([kmgtp])?(?:i?b)?$`)
})

// parseSize parses a memory size in bytes; "-1" is unlimited.
func parseSize(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "-1" {
		return -1, nil
	}
	m := sizePattern().FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q: want a size in bytes, optionally with a unit (k, m, g, t, p: 512m), or -1 for unlimited", s)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	if m[2] != "" {
		n *= math.Pow(1024, float64(strings.Index("kmgtp", m[2])+1))
	}
	if n >= math.MaxInt64 {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return int64(n), nil
}

func newUpdateCmd(g *globals, st Streams) *cobra.Command {
	f := &updateFlags{}
	c := &cobra.Command{
		Use: "update [--resources FILE|-] [--memory N] [--memory-swap N] [--pids-limit N] " +
			"[--cpu-quota N] [--cpu-period N] [--cpuset-cpus LIST] [--cpuset-mems LIST] ID",
		Short: "Change the resource limits of a created, running or paused container",
		Long: "Change the resource limits of a container in its cgroup, as runc update does:\n" +
			"a limit not given, or given as 0, stays as it is; -1 removes it. minimal-runc\n" +
			"can change memory (limit, swap), pids, cpu (quota, period) and cpuset (cpus,\n" +
			"mems); other limits are refused, unless they only repeat the container's own\n" +
			"(containerd sends the whole linux.resources of the spec). The kernel memory\n" +
			"limits are ignored with a warning, as by runc.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := f.resourcesFrom(c, st.In)
			if err != nil {
				return err
			}
			store, err := g.store()
			if err != nil {
				return err
			}
			return container.Update(store, args[0], r, st.Err)
		},
	}
	f.register(c)
	return c
}
