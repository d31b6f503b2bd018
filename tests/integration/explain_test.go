package integration

// The tests of --explain check what it prints against what the kernel
// shows: the cgroup values it says it wrote are the files' contents while
// the container runs, the capability sets it says the init set are
// /proc/1/status's in the container, the /proc mount it says the init made
// is in the container's mount table with its flags, and the exit line
// gives the exit status minimal-docker exits with (and the OOM kill).
//
// They read these line texts (package explain fixes the first two; the
// init's come from plan.Op.Describe):
//
//	cgroup write PATH "VALUE"                       (parent; explain.Log.Cgroup)
//	exit status N[ (signal SIGNAME)][, oom_kill K]  (parent; explain.Log.Exit)
//	capset effective=CAP_A,CAP_B permitted=... inheritable=... ambient=...   (init; an empty set: nothing after "=")
//	bounding-set keep=CAP_A,CAP_B...                (init; may go on after the list: " drop=...")
//	mount proc on /proc (proc, nosuid|nodev|noexec[, DATA])                  (init)

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/caps"
	"github.com/minimal-docker/minimal-docker/internal/explain"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// explainLines parses the explain lines of a run's stderr, and fails the
// test if there are none.
func explainLines(t *testing.T, stderr string) []explain.Line {
	t.Helper()
	var lines []explain.Line
	for _, s := range strings.Split(stderr, "\n") {
		if l, ok := explain.Parse(s); ok {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		t.Fatalf("no explain line on stderr:\n%s", testenv.Indent(stderr))
	}
	return lines
}

// explainTexts lists the texts of who's lines that start with prefix.
func explainTexts(lines []explain.Line, who, prefix string) []string {
	var out []string
	for _, l := range lines {
		if l.Who == who && strings.HasPrefix(l.Text, prefix) {
			out = append(out, l.Text)
		}
	}
	return out
}

// cgroupWrite is a successful write that a `cgroup write` line reports.
type cgroupWrite struct{ path, value string }

// cgroupWrites reads the parent's `cgroup write PATH "VALUE"` lines, in
// order; failed writes (": ERROR" after the value) are left out.
func cgroupWrites(t *testing.T, lines []explain.Line) []cgroupWrite {
	t.Helper()
	var out []cgroupWrite
	for _, text := range explainTexts(lines, explain.Parent, "cgroup write ") {
		rest := strings.TrimPrefix(text, "cgroup write ")
		path, quoted, ok := strings.Cut(rest, ` "`)
		if !ok {
			t.Fatalf("cannot read %q: want `cgroup write PATH \"VALUE\"`", text)
		}
		q, err := strconv.QuotedPrefix(`"` + quoted)
		if err != nil {
			t.Fatalf("cannot read the value of %q: %v", text, err)
		}
		if len(q) != len(quoted)+1 {
			continue // ": ERROR" follows: a failed write
		}
		value, _ := strconv.Unquote(q)
		out = append(out, cgroupWrite{path, value})
	}
	return out
}

// TestExplainCgroupValues: every value --explain says the runtime wrote to
// a cgroup file is what the file holds while the container runs (the last
// one written, for a file written twice), the container's process is what
// it wrote to cgroup.procs, and the limits asked for are among them.
func TestExplainCgroupValues(t *testing.T) {
	testenv.RequireRoot(t)
	cidfile := filepath.Join(t.TempDir(), "cid")
	p := startWithStdin(t, runArgs([]string{"--explain", "-i", "--cidfile", cidfile, "-m", "48m", "--pids-limit", "20", "--cpus", "0.25"}, waitScript...)...)
	p.waitLine(t, "ready")
	id := readCID(t, cidfile)
	pid := p.containerPID(t)
	writes := cgroupWrites(t, explainLines(t, p.stderr.String()))
	last := map[string]string{}
	var order []string
	for _, w := range writes {
		if _, ok := last[w.path]; !ok {
			order = append(order, w.path)
		}
		last[w.path] = w.value
	}
	memDir := containerCgroupDir(t, "memory", "", id)
	memFile := "memory.limit_in_bytes"
	if isV2() {
		memFile = "memory.max"
	}
	if last[filepath.Join(memDir, memFile)] != strconv.Itoa(48<<20) {
		t.Errorf("no `cgroup write %s \"%d\"` line (the -m 48m limit); the writes: %q", filepath.Join(memDir, memFile), 48<<20, writes)
	}
	procs := false
	for _, path := range order {
		value := last[path]
		switch name := filepath.Base(path); name {
		case "devices.allow", "devices.deny", "cgroup.kill":
			t.Logf("%s = %q: a file that cannot be read back", path, value)
		case "cgroup.procs":
			if !cgroupHasPID(t, filepath.Dir(path), pid) {
				t.Errorf("container PID 1 (host pid %d) is not in %s", pid, path)
			}
			procs = procs || value == strconv.Itoa(pid)
		case "cgroup.subtree_control":
			have := strings.Fields(readFile(t, path))
			for _, c := range strings.Fields(value) {
				if c = strings.TrimPrefix(c, "+"); !contains(have, c) {
					t.Errorf("%s: wrote %q, the file lists %q", path, value, have)
				}
			}
		default:
			got := readFile(t, path)
			if got != value && !(value == "-1" && name == "memory.limit_in_bytes" && parseIntOrMax(t, got) >= unlimitedMemoryV1) {
				t.Errorf("--explain says %s = %q; the file holds %q", path, value, got)
			}
		}
	}
	if !procs {
		t.Errorf("no `cgroup write .../cgroup.procs \"%d\"` line: the container's process moved into its cgroup; the writes: %q", pid, writes)
	}
	p.release(t)
	p.wait(t).wantExit(t, 0)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// capSets reads `KEY=CAP_A,CAP_B` fields (an empty set: nothing after
// "=") into masks as /proc/PID/status prints them.
func capSets(t *testing.T, text string, keys ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range strings.Fields(text)[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		var bits []uint
		for _, name := range strings.Split(v, ",") {
			if name == "" {
				continue
			}
			c, ok := caps.Lookup(name)
			if !ok {
				t.Fatalf("%q: unknown capability %q", text, name)
			}
			bits = append(bits, uint(c))
		}
		out[k] = capMask(bits...)
	}
	for _, k := range keys {
		if _, ok := out[k]; !ok {
			t.Fatalf("%q has no %s=", text, k)
		}
	}
	return out
}

// TestExplainCapabilities: the sets --explain says the init gave the
// process (capset, bounding-set) are those /proc/1/status shows in the
// container (its process runs as root, with no inheritable or ambient
// capabilities: execve keeps the sets as they are).
func TestExplainCapabilities(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"default", nil},
		{"cap-drop", []string{"--cap-drop", "CHOWN", "--cap-drop", "KILL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, append([]string{"--explain"}, tc.flags...), "cat", "/proc/1/status")
			r.wantExit(t, 0)
			st := testenv.StatusFields(r.stdout)
			lines := explainLines(t, r.stderr)
			capset := explainTexts(lines, explain.Init, "capset ")
			bounding := explainTexts(lines, explain.Init, "bounding-set ")
			if len(capset) != 1 || len(bounding) != 1 {
				t.Fatalf("want one capset and one bounding-set line of the init, have %q and %q\n%s", capset, bounding, r)
			}
			sets := capSets(t, capset[0], "effective", "permitted", "inheritable", "ambient")
			keep := capSets(t, bounding[0], "keep")["keep"]
			for field, want := range map[string]string{
				"CapEff": sets["effective"], "CapPrm": sets["permitted"], "CapInh": sets["inheritable"],
				"CapAmb": sets["ambient"], "CapBnd": keep,
			} {
				if st[field] != want {
					t.Errorf("/proc/1/status %s = %s; --explain says %s (%q, %q)", field, st[field], want, capset[0], bounding[0])
				}
			}
		})
	}
}

// mountLine reads `mount SOURCE on TARGET (FSTYPE, FLAGS[, DATA])`.
var mountLine = regexp.MustCompile(`^mount (\S+) on (\S+) \(([^,()]+), ([^,()]*)(?:, (.*))?\)$`)

// TestExplainProcMount: --explain shows the init mounting proc on /proc
// with nosuid, nodev and noexec, and the container's mount table has that
// mount with every flag it printed.
func TestExplainProcMount(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, []string{"--explain"}, "cat", "/proc/self/mountinfo")
	r.wantExit(t, 0)
	var flags []string
	for _, text := range explainTexts(explainLines(t, r.stderr), explain.Init, "mount ") {
		m := mountLine.FindStringSubmatch(text)
		if m == nil {
			t.Errorf("cannot read %q: want `mount SOURCE on TARGET (FSTYPE, FLAGS[, DATA])`", text)
			continue
		}
		if m[2] == "/proc" && m[3] == "proc" {
			flags = strings.Split(m[4], "|")
		}
	}
	if flags == nil {
		t.Fatalf("no `mount proc on /proc (proc, ...)` line of the init\n%s", r)
	}
	for _, f := range []string{"nosuid", "nodev", "noexec"} {
		if !contains(flags, f) {
			t.Errorf("the /proc mount's flags %q lack %s", flags, f)
		}
	}
	mounts, err := testenv.ParseMountinfo(r.stdout)
	if err != nil {
		t.Fatal(err)
	}
	var options string
	for _, m := range mounts {
		if m.Mountpoint == "/proc" && m.FSType == "proc" {
			options = m.Options
		}
	}
	if options == "" {
		t.Fatalf("no proc mount on /proc in the container\n%s", r.stdout)
	}
	// The flags that show as per-mount options (MS_REC, MS_BIND and the
	// propagation flags do not).
	shown := map[string]bool{"nosuid": true, "nodev": true, "noexec": true, "ro": true, "noatime": true, "nodiratime": true, "relatime": true, "strictatime": true}
	for _, f := range flags {
		if shown[f] && !hasOption(options, f) {
			t.Errorf("--explain says /proc is mounted %s; the container's mountinfo says %q", f, options)
		}
	}
}

// exitLine reads the parent's `exit status N[ (signal S)][, oom_kill K]`.
var exitLine = regexp.MustCompile(`^exit status (\d+)(?: \(signal (\w+)\))?(?:, oom_kill (\d+))?$`)

// TestExplainExit: the exit line gives the status minimal-docker exits
// with, the signal that killed the process (SIGKILL from the host: PID 1
// of a pid namespace cannot be killed from inside it), and the OOM kill
// counter.
func TestExplainExit(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tc := range []struct {
		name    string
		flags   []string
		command []string
		kill    bool // SIGKILL the container's PID 1 once it printed "ready"
		status  int
		signal  string
		oom     bool // oom_kill at least 1
	}{
		{"status", nil, []string{"sh", "-c", "exit 3"}, false, 3, "", false},
		{"success", nil, []string{"true"}, false, 0, "", false},
		{"signal", nil, []string{"sh", "-c", "echo ready; sleep 100"}, true, 137, "SIGKILL", false},
		{"out of memory", []string{"-m", "32m"}, []string{"probe", "mem", "200"}, false, 137, "SIGKILL", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, runArgs(append([]string{"--explain"}, tc.flags...), tc.command...)...)
			if tc.kill {
				p.waitLine(t, "ready")
				if err := syscall.Kill(p.containerPID(t), syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
			r := p.wait(t)
			r.wantExit(t, tc.status)
			exits := explainTexts(explainLines(t, r.stderr), explain.Parent, "exit ")
			if len(exits) != 1 {
				t.Fatalf("want one exit line, have %q\n%s", exits, r)
			}
			m := exitLine.FindStringSubmatch(exits[0])
			if m == nil {
				t.Fatalf("cannot read %q: want `exit status N[ (signal S)][, oom_kill K]`", exits[0])
			}
			if m[1] != strconv.Itoa(tc.status) || m[2] != tc.signal {
				t.Errorf("%q: want status %d, signal %q", exits[0], tc.status, tc.signal)
			}
			if oom := m[3] != "" && m[3] != "0"; oom != tc.oom {
				t.Errorf("%q: oom_kill %q, want an OOM kill: %v", exits[0], m[3], tc.oom)
			}
		})
	}
}

// TestExplainOff: without --explain, nothing is explained.
func TestExplainOff(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, nil, "true")
	r.wantExit(t, 0)
	if strings.Contains(r.stderr, "explain:") {
		t.Errorf("explain lines without --explain\n%s", r)
	}
}
