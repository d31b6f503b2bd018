package main

import (
	"testing"
	"time"
)

func TestParseInittrace(t *testing.T) {
	stderr := "init runtime @0.10 ms, 0.18 ms clock, 0 bytes, 0 allocs\n" +
		"init internal/godebug @2.5 ms, 0.38 ms clock, 6536 bytes, 121 allocs\n" +
		"minimal-runc version dev\n" +
		"init github.com/spf13/cobra @7.6 ms, 0.054 ms clock, 856 bytes, 12 allocs\n" +
		"init broken @1 ms, x ms clock, 0 bytes, 0 allocs\n"
	got := parseInittrace(stderr)
	want := []initLine{
		{"runtime", 180 * time.Microsecond},
		{"internal/godebug", 380 * time.Microsecond},
		{"github.com/spf13/cobra", 54 * time.Microsecond},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].pkg != want[i].pkg || (got[i].clock-want[i].clock).Abs() > time.Microsecond {
			t.Errorf("line %d: got %v, want %v", i, got[i], want[i])
		}
	}
}
