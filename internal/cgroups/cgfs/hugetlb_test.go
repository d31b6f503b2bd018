package cgfs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestPlanHugetlb(t *testing.T) {
	limits := func(l ...specs.LinuxHugepageLimit) *specs.LinuxResources {
		return &specs.LinuxResources{HugepageLimits: l}
	}
	for _, tc := range []struct {
		name    string
		files   []string
		r       *specs.LinuxResources
		want    []Write
		wantErr string
	}{
		{"none", nil, &specs.LinuxResources{}, nil, ""},
		{"limit and reservation", []string{"hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", "hugetlb.1GB.max", "hugetlb.1GB.rsvd.max"},
			limits(specs.LinuxHugepageLimit{Pagesize: "2MB", Limit: 4 << 20}, specs.LinuxHugepageLimit{Pagesize: "1GB", Limit: 1 << 30}),
			[]Write{
				{Name: "hugetlb.2MB.max", Value: "4194304", Field: `linux.resources.hugepageLimits[0] (pageSize "2MB", limit 4194304)`},
				{Name: "hugetlb.2MB.rsvd.max", Value: "4194304", Field: `linux.resources.hugepageLimits[0] (pageSize "2MB", limit 4194304)`},
				{Name: "hugetlb.1GB.max", Value: "1073741824", Field: `linux.resources.hugepageLimits[1] (pageSize "1GB", limit 1073741824)`},
				{Name: "hugetlb.1GB.rsvd.max", Value: "1073741824", Field: `linux.resources.hugepageLimits[1] (pageSize "1GB", limit 1073741824)`},
			}, ""},
		{"no reservation accounting", []string{"hugetlb.2MB.max"},
			limits(specs.LinuxHugepageLimit{Pagesize: "2MB", Limit: 0}),
			[]Write{{Name: "hugetlb.2MB.max", Value: "0", Field: `linux.resources.hugepageLimits[0] (pageSize "2MB", limit 0)`}}, ""},
		{"size the kernel lacks", []string{"hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", "hugetlb.2MB.current", "hugetlb.1GB.max"},
			limits(specs.LinuxHugepageLimit{Pagesize: "2MB", Limit: 1}, specs.LinuxHugepageLimit{Pagesize: "3MB", Limit: 1}), nil,
			`linux.resources.hugepageLimits[1]: page size "3MB" is not supported: no hugetlb.3MB.max in DIR (the kernel's page sizes: 1GB, 2MB)`},
		{"a path", []string{"hugetlb.2MB.max"}, limits(specs.LinuxHugepageLimit{Pagesize: "../x", Limit: 1}), nil,
			`linux.resources.hugepageLimits[0]: page size "../x" is not supported: no hugetlb.../x.max in DIR (the kernel's page sizes: 2MB)`},
		{"no hugetlb files", nil, limits(specs.LinuxHugepageLimit{Pagesize: "2MB", Limit: 1}), nil,
			`linux.resources.hugepageLimits[0]: page size "2MB" is not supported: no hugetlb.2MB.max in DIR (the kernel's page sizes: none)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("max"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := PlanHugetlb(dir, tc.r, ".max")
			if tc.wantErr != "" {
				want := strings.ReplaceAll(tc.wantErr, "DIR", dir)
				if err == nil || err.Error() != want {
					t.Fatalf("PlanHugetlb = %v, %v; want error %q", got, err, want)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("PlanHugetlb = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
