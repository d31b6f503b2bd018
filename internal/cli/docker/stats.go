package docker

// stats: a live sample of each running detached container's use of the
// host, read from its cgroup (v1, hybrid or v2) as the runtime recorded
// it, in Docker's columns and units. CPU % is the container's CPU time
// over the host's between two samples a second apart, times the online
// CPUs (Docker's calculation, and its first --no-stream line).

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// statsFlags are `stats`'s flags (Docker's).
type statsFlags struct {
	all, noStream, noTrunc bool
	format                 string
}

// statsInterval is the time between the two samples of a CPU %.
const statsInterval = time.Second

// defaultStatsFormat is Docker's stats table.
const defaultStatsFormat = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

func newStatsCmd(g *globals, st Streams) *cobra.Command {
	var f statsFlags
	c := &cobra.Command{
		Use:   "stats [OPTIONS] [CONTAINER...]",
		Short: "Display a live stream of container(s) resource usage statistics",
		Long: "Show each container's CPU %, memory use and limit (the host's memory when\n" +
			"it has none), network and block I/O and number of processes, read from its\n" +
			"cgroup (v1 or v2) and, for the network, its network namespace's\n" +
			"/proc/PID/net/dev. Without CONTAINER, the running containers (-a: all).\n" +
			"The table is redrawn every second until interrupted; --no-stream prints\n" +
			"the first sample and exits. On cgroup v1 without a cpuacct cgroup of the\n" +
			"container, CPU time is summed over its live processes' /proc/PID/stat.",
		RunE: func(_ *cobra.Command, args []string) error {
			return dockerError(stats(g, st, f, args))
		},
	}
	fl := c.Flags()
	fl.BoolVarP(&f.all, "all", "a", false, "show all containers (default shows just running)")
	fl.BoolVar(&f.noStream, "no-stream", false, "disable streaming stats and only pull the first result")
	fl.BoolVar(&f.noTrunc, "no-trunc", false, "do not truncate output")
	fl.StringVar(&f.format, "format", "", "format output using a Go template ({{.Container}}, {{.ID}}, {{.Name}}, {{.CPUPerc}}, {{.MemUsage}}, {{.MemPerc}}, {{.NetIO}}, {{.BlockIO}}, {{.PIDs}}), \"table TEMPLATE\", or \"json\"")
	return c
}

func stats(g *globals, st Streams, f statsFlags, refs []string) error {
	s, err := g.containers()
	if err != nil {
		return err
	}
	rt, err := container.OpenStore(filepath.Join(g.imageRoot, runtimeDir))
	if err != nil {
		return err
	}
	format := f.format
	if format == "" {
		format = defaultStatsFormat
	}
	list := func() ([]*store.Container, error) {
		if len(refs) == 0 {
			all, err := s.List()
			if err != nil {
				return nil, err
			}
			var out []*store.Container
			for _, c := range all {
				if f.all || c.State.Running {
					out = append(out, c)
				}
			}
			return out, nil
		}
		out := make([]*store.Container, 0, len(refs))
		for _, ref := range refs {
			c, err := s.Get(ref)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	}
	ctrs, err := list()
	if err != nil {
		return err
	}
	hostMem := hostMemory()
	prev := sampleAll(rt, ctrs, hostMem)
	for {
		time.Sleep(statsInterval)
		cur := sampleAll(rt, ctrs, hostMem)
		rows := make([]statsRow, len(ctrs))
		for i, c := range ctrs {
			rows[i] = newStatsRow(c, refOf(refs, i, c), prev[i], cur[i], f.noTrunc)
		}
		if !f.noStream {
			fmt.Fprint(st.Out, "\033[2J\033[H") // clear the screen, as Docker's redraw
		}
		if err := writeList(st.Out, format, f.format, statsHeaders, rows); err != nil {
			return err
		}
		if f.noStream {
			return nil
		}
		if len(refs) == 0 { // new containers come, ended ones go
			if ctrs, err = list(); err != nil {
				return err
			}
			cur = sampleAll(rt, ctrs, hostMem)
		}
		prev = cur
	}
}

// refOf is the container as the user named it ({{.Container}}), its
// short id when listed.
func refOf(refs []string, i int, c *store.Container) string {
	if i < len(refs) {
		return refs[i]
	}
	return shortID(c.ID)
}

// statsRow is a line of stats, the Docker CLI's fields.
type statsRow struct {
	Container, ID, Name string
	CPUPerc, MemUsage   string
	MemPerc             string
	NetIO, BlockIO      string
	PIDs                string
}

var statsHeaders = statsRow{
	Container: "CONTAINER", ID: "CONTAINER ID", Name: "NAME", CPUPerc: "CPU %",
	MemUsage: "MEM USAGE / LIMIT", MemPerc: "MEM %", NetIO: "NET I/O",
	BlockIO: "BLOCK I/O", PIDs: "PIDS",
}

// sample is what stats reads of a container at one time.
type sample struct {
	ok          bool   // a running container, read
	cpu, system uint64 // ns of CPU time: the container's, the host's
	cpus        int    // online CPUs
	memUsage    uint64 // bytes, without the inactive page cache (Docker's)
	memLimit    uint64 // bytes; the host's memory when lower or none
	pids        uint64
	blkRead     uint64
	blkWrite    uint64
	netRx       uint64
	netTx       uint64
}

func sampleAll(rt *container.Store, ctrs []*store.Container, hostMem uint64) []sample {
	out := make([]sample, len(ctrs))
	for i, c := range ctrs {
		if !c.State.Running {
			continue
		}
		mgr, err := container.Cgroup(rt, c.ID)
		if err != nil || mgr == nil {
			continue // ended meanwhile: shown as Docker shows a stopped one
		}
		out[i] = readSample(cgroupDirsOf(mgr), c.State.Pid, hostMem)
	}
	return out
}

// cgroupDirs are the container's cgroup directories stats reads (on v2
// all the same one); "" where it has none of its own.
type cgroupDirs struct {
	v2                       bool
	memory, cpu, pids, blkio string
}

func cgroupDirsOf(m cgroups.Manager) cgroupDirs {
	return cgroupDirs{v2: m.Mode() == cgroups.V2, memory: m.Path("memory"), cpu: m.Path("cpu"),
		pids: m.Path("pids"), blkio: m.Path("blkio")}
}

// readSample reads the container's use from its cgroup dirs, its
// processes' /proc files and its network namespace (through pid, its
// init). A value that cannot be read stays 0.
func readSample(d cgroupDirs, pid int, hostMem uint64) sample {
	s := sample{ok: true}
	s.system, s.cpus = hostCPU()
	if d.v2 {
		if usec, err := readKey(d.cpu, "cpu.stat", "usage_usec"); err == nil {
			s.cpu = usec * 1000
		}
		s.memUsage = readUint(d.memory, "memory.current")
		if inactive, err := readKey(d.memory, "memory.stat", "inactive_file"); err == nil && inactive < s.memUsage {
			s.memUsage -= inactive
		}
		s.memLimit = readUint(d.memory, "memory.max") // "max": 0
		s.blkRead, s.blkWrite = readIOStat(d.blkio)
	} else {
		if n, err := readUintErr(d.cpu, "cpuacct.usage"); err == nil {
			s.cpu = n
		} else {
			s.cpu = procsCPU(cgroupProcs(d))
		}
		s.memUsage = readUint(d.memory, "memory.usage_in_bytes")
		if inactive, err := readKey(d.memory, "memory.stat", "total_inactive_file"); err == nil && inactive < s.memUsage {
			s.memUsage -= inactive
		}
		s.memLimit = readUint(d.memory, "memory.limit_in_bytes")
		s.blkRead, s.blkWrite = readBlkio(d.blkio)
	}
	if s.memLimit == 0 || (hostMem > 0 && s.memLimit > hostMem) {
		s.memLimit = hostMem
	}
	if d.pids != "" {
		s.pids = readUint(d.pids, "pids.current")
	}
	if s.pids == 0 {
		s.pids = uint64(len(cgroupProcs(d)))
	}
	s.netRx, s.netTx = readNetDev(pid)
	return s
}

// newStatsRow is container c's line from two samples of it; a container
// not running (or whose samples failed) shows "--", as Docker's.
func newStatsRow(c *store.Container, ref string, prev, cur sample, noTrunc bool) statsRow {
	r := statsRow{Container: ref, ID: c.ID, Name: strings.TrimPrefix(c.Name, "/")}
	if !noTrunc {
		r.ID = shortID(c.ID)
	}
	if r.Name == "" {
		r.Name = "--"
	}
	if !prev.ok || !cur.ok {
		r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs = "--", "-- / --", "--", "--", "--", "--"
		return r
	}
	r.CPUPerc = fmt.Sprintf("%.2f%%", cpuPercent(prev, cur))
	r.MemUsage = binarySize(cur.memUsage) + " / " + binarySize(cur.memLimit)
	memPerc := 0.0
	if cur.memLimit > 0 {
		memPerc = float64(cur.memUsage) / float64(cur.memLimit) * 100
	}
	r.MemPerc = fmt.Sprintf("%.2f%%", memPerc)
	r.NetIO = humanSize(int64(cur.netRx)) + " / " + humanSize(int64(cur.netTx))
	r.BlockIO = humanSize(int64(cur.blkRead)) + " / " + humanSize(int64(cur.blkWrite))
	r.PIDs = strconv.FormatUint(cur.pids, 10)
	return r
}

// cpuPercent is Docker's: the container's CPU time over the host's between
// the samples, times the online CPUs, in percent.
func cpuPercent(prev, cur sample) float64 {
	if cur.cpu < prev.cpu || cur.system <= prev.system {
		return 0
	}
	return float64(cur.cpu-prev.cpu) / float64(cur.system-prev.system) * float64(cur.cpus) * 100
}

// binarySize is Docker's memory size (go-units BytesSize): binary units,
// 4 significant digits: "1.5MiB", "7.629GiB", "512B".
func binarySize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	size, i := float64(n), 0
	for size >= 1024 && i < len(units)-1 {
		size /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", size, units[i])
}

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on Linux's
// every architecture that Go supports).
const clockTicks = 100

// procRoot is /proc (a test's directory in unit tests).
var procRoot = "/proc"

// hostCPU is the host's CPU time (the "cpu" line of /proc/stat: user,
// nice, system, idle, iowait, irq, softirq, as Docker sums them) in ns,
// and the number of online CPUs (its "cpuN" lines).
func hostCPU() (uint64, int) {
	b, err := os.ReadFile(filepath.Join(procRoot, "stat"))
	if err != nil {
		return 0, 0
	}
	var total uint64
	cpus := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) > 7 && f[0] == "cpu":
			for _, v := range f[1:8] {
				n, _ := strconv.ParseUint(v, 10, 64)
				total += n
			}
		case len(f) > 0 && strings.HasPrefix(f[0], "cpu"):
			cpus++
		}
	}
	return total * (1e9 / clockTicks), cpus
}

// hostMemory is MemTotal of /proc/meminfo in bytes (0 when unknown).
func hostMemory() uint64 {
	b, err := os.ReadFile(filepath.Join(procRoot, "meminfo"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// cgroupProcs are the pids in the container's cgroup (its pids or memory
// directory's cgroup.procs).
func cgroupProcs(d cgroupDirs) []int {
	for _, dir := range []string{d.pids, d.memory, d.cpu} {
		if dir == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			continue
		}
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
		return pids
	}
	return nil
}

// procsCPU sums the CPU time (utime and stime, fields 14 and 15 of
// /proc/PID/stat, and cutime and cstime, what each reaped of its
// children) of pids, in ns.
func procsCPU(pids []int) uint64 {
	var ticks uint64
	for _, pid := range pids {
		b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
		if err != nil {
			continue
		}
		// The command, field 2, is in parentheses and may hold spaces.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:])) // f[0] is field 3
		if len(f) < 15 {
			continue
		}
		for _, v := range f[11:15] { // fields 14-17
			n, _ := strconv.ParseUint(v, 10, 64)
			ticks += n
		}
	}
	return ticks * (1e9 / clockTicks)
}

// readNetDev sums the bytes received and sent on the interfaces of pid's
// network namespace but lo (/proc/PID/net/dev); 0 for a container in the
// host's namespace, as Docker shows one with --network host.
func readNetDev(pid int) (rx, tx uint64) {
	if pid <= 0 {
		return 0, 0
	}
	ns, err := os.Readlink(filepath.Join(procRoot, strconv.Itoa(pid), "ns", "net"))
	if err != nil {
		return 0, 0
	}
	if self, err := os.Readlink(filepath.Join(procRoot, "self", "ns", "net")); err == nil && self == ns {
		return 0, 0
	}
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "net", "dev"))
	if err != nil {
		return 0, 0
	}
	return parseNetDev(b)
}

// parseNetDev sums /proc/net/dev's receive and transmit bytes over its
// interfaces but lo.
func parseNetDev(b []byte) (rx, tx uint64) {
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 9 {
			continue
		}
		r, err1 := strconv.ParseUint(f[0], 10, 64)
		t, err2 := strconv.ParseUint(f[8], 10, 64)
		if err1 == nil && err2 == nil {
			rx, tx = rx+r, tx+t
		}
	}
	return rx, tx
}

// readIOStat sums v2's io.stat rbytes and wbytes over the devices.
func readIOStat(dir string) (read, write uint64) {
	b, err := readCgroupFile(dir, "io.stat")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		for _, kv := range strings.Fields(line) { // "MAJ:MIN rbytes=N wbytes=N ..."
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			switch k {
			case "rbytes":
				read += n
			case "wbytes":
				write += n
			}
		}
	}
	return read, write
}

// readBlkio sums v1's blkio.throttle.io_service_bytes_recursive ("MAJ:MIN
// Read N", "MAJ:MIN Write N") over the devices; 0 for a container without
// a blkio cgroup of its own.
func readBlkio(dir string) (read, write uint64) {
	b, err := readCgroupFile(dir, "blkio.throttle.io_service_bytes_recursive")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			continue
		}
		switch f[1] {
		case "Read":
			read += n
		case "Write":
			write += n
		}
	}
	return read, write
}

func readCgroupFile(dir, name string) ([]byte, error) {
	if dir == "" {
		return nil, fs.ErrNotExist
	}
	return os.ReadFile(filepath.Join(dir, name))
}

// readUint reads a file of one number; 0 when it is missing or is not a
// number ("max").
func readUint(dir, name string) uint64 {
	n, _ := readUintErr(dir, name)
	return n
}

func readUintErr(dir, name string) (uint64, error) {
	b, err := readCgroupFile(dir, name)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// readKey reads key's number from a file of "KEY VALUE" lines.
func readKey(dir, name, key string) (uint64, error) {
	if dir == "" {
		return 0, fs.ErrNotExist
	}
	return cgfs.ReadKeyValue(dir, name, key)
}
