// Package bench holds the Go micro-benchmarks of the hot pieces of a
// container's start that are not already benchmarked beside their code
// (internal/seccomp has BenchmarkCompile and BenchmarkCached). They run
// only with `go test -bench` (make bench); no test here checks a time.
package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// BenchmarkSpecDefault builds the Docker-like path's default spec (what
// minimal-docker run does before anything else).
func BenchmarkSpecDefault(b *testing.B) {
	root := b.TempDir()
	for b.Loop() {
		if _, err := spec.Default(root, []string{"true"}); err != nil {
			b.Fatal(err)
		}
	}
}

// limitFiles are the v1 control files a default run writes, with values.
var limitFiles = [][2]string{
	{"memory.limit_in_bytes", "268435456"},
	{"memory.memsw.limit_in_bytes", "268435456"},
	{"pids.max", "64"},
	{"cpu.cfs_period_us", "100000"},
	{"cpu.cfs_quota_us", "50000"},
}

// BenchmarkCgroupWrites writes a default run's limits with cgfs.WriteFile
// into plain files of a temporary directory: the cost of our open, write
// and close, without the kernel's cgroup handlers.
func BenchmarkCgroupWrites(b *testing.B) {
	dir := b.TempDir()
	for _, f := range limitFiles {
		if err := os.WriteFile(filepath.Join(dir, f[0]), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		for _, f := range limitFiles {
			if err := cgfs.WriteFile(dir, f[0], f[1]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCgroupMkdirRemove makes and removes one directory per v1
// controller (five, as a run does on a v1 host) in a temporary directory,
// through the same Ops the drivers use.
func BenchmarkCgroupMkdirRemove(b *testing.B) {
	root := b.TempDir()
	ops := cgfs.Kernel()
	i := 0
	for b.Loop() {
		i++
		var dirs []string
		for _, c := range []string{"memory", "pids", "cpu", "devices", "freezer"} {
			d := filepath.Join(root, c+"-"+strconv.Itoa(i))
			if _, err := ops.MakeDir(d, true); err != nil {
				b.Fatal(err)
			}
			dirs = append(dirs, d)
		}
		for _, d := range dirs {
			if err := ops.Remove(d, false); err != nil {
				b.Fatal(err)
			}
		}
	}
}
