package userns

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAllocate(t *testing.T) {
	a := &Allocator{Dir: t.TempDir(), InUse: func(owner string) bool { return owner != "gone" }}
	s1, err := a.Allocate("c1")
	if err != nil || s1 != First {
		t.Fatalf("Allocate c1 = %d, %v; want %d", s1, err, First)
	}
	s2, err := a.Allocate("c2")
	if err != nil || s2 != First+Size {
		t.Fatalf("Allocate c2 = %d, %v; want %d", s2, err, First+Size)
	}
	if got := a.Owner(s1); got != "c1" {
		t.Errorf("Owner(%d) = %q", s1, got)
	}
	if err := a.Free("c1"); err != nil {
		t.Fatal(err)
	}
	if got := a.Owner(s1); got != "" {
		t.Errorf("after Free, Owner(%d) = %q", s1, got)
	}
	// The freed range is the next one handed out.
	if s, err := a.Allocate("c3"); err != nil || s != s1 {
		t.Fatalf("Allocate c3 = %d, %v; want the freed %d", s, err, s1)
	}
	// A range whose owner is gone is taken back.
	stale := a.path(First + 2*Size)
	if err := writeExcl(stale, "gone"); err != nil {
		t.Fatal(err)
	}
	if s, err := a.Allocate("young"); err != nil || s != First+3*Size {
		t.Fatalf("Allocate = %d, %v: a range younger than Grace was taken back", s, err)
	}
	old := time.Now().Add(-2 * Grace)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if s, err := a.Allocate("c4"); err != nil || s != First+2*Size || a.Owner(s) != "c4" {
		t.Fatalf("Allocate c4 = %d, %v (owner %q); want the stale %d", s, err, a.Owner(s), First+2*Size)
	}
	if err := a.Free("nobody"); err != nil {
		t.Errorf("Free of an owner without a range: %v", err)
	}
	if _, err := a.Allocate("a/b"); err == nil {
		t.Error("Allocate of a bad owner: no error")
	}
}

func TestAllocateBlocks(t *testing.T) {
	// Two blocks: the first holds one range (and a remainder too short
	// for another), the second two.
	a := &Allocator{Dir: t.TempDir(), Blocks: []Block{{Start: 500000, Count: Size + 100}, {Start: 2000000, Count: 2 * Size}}}
	for _, want := range []uint32{500000, 2000000, 2000000 + Size} {
		if s, err := a.Allocate(strconv.Itoa(int(want))); err != nil || s != want {
			t.Fatalf("Allocate = %d, %v; want %d", s, err, want)
		}
	}
	if _, err := a.Allocate("one-more"); err == nil || !strings.Contains(err.Error(), "1 from 500000, 2 from 2000000") {
		t.Errorf("Allocate with every range taken = %v; want an error naming the blocks", err)
	}
}
