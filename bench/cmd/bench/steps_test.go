package main

import (
	"slices"
	"testing"
	"time"
)

func TestSteps(t *testing.T) {
	stderr := "minimal-docker: debug: step preflight                0.551ms\n" +
		"minimal-docker: debug: step init pivot_root          4.358ms\n" +
		"explain:    1.000ms parent    0.250ms  clone CLONE_NEWNS|CLONE_NEWPID\n" +
		"explain:    2.000ms init      0.100ms  mount proc on /proc\n" +
		"explain:    2.500ms init      0.200ms  mount tmpfs on /dev\n" +
		"something else\n"
	order, d := steps(stderr)
	want := []string{"preflight", "init pivot_root", "parent clone", "init mount"}
	if !slices.Equal(order, want) {
		t.Fatalf("order %q, want %q", order, want)
	}
	for name, v := range map[string]time.Duration{
		"preflight": 551 * time.Microsecond, "parent clone": 250 * time.Microsecond, "init mount": 300 * time.Microsecond,
	} {
		if (d[name] - v).Abs() > time.Microsecond {
			t.Errorf("%s: %v, want %v", name, d[name], v)
		}
	}
}
