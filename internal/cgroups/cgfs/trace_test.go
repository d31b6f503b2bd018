package cgfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// event is one call of a TraceFunc.
type event struct {
	op, path, value string
	err             error
}

func record(t *testing.T) *[]event {
	t.Helper()
	var got []event
	t.Cleanup(SetTrace(func(op, path, value string, d time.Duration, err error) {
		if d < 0 {
			t.Errorf("%s %s: negative duration %v", op, path, d)
		}
		got = append(got, event{op, path, value, err})
	}))
	return &got
}

func TestTraceWriteFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte("max"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := record(t)
	if err := WriteFile(dir, "pids.max", "10"); err != nil {
		t.Fatal(err)
	}
	werr := WriteFile(dir, "memory.max", "1")
	if len(*got) != 2 {
		t.Fatalf("traced %d writes, want 2: %v", len(*got), *got)
	}
	if e := (*got)[0]; e != (event{"write", filepath.Join(dir, "pids.max"), "10", nil}) {
		t.Errorf("first event %+v, want the write of 10 to pids.max", e)
	}
	if e := (*got)[1]; e.op != "write" || e.path != filepath.Join(dir, "memory.max") || e.value != "1" || e.err != werr || !errors.Is(e.err, os.ErrNotExist) {
		t.Errorf("second event %+v, want the failed write of memory.max with WriteFile's error %v", e, werr)
	}
}

func TestTraceDirs(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a")
	o := Kernel()
	o.Patience = 0
	got := record(t)
	if _, err := o.MakeDir(dir, true); err != nil {
		t.Fatal(err)
	}
	if err := o.Remove(dir, false); err != nil {
		t.Fatal(err)
	}
	want := []event{{"mkdir", dir, "", nil}, {"rmdir", dir, "", nil}}
	if len(*got) != len(want) || (*got)[0] != want[0] || (*got)[1] != want[1] {
		t.Errorf("traced %+v, want %+v", *got, want)
	}
}

// TestTraceOff: with no TraceFunc (nil restores none), nothing is called
// and SetTrace's restore puts the previous one back.
func TestTraceOff(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	calls := 0
	restore := SetTrace(func(string, string, string, time.Duration, error) { calls++ })
	inner := SetTrace(nil)
	if err := WriteFile(dir, "f", "x"); err != nil {
		t.Fatal(err)
	}
	if calls != 0 {
		t.Errorf("SetTrace(nil): the previous TraceFunc was called %d times", calls)
	}
	inner()
	if err := WriteFile(dir, "f", "y"); err != nil {
		t.Fatal(err)
	}
	restore()
	if err := WriteFile(dir, "f", "z"); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("TraceFunc called %d times, want 1 (between the restores)", calls)
	}
}

func BenchmarkWriteFileUntraced(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if err := WriteFile(dir, "f", "10"); err != nil {
			b.Fatal(err)
		}
	}
}
