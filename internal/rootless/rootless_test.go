package rootless

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
)

func TestParseSubIDs(t *testing.T) {
	const file = "# comment\nalice:100000:65536\nbob:200000:65536\n\n1001:300000:1000\nalice:500000:10\n"
	for _, tc := range []struct {
		name string
		id   int
		want []Range
	}{
		{"alice", 1000, []Range{{100000, 65536}, {500000, 10}}},
		{"bob", 1001, []Range{{200000, 65536}, {300000, 1000}}}, // by name and by uid
		{"carol", 1002, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSubIDs(strings.NewReader(file), tc.name, tc.id)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseSubIDs = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"alice:x:10", "alice:10:0", "alice:4294967295:2"} {
		if _, err := ParseSubIDs(strings.NewReader(bad+"\n"), "alice", 1000); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseSubIDs(%q) = %v; want an error naming line 1", bad, err)
		}
	}
}

func TestMaps(t *testing.T) {
	got := Maps(1001, []Range{{200000, 65536}, {500000, 10}})
	want := []IDMap{{0, 200000, 65536}, {65536, 500000, 10}, {65546, 1001, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Maps = %v; want %v", got, want)
	}
	if a := strings.Join(args(got), " "); a != "0 200000 65536 65536 500000 10 65546 1001 1" {
		t.Errorf("args = %q", a)
	}
	if got := Maps(1001, nil); !reflect.DeepEqual(got, []IDMap{{0, 1001, 1}}) {
		t.Errorf("Maps without ranges = %v; want the user alone, as 0", got)
	}
}

func TestRuntimeDir(t *testing.T) {
	good := t.TempDir()
	if err := os.Chmod(good, 0o700); err != nil {
		t.Fatal(err)
	}
	open := t.TempDir()
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(good, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ value, wantErr string }{
		{"", "is not set"},
		{"relative", "not an absolute path"},
		{filepath.Join(good, "missing"), "no such file"},
		{file, "not a directory"},
		{open, "writable by others"},
		{good, ""},
	} {
		t.Setenv(EnvRuntimeDir, tc.value)
		dir, err := RuntimeDir("minimal-docker/x")
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tc.value, err)
		case tc.wantErr == "":
			if st, err := os.Stat(dir); err != nil || !st.IsDir() || dir != filepath.Join(good, "minimal-docker/x") {
				t.Errorf("%q: dir %s: %v", tc.value, dir, err)
			}
		case err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), EnvRuntimeDir):
			t.Errorf("%q: err %v; want one naming %s and saying %q", tc.value, err, EnvRuntimeDir, tc.wantErr)
		}
	}
}

func TestDataDir(t *testing.T) {
	t.Setenv(EnvDataHome, "/data")
	if d, err := DataDir(); err != nil || d != "/data/minimal-docker" {
		t.Errorf("DataDir = %q, %v", d, err)
	}
	t.Setenv(EnvDataHome, "")
	t.Setenv("HOME", "/home/u")
	if d, err := DataDir(); err != nil || d != "/home/u/.local/share/minimal-docker" {
		t.Errorf("DataDir = %q, %v", d, err)
	}
	t.Setenv("HOME", "")
	if _, err := DataDir(); err == nil {
		t.Error("DataDir without a home: no error")
	}
}

func TestParseHolders(t *testing.T) {
	got := parseHolders([]byte("12 345\nbad line\n0 1\n13 x\n99 100\n"))
	want := []holder{{12, 345}, {99, 100}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseHolders = %v, want %v", got, want)
	}
}

func TestOwnerIn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		um, gm string
		uid    uint32
		want   Owner
	}{
		{"Enter's layout", "0 200000 65536\n65536 1001 1\n", "0 300000 65536\n65536 1002 1\n", 65536,
			Owner{HostUID: 1001, HostGID: 1002, UID: 65536, GID: 65536}},
		{"Podman's layout", "0 1001 1\n1 200000 65536\n", "0 1002 1\n1 300000 65536\n", 0,
			Owner{HostUID: 1001, HostGID: 1002, UID: 0, GID: 0}},
		{"the user alone", "0 1001 1\n", "0 1002 1\n", 0, Owner{HostUID: 1001, HostGID: 1002}},
	} {
		got, err := ownerIn(parseMap(t, tc.um), parseMap(t, tc.gm), tc.uid)
		if err != nil || got != tc.want {
			t.Errorf("%s: ownerIn = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	if _, err := ownerIn(parseMap(t, "0 1001 1\n"), nil, 0); err == nil || !strings.Contains(err.Error(), "gid_map") {
		t.Errorf("ownerIn with no gid line = %v; want an error naming gid_map", err)
	}
	if _, err := ownerIn(parseMap(t, "0 1001 1\n"), parseMap(t, "0 1001 1\n"), 65534); err == nil || !strings.Contains(err.Error(), "uid_map") {
		t.Errorf("ownerIn of an unmapped owner = %v; want an error naming uid_map", err)
	}
}

// parseMap reads a uid_map's text (namespaces.ParseIDMap), or fails the test.
func parseMap(t *testing.T, text string) []specs.LinuxIDMapping {
	t.Helper()
	m, err := namespaces.ParseIDMap([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
