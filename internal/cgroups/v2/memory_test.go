package v2

import (
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestPlanMemory writes in a new cgroup's files (memory.max and
// memory.swap.max "max").
func TestPlanMemory(t *testing.T) {
	tests := []struct {
		name     string
		mem      *specs.LinuxMemory
		noSwap   bool
		wantMax  string
		wantSwap string
		wantErr  string
	}{
		{name: "nil", wantMax: "max", wantSwap: "max"},
		{name: "limit", mem: &specs.LinuxMemory{Limit: cgfstest.I64(32 << 20)}, wantMax: "33554432", wantSwap: "max"},
		{name: "zero leaves it", mem: &specs.LinuxMemory{Limit: cgfstest.I64(0)}, wantMax: "max", wantSwap: "max"},
		{name: "swap equal to limit is no swap", mem: &specs.LinuxMemory{Limit: cgfstest.I64(100), Swap: cgfstest.I64(100)}, wantMax: "100", wantSwap: "0"},
		{name: "swap is memory plus swap", mem: &specs.LinuxMemory{Limit: cgfstest.I64(100), Swap: cgfstest.I64(300)}, wantMax: "100", wantSwap: "200"},
		{name: "unlimited swap", mem: &specs.LinuxMemory{Limit: cgfstest.I64(100), Swap: cgfstest.I64(-1)}, wantMax: "100", wantSwap: "max"},
		{name: "no swap accounting", mem: &specs.LinuxMemory{Limit: cgfstest.I64(100), Swap: cgfstest.I64(300)}, noSwap: true, wantMax: "100"},
		{name: "swap below limit", mem: &specs.LinuxMemory{Limit: cgfstest.I64(300), Swap: cgfstest.I64(100)}, wantMax: "max", wantSwap: "max",
			wantErr: "below the memory limit"},
		{name: "swap without limit", mem: &specs.LinuxMemory{Swap: cgfstest.I64(100)}, wantMax: "max", wantSwap: "max",
			wantErr: "needs a memory limit"},
		{name: "swap below limit, no swap accounting", mem: &specs.LinuxMemory{Limit: cgfstest.I64(300), Swap: cgfstest.I64(100)}, noSwap: true,
			wantMax: "max", wantErr: "below the memory limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var omit []string
			if tt.noSwap {
				omit = append(omit, swapMax)
			}
			dir := cgfstest.ControlDir(t, controlFiles, omit...)
			err := cgfstest.Set(planMemory, dir, &specs.LinuxResources{Memory: tt.mem})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("planMemory = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := cgfstest.ReadFile(t, dir, memoryMax); got != tt.wantMax {
				t.Errorf("%s = %q, want %q", memoryMax, got, tt.wantMax)
			}
			if tt.noSwap {
				if cgfstest.Exists(dir + "/" + swapMax) {
					t.Errorf("%s was created", swapMax)
				}
				return
			}
			if got := cgfstest.ReadFile(t, dir, swapMax); got != tt.wantSwap {
				t.Errorf("%s = %q, want %q", swapMax, got, tt.wantSwap)
			}
		})
	}
}

// TestPlanMemoryReservation: the reservation is memory.low, as runc maps
// it; -1 is "max".
func TestPlanMemoryReservation(t *testing.T) {
	for _, tc := range []struct {
		n    *int64
		want string
	}{
		{nil, "0"}, {cgfstest.I64(0), "0"}, {cgfstest.I64(32 << 20), "33554432"}, {cgfstest.I64(-1), "max"},
	} {
		dir := cgfstest.ControlDir(t, controlFiles)
		if err := cgfstest.Set(planMemory, dir, &specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: tc.n}}); err != nil {
			t.Fatal(err)
		}
		if got := cgfstest.ReadFile(t, dir, memoryLow); got != tc.want {
			t.Errorf("reservation %v: memory.low = %q, want %q", tc.n, got, tc.want)
		}
	}
}
