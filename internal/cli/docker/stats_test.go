package docker

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

// writeTree writes files (name to content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeProc makes procRoot a temp dir with a /proc/stat of 2 CPUs (total
// ticks as given) and 1 GiB of memory.
func fakeProc(t *testing.T, ticks string) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"stat":    "cpu  " + ticks + " 0 0 0 0 0 0 0 0 0\ncpu0 1 0 0 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0 0 0\nintr 5\n",
		"meminfo": "MemTotal:        1048576 kB\nMemFree:          524288 kB\n",
	})
	old := procRoot
	procRoot = dir
	t.Cleanup(func() { procRoot = old })
}

func TestReadSampleV1(t *testing.T) {
	fakeProc(t, "200")
	cg := t.TempDir()
	writeTree(t, cg, map[string]string{
		"memory/memory.usage_in_bytes":                    "10485760\n",
		"memory/memory.stat":                              "cache 4096\ntotal_inactive_file 2097152\n",
		"memory/memory.limit_in_bytes":                    "67108864\n",
		"cpu/cpuacct.usage":                               "500000000\n",
		"pids/pids.current":                               "3\n",
		"blkio/blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n",
	})
	d := cgroupDirs{memory: filepath.Join(cg, "memory"), cpu: filepath.Join(cg, "cpu"), pids: filepath.Join(cg, "pids"), blkio: filepath.Join(cg, "blkio")}
	s := readSample(d, 0, hostMemory())
	want := sample{ok: true, cpu: 5e8, system: 2e9, cpus: 2, memUsage: 8 << 20, memLimit: 64 << 20, pids: 3, blkRead: 4096, blkWrite: 8192}
	if s != want {
		t.Errorf("v1 sample:\n got %+v\nwant %+v", s, want)
	}
	// No limit (v1's huge number): the host's memory.
	writeTree(t, cg, map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"})
	if s := readSample(d, 0, hostMemory()); s.memLimit != 1<<30 {
		t.Errorf("v1 without a limit: limit %d, want the host's 1 GiB", s.memLimit)
	}
}

func TestReadSampleV2(t *testing.T) {
	fakeProc(t, "100")
	cg := t.TempDir()
	writeTree(t, cg, map[string]string{
		"memory.current": "3145728\n",
		"memory.stat":    "anon 1048576\ninactive_file 1048576\n",
		"memory.max":     "max\n",
		"cpu.stat":       "usage_usec 250000\nuser_usec 200000\n",
		"pids.current":   "2\n",
		"io.stat":        "8:0 rbytes=1000 wbytes=2000 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n",
	})
	d := cgroupDirs{v2: true, memory: cg, cpu: cg, pids: cg, blkio: cg}
	s := readSample(d, 0, hostMemory())
	want := sample{ok: true, cpu: 25e7, system: 1e9, cpus: 2, memUsage: 2 << 20, memLimit: 1 << 30, pids: 2, blkRead: 1001, blkWrite: 2002}
	if s != want {
		t.Errorf("v2 sample:\n got %+v\nwant %+v", s, want)
	}
}

func TestStatsRow(t *testing.T) {
	c := &store.Container{ID: "0123456789abcdef0123", Name: "/web"}
	c.State.SetRunning(store.Process{Pid: 1}, time.Now())
	prev := sample{ok: true, cpu: 1e9, system: 10e9, cpus: 2}
	cur := sample{ok: true, cpu: 1.5e9, system: 12e9, cpus: 2, memUsage: 1536 << 10, memLimit: 64 << 20, pids: 3,
		netRx: 1500, netTx: 648, blkRead: 4096, blkWrite: 0}
	got := newStatsRow(c, "web", prev, cur, false)
	want := statsRow{Container: "web", ID: "0123456789ab", Name: "web", CPUPerc: "50.00%", MemUsage: "1.5MiB / 64MiB",
		MemPerc: "2.34%", NetIO: "1.5kB / 648B", BlockIO: "4.1kB / 0B", PIDs: "3"}
	if got != want {
		t.Errorf("row:\n got %+v\nwant %+v", got, want)
	}
	if got := newStatsRow(c, "web", prev, cur, true).ID; got != c.ID {
		t.Errorf("--no-trunc: ID %q", got)
	}
	stopped := newStatsRow(c, "web", sample{}, sample{}, false)
	if stopped.CPUPerc != "--" || stopped.MemUsage != "-- / --" || stopped.PIDs != "--" {
		t.Errorf("a stopped container's row: %+v, want --", stopped)
	}
}

func TestBinarySize(t *testing.T) {
	for n, want := range map[uint64]string{0: "0B", 512: "512B", 1536: "1.5KiB", 64 << 20: "64MiB", 8192000000: "7.629GiB"} {
		if got := binarySize(n); got != want {
			t.Errorf("binarySize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseNetDev(t *testing.T) {
	dev := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    9999      10    0    0    0     0          0         0     9999      10    0    0    0     0       0          0
  eth0:    1500       5    0    0    0     0          0         0      648       4    0    0    0     0       0          0
  eth1:     500       5    0    0    0     0          0         0      352       4    0    0    0     0       0          0
`
	if rx, tx := parseNetDev([]byte(dev)); rx != 2000 || tx != 1000 {
		t.Errorf("parseNetDev: %d / %d, want 2000 / 1000 (lo left out)", rx, tx)
	}
}
