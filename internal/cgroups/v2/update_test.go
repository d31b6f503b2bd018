package v2

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestUpdate(t *testing.T) {
	tests := []struct {
		name    string
		r       *specs.LinuxResources
		noSwap  bool
		want    map[string]string // file -> content
		wantErr string
	}{
		{name: "nil", want: map[string]string{memoryMax: "33554432", swapMax: "max", pidsMax: "10", cpuMax: "50000 100000"}},
		{name: "memory", r: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(1000)}},
			want: map[string]string{memoryMax: "1000", swapMax: "max"}},
		{name: "memory and swap", r: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(1000), Swap: cgfstest.I64(3000)}},
			want: map[string]string{memoryMax: "1000", swapMax: "2000"}},
		{name: "swap against the limit in force", r: &specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: cgfstest.I64(64 << 20)}},
			want: map[string]string{memoryMax: "33554432", swapMax: "33554432"}},
		{name: "unlimited memory takes swap along", r: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(-1)}},
			want: map[string]string{memoryMax: "max", swapMax: "max"}},
		{name: "unlimited swap", r: &specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: cgfstest.I64(-1)}},
			want: map[string]string{memoryMax: "33554432", swapMax: "max"}},
		{name: "zeros leave", r: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(0), Swap: cgfstest.I64(0)}, Pids: &specs.LinuxPids{},
			CPU: &specs.LinuxCPU{Quota: cgfstest.I64(0), Period: cgfstest.U64(0)}},
			want: map[string]string{memoryMax: "33554432", swapMax: "max", pidsMax: "10", cpuMax: "50000 100000"}},
		{name: "no swap accounting", noSwap: true, r: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(1000), Swap: cgfstest.I64(3000)}},
			want: map[string]string{memoryMax: "1000"}},
		{name: "swap below limit", r: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(3000), Swap: cgfstest.I64(1000)}, Pids: &specs.LinuxPids{Limit: cgfstest.I64(3)}},
			want: map[string]string{memoryMax: "33554432", pidsMax: "10"}, wantErr: "below the memory limit"},
		{name: "pids", r: &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgfstest.I64(20)}}, want: map[string]string{pidsMax: "20"}},
		{name: "pids unlimited", r: &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgfstest.I64(-1)}}, want: map[string]string{pidsMax: "max"}},
		{name: "quota keeps period", r: &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: cgfstest.I64(20000)}},
			want: map[string]string{cpuMax: "20000 100000"}},
		{name: "period keeps quota", r: &specs.LinuxResources{CPU: &specs.LinuxCPU{Period: cgfstest.U64(200000)}},
			want: map[string]string{cpuMax: "50000 200000"}},
		{name: "no quota", r: &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: cgfstest.I64(-1), Period: cgfstest.U64(50000)}},
			want: map[string]string{cpuMax: "max 50000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{}
			if tt.noSwap {
				f.Omit = []string{swapMax}
			}
			m := newTestManager(t, f, filepath.Join(newMount(t, allControllers), "ctr"))
			if err := m.Create(limits()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Destroy() })
			err := m.Update(tt.r)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Update = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := cgfstest.ReadFile(t, m.Path(""), name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if tt.noSwap && cgfstest.Exists(filepath.Join(m.Path(""), swapMax)) {
				t.Errorf("%s was created", swapMax)
			}
		})
	}
}

func TestUpdateSwapWithoutLimit(t *testing.T) {
	m := newTestManager(t, &fake{}, filepath.Join(newMount(t, allControllers), "ctr"))
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	err := m.Update(&specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: cgfstest.I64(1000)}})
	if err == nil || !strings.Contains(err.Error(), "needs a memory limit") {
		t.Fatalf("Update = %v, want an error: swap needs a memory limit", err)
	}
}

func TestUpdateControllerNotEnabled(t *testing.T) {
	m := newTestManager(t, &fake{}, filepath.Join(newMount(t, "memory pids"), "ctr"))
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	err := m.Update(&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: cgfstest.I64(1000)}, Pids: &specs.LinuxPids{Limit: cgfstest.I64(4)}})
	if err == nil || !strings.Contains(err.Error(), "cpu controller is not enabled") {
		t.Fatalf("Update = %v, want an error naming the cpu controller", err)
	}
	if got := cgfstest.ReadFile(t, m.Path(""), pidsMax); got != "max" {
		t.Errorf("pids.max = %q after a refused Update", got)
	}
}

// TestUpdateKeepsMemoryPlusSwap: the spec's swap is memory plus swap, so a
// new memory limit alone keeps that total, as on v1.
func TestUpdateKeepsMemoryPlusSwap(t *testing.T) {
	tests := []struct {
		name     string
		limit    int64
		wantMax  string
		wantSwap string
		wantErr  string
	}{
		{"lower", 1000, "1000", "3000", ""},
		{"raise within", 3000, "3000", "1000", ""},
		{"up to the total", 4000, "4000", "0", ""},
		{"above the total", 5000, "2000", "2000", "below the memory limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestManager(t, &fake{}, filepath.Join(newMount(t, allControllers), "ctr"))
			if err := m.Create(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(2000), Swap: cgfstest.I64(4000)}}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Destroy() })
			err := m.Update(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &tt.limit}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Update = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := cgfstest.ReadFile(t, m.Path(""), memoryMax); got != tt.wantMax {
				t.Errorf("%s = %q, want %q", memoryMax, got, tt.wantMax)
			}
			if got := cgfstest.ReadFile(t, m.Path(""), swapMax); got != tt.wantSwap {
				t.Errorf("%s = %q, want %q", swapMax, got, tt.wantSwap)
			}
		})
	}
}
