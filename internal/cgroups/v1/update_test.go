package v1

import (
	"strconv"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// unlimitedV1 is how the kernel shows no memory limit.
const unlimitedV1 = "9223372036854771712"

// memValue reads a memory file of the fake as the kernel would compare it.
func memValue(t *testing.T, dir, name string) uint64 {
	t.Helper()
	s := cgfstest.ReadFile(t, dir, name)
	if s == "-1" {
		return unlimited
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s = %q: %v", name, s, err)
	}
	if n >= 1<<62 {
		return unlimited
	}
	return n
}

// TestUpdateMemoryOrder runs the planned writes one by one on a fake
// cgroup and checks after each what the kernel checks: memsw >= limit.
func TestUpdateMemoryOrder(t *testing.T) {
	tests := []struct {
		name               string
		curLimit, curMemsw string
		mem                *specs.LinuxMemory
		noMemsw            bool
		wantLimit          string
		wantMemsw          string
		wantErr            string
	}{
		{name: "raise both", curLimit: "100", curMemsw: "200", mem: &specs.LinuxMemory{Limit: cgfstest.I64(300), Swap: cgfstest.I64(600)},
			wantLimit: "300", wantMemsw: "600"},
		{name: "lower both", curLimit: "300", curMemsw: "600", mem: &specs.LinuxMemory{Limit: cgfstest.I64(100), Swap: cgfstest.I64(200)},
			wantLimit: "100", wantMemsw: "200"},
		{name: "lower limit, raise memsw", curLimit: "300", curMemsw: "300", mem: &specs.LinuxMemory{Limit: cgfstest.I64(100), Swap: cgfstest.I64(900)},
			wantLimit: "100", wantMemsw: "900"},
		{name: "raise limit, lower memsw", curLimit: "100", curMemsw: "900", mem: &specs.LinuxMemory{Limit: cgfstest.I64(300), Swap: cgfstest.I64(400)},
			wantLimit: "300", wantMemsw: "400"},
		{name: "from unlimited", curLimit: unlimitedV1, curMemsw: unlimitedV1, mem: &specs.LinuxMemory{Limit: cgfstest.I64(100), Swap: cgfstest.I64(200)},
			wantLimit: "100", wantMemsw: "200"},
		{name: "to unlimited memsw", curLimit: "100", curMemsw: "200", mem: &specs.LinuxMemory{Limit: cgfstest.I64(300), Swap: cgfstest.I64(-1)},
			wantLimit: "300", wantMemsw: "-1"},
		{name: "limit alone within memsw", curLimit: "100", curMemsw: "600", mem: &specs.LinuxMemory{Limit: cgfstest.I64(300)},
			wantLimit: "300", wantMemsw: "600"},
		{name: "lower limit alone", curLimit: "300", curMemsw: "300", mem: &specs.LinuxMemory{Limit: cgfstest.I64(100)},
			wantLimit: "100", wantMemsw: "300"},
		{name: "memsw alone", curLimit: "100", curMemsw: "200", mem: &specs.LinuxMemory{Swap: cgfstest.I64(500)},
			wantLimit: "100", wantMemsw: "500"},
		{name: "unlimited limit takes memsw along", curLimit: "100", curMemsw: "200", mem: &specs.LinuxMemory{Limit: cgfstest.I64(-1)},
			wantLimit: "-1", wantMemsw: "-1"},
		{name: "zeros leave both", curLimit: "100", curMemsw: "200", mem: &specs.LinuxMemory{Limit: cgfstest.I64(0), Swap: cgfstest.I64(0)},
			wantLimit: "100", wantMemsw: "200"},
		{name: "no swap accounting", curLimit: "100", mem: &specs.LinuxMemory{Limit: cgfstest.I64(300), Swap: cgfstest.I64(600)}, noMemsw: true,
			wantLimit: "300"},
		{name: "limit above memsw in force", curLimit: "100", curMemsw: "200", mem: &specs.LinuxMemory{Limit: cgfstest.I64(300)},
			wantLimit: "100", wantMemsw: "200", wantErr: "memory+swap limit 200 would be below the memory limit 300"},
		{name: "memsw below limit", curLimit: "100", curMemsw: "200", mem: &specs.LinuxMemory{Limit: cgfstest.I64(300), Swap: cgfstest.I64(250)},
			wantLimit: "100", wantMemsw: "200", wantErr: "below the memory limit"},
		{name: "memsw below unlimited limit", curLimit: "100", curMemsw: "200", mem: &specs.LinuxMemory{Limit: cgfstest.I64(-1), Swap: cgfstest.I64(250)},
			wantLimit: "100", wantMemsw: "200", wantErr: "below the memory limit unlimited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var omit []string
			if tt.noMemsw {
				omit = append(omit, memswLimit)
			}
			dir := cgfstest.ControlDir(t, controlFiles, omit...)
			cgfstest.WriteFile(t, dir, memoryLimit, tt.curLimit)
			if !tt.noMemsw {
				cgfstest.WriteFile(t, dir, memswLimit, tt.curMemsw)
			}
			writes, err := planMemory(dir, &specs.LinuxResources{Memory: tt.mem})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("planMemory = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			for i, w := range writes {
				if err := w.Do(dir); err != nil {
					t.Fatal(err)
				}
				if tt.noMemsw {
					continue
				}
				if l, sw := memValue(t, dir, memoryLimit), memValue(t, dir, memswLimit); sw < l {
					t.Fatalf("after write %d: memsw %d < limit %d, which the kernel refuses", i+1, sw, l)
				}
			}
			if got := cgfstest.ReadFile(t, dir, memoryLimit); got != tt.wantLimit {
				t.Errorf("%s = %q, want %q", memoryLimit, got, tt.wantLimit)
			}
			if !tt.noMemsw {
				if got := cgfstest.ReadFile(t, dir, memswLimit); got != tt.wantMemsw {
					t.Errorf("%s = %q, want %q", memswLimit, got, tt.wantMemsw)
				}
			} else if cgfstest.Exists(dir + "/" + memswLimit) {
				t.Errorf("%s was created", memswLimit)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	tests := []struct {
		name string
		r    *specs.LinuxResources
		want map[string]string // file -> content, in the controller's dir
	}{
		{"nil", nil, map[string]string{pidsMax: "10", cfsQuota: "50000", cfsPeriod: "100000"}},
		{"pids", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgfstest.I64(20)}}, map[string]string{pidsMax: "20"}},
		{"pids unlimited", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgfstest.I64(-1)}}, map[string]string{pidsMax: "max"}},
		{"pids zero leaves", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgfstest.I64(0)}}, map[string]string{pidsMax: "10"}},
		{"quota and period", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: cgfstest.I64(20000), Period: cgfstest.U64(50000)}},
			map[string]string{cfsQuota: "20000", cfsPeriod: "50000"}},
		{"period keeps quota", &specs.LinuxResources{CPU: &specs.LinuxCPU{Period: cgfstest.U64(200000)}},
			map[string]string{cfsQuota: "50000", cfsPeriod: "200000"}},
		{"quota keeps period", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: cgfstest.I64(70000)}},
			map[string]string{cfsQuota: "70000", cfsPeriod: "100000"}},
		{"no quota", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: cgfstest.I64(-1)}},
			map[string]string{cfsQuota: "-1", cfsPeriod: "100000"}},
		{"zeros leave cpu", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: cgfstest.I64(0), Period: cgfstest.U64(0), Shares: cgfstest.U64(0)}},
			map[string]string{cfsQuota: "50000", cfsPeriod: "100000", cpuShares: "1024"}},
		{"shares, as at create", &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: cgfstest.U64(2)}},
			map[string]string{cfsQuota: "50000", cfsPeriod: "100000", cpuShares: "2"}},
		{"memory", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(16 << 20)}},
			map[string]string{memoryLimit: "16777216"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t, "memory", "pids", "cpu", "freezer")
			m := newTestManager(t, &fake{}, l)
			if err := m.Create(limits()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Destroy() })
			if err := m.Update(tt.r); err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				c := strings.SplitN(name, ".", 2)[0]
				if got := cgfstest.ReadFile(t, l.dirs[c], name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestUpdateMissingHierarchy(t *testing.T) {
	l := newLayout(t, "memory", "cpu")
	m := newTestManager(t, &fake{}, l)
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	err := m.Update(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgfstest.I64(5)}, Memory: &specs.LinuxMemory{Limit: cgfstest.I64(4096)}})
	if err == nil || !strings.Contains(err.Error(), "no pids hierarchy") {
		t.Fatalf("Update = %v, want an error naming the pids hierarchy", err)
	}
	if got := cgfstest.ReadFile(t, l.dirs["memory"], memoryLimit); got != unlimitedV1 {
		t.Errorf("a failed Update wrote %s = %q", memoryLimit, got)
	}
	if err := m.Update(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgfstest.I64(-1)}}); err != nil {
		t.Errorf("Update to no pids limit without a pids hierarchy: %v", err)
	}
}

// TestUpdateChecksBeforeWriting: a memory plan that fails leaves the other
// controllers untouched too.
func TestUpdateChecksBeforeWriting(t *testing.T) {
	l := newLayout(t, "memory", "pids", "cpu")
	m := newTestManager(t, &fake{}, l)
	if err := m.Create(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: cgfstest.I64(100), Swap: cgfstest.I64(100)}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	err := m.Update(&specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: cgfstest.I64(200)},
		Pids:   &specs.LinuxPids{Limit: cgfstest.I64(7)},
	})
	if err == nil || !strings.Contains(err.Error(), "below the memory limit") {
		t.Fatalf("Update = %v, want the memory+swap error", err)
	}
	if got := cgfstest.ReadFile(t, l.dirs["pids"], pidsMax); got != "max" {
		t.Errorf("pids.max = %q after a refused Update, want it untouched", got)
	}
}
