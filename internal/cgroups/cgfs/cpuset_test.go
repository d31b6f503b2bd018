package cgfs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseList(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []int
		wantErr string
	}{
		{"0", []int{0}, ""},
		{"0-3", []int{0, 1, 2, 3}, ""},
		{"0-1,4,6-7", []int{0, 1, 4, 6, 7}, ""},
		{"3,1,1-2", []int{1, 2, 3}, ""},
		{" 1 , 2 ", []int{1, 2}, ""},
		{"", nil, "empty list"},
		{"a", nil, `"a" is not a number`},
		{"1-", nil, `"" is not a number`},
		{"-1", nil, `"" is not a number`},
		{"3-1", nil, `range "3-1" runs backwards`},
		{"1,,2", nil, `"" is not a number`},
		{"+1", nil, `"+1" is not a number`},
		{"0-65536", nil, "65536 is too large"},
	} {
		got, err := ParseList(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseList(%q) = %v, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseList(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestPlanCpuset(t *testing.T) {
	cpu := func(cpus, mems string) *specs.LinuxResources {
		return &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: cpus, Mems: mems}}
	}
	for _, tc := range []struct {
		name                   string
		r                      *specs.LinuxResources
		parentCpus, parentMems string
		want                   []Write
		wantErr                string
	}{
		{"nothing asked", &specs.LinuxResources{}, "0-3", "0", nil, ""},
		{"both", cpu("1-2", "0"), "0-3", "0", []Write{
			{Name: CpusetCpus, Value: "1-2", Field: `linux.resources.cpu.cpus "1-2"`},
			{Name: CpusetMems, Value: "0", Field: `linux.resources.cpu.mems "0"`},
		}, ""},
		{"cpus only", cpu("3", ""), "0-3", "0", []Write{{Name: CpusetCpus, Value: "3", Field: `linux.resources.cpu.cpus "3"`}}, ""},
		{"parent unknown: the kernel judges", cpu("0-63", ""), "", "", []Write{{Name: CpusetCpus, Value: "0-63", Field: `linux.resources.cpu.cpus "0-63"`}}, ""},
		{"CPUs not available", cpu("0-7", ""), "0-3", "0", nil,
			"linux.resources.cpu.cpus: requested CPUs are not available - requested 0-7, available: 0-3"},
		{"nodes not available", cpu("", "1"), "0-3", "0", nil,
			"linux.resources.cpu.mems: requested memory nodes are not available - requested 1, available: 0"},
		{"bad list", cpu("x", ""), "0-3", "0", nil, `linux.resources.cpu.cpus "x": "x" is not a number >= 0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PlanCpuset(tc.r, tc.parentCpus, tc.parentMems)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("PlanCpuset = %v, %v; want error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("PlanCpuset = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestWriteDoNamesField(t *testing.T) {
	dir := t.TempDir()
	err := Write{Name: "cpuset.cpus", Value: "1", Field: `linux.resources.cpu.cpus "1"`}.Do(dir)
	want := `linux.resources.cpu.cpus "1": write ` + filepath.Join(dir, "cpuset.cpus") + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("Do = %v, want %q", err, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "a"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err = WriteAll(dir, []Write{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}, {Name: "a", Value: "3"}})
	if err == nil || !strings.HasPrefix(err.Error(), "write "+filepath.Join(dir, "b")) {
		t.Errorf("WriteAll = %v, want the error of the write of b", err)
	}
	if got, _ := ReadFile(dir, "a"); got != "1" {
		t.Errorf("a = %q: WriteAll went on after a failed write", got)
	}
}
