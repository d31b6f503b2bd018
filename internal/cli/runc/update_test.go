package runc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1048576", 1 << 20, true},
		{"-1", -1, true},
		{"0", 0, true},
		{"512m", 512 << 20, true},
		{"512MB", 512 << 20, true},
		{"1g", 1 << 30, true},
		{"1GiB", 1 << 30, true},
		{"64k", 64 << 10, true},
		{"1.5g", 3 << 29, true},
		{"100b", 100, true},
		{"-2", 0, false},
		{"12x", 0, false},
		{"", 0, false},
		{"99999999999p", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// parseUpdate parses args as update's flags and builds the update.
func parseUpdate(t *testing.T, stdin string, args ...string) (*specs.LinuxResources, error) {
	t.Helper()
	f := &updateFlags{}
	c := &cobra.Command{Use: "update"}
	f.register(c)
	if err := c.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return f.resourcesFrom(c, strings.NewReader(stdin))
}

func TestUpdateFlags(t *testing.T) {
	r, err := parseUpdate(t, "", "--memory", "64m", "--memory-swap", "-1", "--pids-limit", "20",
		"--cpu-quota", "50000", "--cpu-period", "100000")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(r)
	want := `{"memory":{"limit":67108864,"swap":-1},"cpu":{"quota":50000,"period":100000},"pids":{"limit":20}}`
	if string(got) != want {
		t.Errorf("update = %s\nwant     %s", got, want)
	}

	r, err = parseUpdate(t, "", "--pids-limit", "7")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(r); string(got) != `{"memory":{},"cpu":{},"pids":{"limit":7}}` {
		t.Errorf("flags not given are set: %s", got)
	}

	r, err = parseUpdate(t, "", "--cpuset-cpus", "0-1", "--cpuset-mems", "0", "--kernel-memory", "64m")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(r); string(got) != `{"memory":{"kernel":67108864},"cpu":{"cpus":"0-1","mems":"0"}}` {
		t.Errorf("cpuset and kernel memory flags: %s", got)
	}

	r, err = parseUpdate(t, "", "--cpu-share", "512", "--blkio-weight", "300")
	if err != nil {
		t.Fatal(err)
	}
	if r.CPU.Shares == nil || *r.CPU.Shares != 512 || r.BlockIO == nil || *r.BlockIO.Weight != 300 {
		t.Errorf("unsupported flags not carried to the check: %+v", r)
	}
}

func TestUpdateResources(t *testing.T) {
	const doc = `{"memory":{"limit":33554432,"swap":67108864},"pids":{"limit":5}}`
	file := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
	}{
		{"file", "", []string{"--resources", file}},
		{"stdin", doc, []string{"-r", "-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseUpdate(t, tc.stdin, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(r); string(got) != doc {
				t.Errorf("resources = %s, want %s", got, doc)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"with a flag", doc, []string{"-r", "-", "--memory", "1m"}, "cannot be combined"},
		{"bad json", "{", []string{"-r", "-"}, "not a linux.resources JSON"},
		{"missing file", "", []string{"-r", filepath.Join(t.TempDir(), "nope")}, "no such file"},
		{"bad size", "", []string{"--memory", "lots"}, "invalid --memory"},
		{"rdt", "", []string{"--l3-cache-schema", "L3:0=f"}, "Intel RDT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseUpdate(t, tc.stdin, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
