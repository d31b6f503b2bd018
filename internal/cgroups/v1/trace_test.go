package v1

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
)

// TestTraceSeesEveryChange: with a TraceFunc, each directory Create makes,
// each value it writes (each as the file then holds it), Apply's
// cgroup.procs, and each directory Destroy removes is traced, in order.
func TestTraceSeesEveryChange(t *testing.T) {
	l := newLayout(t, "memory", "pids", "cpu")
	m := newTestManager(t, &fake{}, l)
	type event struct{ op, path, value string }
	var got []event
	t.Cleanup(cgfs.SetTrace(func(op, path, value string, _ time.Duration, err error) {
		if err != nil {
			t.Errorf("%s %s %q: %v", op, path, value, err)
		}
		got = append(got, event{op, path, value})
	}))
	if err := m.Create(limits()); err != nil {
		t.Fatal(err)
	}
	written := map[string]string{} // path -> the last value traced
	for _, e := range got {
		if e.op == "write" {
			written[e.path] = e.value
		}
	}
	for path, v := range written {
		if content := cgfstest.ReadFile(t, filepath.Dir(path), filepath.Base(path)); content != v {
			t.Errorf("traced %s = %q, the file holds %q", path, v, content)
		}
	}
	for _, w := range []string{
		filepath.Join(l.dirs["memory"], memoryLimit), filepath.Join(l.dirs["pids"], pidsMax),
		filepath.Join(l.dirs["cpu"], cfsQuota), filepath.Join(l.dirs["cpu"], cfsPeriod),
	} {
		if _, ok := written[w]; !ok {
			t.Errorf("no write of %s traced (traced: %v)", w, got)
		}
	}
	for c, dir := range l.dirs {
		for _, d := range []string{filepath.Dir(dir), dir} {
			if !slices.Contains(got, event{"mkdir", d, ""}) {
				t.Errorf("%s: no mkdir %s traced", c, d)
			}
		}
	}
	got = nil
	if err := m.Apply(4242); err != nil {
		t.Fatal(err)
	}
	for c, dir := range l.dirs {
		if !slices.Contains(got, event{"write", filepath.Join(dir, "cgroup.procs"), "4242"}) {
			t.Errorf("%s: Apply's write of cgroup.procs not traced: %v", c, got)
		}
	}
	got = nil
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for c, dir := range l.dirs {
		if !slices.Contains(got, event{"rmdir", dir, ""}) || !slices.Contains(got, event{"rmdir", filepath.Dir(dir), ""}) {
			t.Errorf("%s: Destroy's rmdirs of %s and its parent not traced: %v", c, dir, got)
		}
	}
}
