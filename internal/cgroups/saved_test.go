package cgroups

import (
	"reflect"
	"testing"
)

// TestSaveRestore: what Save records, Restore turns back into a Manager of
// the same directories, in both modes.
func TestSaveRestore(t *testing.T) {
	for _, s := range []Saved{
		{Mode: "hybrid", Paths: map[string]string{"memory": "/m/x", "pids": "/p/x", "cpu": "/c/x", "freezer": "/f/x"}, Made: []string{"/m/x", "/p/x", "/c/x", "/f/x"}},
		{Mode: "hybrid", Paths: map[string]string{"memory": "/m/x", "pids": "/p/x", "cpu": "/c/x"}, Made: []string{"/m/x", "/p/x", "/c/x"}},
		{Mode: "hybrid", Paths: map[string]string{"memory": "/m/x", "pids": "/p/x", "cpu": "/c/x", "freezer": "/f/x", "devices": "/d/x"}, Made: []string{"/m/x", "/p/x", "/c/x", "/f/x", "/d/x"}},
		{Mode: "hybrid", Paths: map[string]string{"memory": "/m/x", "pids": "/p/x", "cpuset": "/cs/x"}, Made: []string{"/m/x", "/p/x", "/cs/x"},
			Unified: "/u/x", UnifiedMade: []string{"/u/x"}},
		{Mode: "v2", Paths: map[string]string{"": "/u/x"}, Made: []string{"/u/x"}},
	} {
		m, err := Restore(s)
		if err != nil {
			t.Fatal(err)
		}
		if m.Mode().String() != s.Mode {
			t.Errorf("mode %v, want %s", m.Mode(), s.Mode)
		}
		if got := Save(m); !reflect.DeepEqual(got, s) {
			t.Errorf("Save(Restore(%+v)) = %+v", s, got)
		}
	}
	// A v2 record of before, with the directory under each controller.
	old := Saved{Mode: "v2", Paths: map[string]string{"memory": "/u/x", "pids": "/u/x", "cpu": "/u/x", "cpuset": "/u/x", "blkio": "/u/x",
		"hugetlb": "/u/x", "freezer": "/u/x", "devices": "/u/x"}, Made: []string{"/u/x"}}
	if m, err := Restore(old); err != nil || m.Path("") != "/u/x" {
		t.Errorf("Restore of a v2 record of before: %v, %v; want the directory /u/x", m, err)
	}
	if _, err := Restore(Saved{Mode: "v3"}); err == nil {
		t.Error("Restore of an unknown mode: want error")
	}
}
