package integration

// The tests of --explain check what it prints against what the kernel
// shows: the cgroup values it says it wrote are the files' contents while
// the container runs, the capability sets it says the init set are
// /proc/1/status's in the container, the /proc mount it says the init made
// is in the container's mount table with its flags, and the exit line
// gives the exit status minimal-docker exits with (and the OOM kill).
//
// They read these line texts (package explain fixes the parent's two; the
// init's are plan.Op.Describe's, whose doc gives them):
//
//	cgroup write PATH "VALUE"                   (parent; explain.Log.Cgroup as cgroups.SetTrace's TraceFunc)
//	... exit status N ...                       (parent, one line; explain.Log.Exit:
//	                                             exit status N[ (signal SIGNAME)][, oom_kill K])
//	... oom_kill K ... or ... OOM kills ...: K  (parent)
//	capset effective CAP_A, CAP_B; permitted ...; inheritable (none); ambient (none)   (init)
//	bounding set: keep CAP_A, CAP_B, drop every other                                  (init)
//	mount SOURCE on TARGET (FSTYPE[, FLAGS[, DATA]])[ [NOTE]]  (init; FLAGS by name, joined by "|":
//	                                             mount proc on /proc (proc, nosuid|nodev|noexec))

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

// capSets reads the sets of the init's capset line (plan.Op.Describe's
// form: `capset effective CAP_A, CAP_B; permitted ...; inheritable
// (none); ambient (none)`) into masks as /proc/PID/status prints them.
func capSets(t *testing.T, text string, keys ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	rest, ok := strings.CutPrefix(text, "capset ")
	if !ok {
		t.Fatalf("%q: not `capset SET NAMES; ...`", text)
	}
	for _, part := range strings.Split(rest, "; ") {
		k, v, ok := strings.Cut(part, " ")
		if !ok {
			t.Fatalf("%q: %q is not `SET NAMES`", text, part)
		}
		out[k] = capMaskOf(t, text, v)
	}
	for _, k := range keys {
		if _, ok := out[k]; !ok {
			t.Fatalf("%q has no %s set", text, k)
		}
	}
	return out
}

// capMaskOf is the mask of a list of capability names ("CAP_A, CAP_B";
// "(none)": none) read from line.
func capMaskOf(t *testing.T, line, list string) string {
	t.Helper()
	var bits []uint
	if list == "(none)" {
		return capMask()
	}
	for _, name := range strings.Split(list, ", ") {
		c, ok := caps.Lookup(name)
		if !ok {
			t.Fatalf("%q: unknown capability %q", line, name)
		}
		bits = append(bits, uint(c))
	}
	return capMask(bits...)
}

// boundingKeep reads the kept set of the init's bounding-set line
// (plan.Op.Describe's form: `bounding set: keep CAP_A, CAP_B, drop every
// other`).
func boundingKeep(t *testing.T, text string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(text, "bounding set: keep ")
	if rest, ok = strings.CutSuffix(rest, ", drop every other"); !ok {
		t.Fatalf("%q: not `bounding set: keep NAMES, drop every other`", text)
	}
	return capMaskOf(t, text, rest)
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
			bounding := explainTexts(lines, explain.Init, "bounding")
			if len(capset) != 1 || len(bounding) != 1 {
				t.Fatalf("want one capset and one bounding-set line of the init, have %q and %q\n%s", capset, bounding, r)
			}
			sets := capSets(t, capset[0], "effective", "permitted", "inheritable", "ambient")
			keep := boundingKeep(t, bounding[0])
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

// mountLine reads `mount SOURCE on TARGET (FSTYPE[, FLAGS[, DATA]])`,
// FLAGS joined by "|", maybe followed by a note on the path (" [mkdir]").
var mountLine = regexp.MustCompile(`^mount (\S+) on (\S+) \(([^,()]+)(?:, ([^,()]*))?(?:, ([^()]*))?\)(?: \[[^\]]*\])?$`)

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
			if strings.Contains(text, " on /proc ") {
				t.Errorf("cannot read %q: want `mount SOURCE on TARGET (FSTYPE, FLAGS[, DATA])`", text)
			}
			continue // another mount, in a form this test does not read
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

// exitStatus finds the exit status in the parent's exit line
// (explain.Log.Exit's `exit status N[ (signal S)][, oom_kill K]`, or any
// line that says "exit status N"); oomKills the cgroup's OOM kill counter
// in a parent line (`oom_kill K`, or `OOM kills ...: K`).
var (
	exitStatus = regexp.MustCompile(`\bexit status (\d+)\b`)
	oomKills   = regexp.MustCompile(`(?:\boom_kill|\bOOM kills[^:]*:) (\d+)`)
)

// TestExplainExit: the exit line gives the status minimal-docker exits
// with and the signal that killed the process (SIGKILL from the host: PID
// 1 of a pid namespace cannot be killed from inside it), and a parent line
// gives the OOM kill counter.
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
			var exits []string
			oom := -1
			for _, l := range explainLines(t, r.stderr) {
				if l.Who != explain.Parent {
					continue
				}
				if exitStatus.MatchString(l.Text) {
					exits = append(exits, l.Text)
				}
				if m := oomKills.FindStringSubmatch(l.Text); m != nil {
					oom, _ = strconv.Atoi(m[1])
				}
			}
			if len(exits) != 1 {
				t.Fatalf("want one parent line with the exit status, have %q\n%s", exits, r)
			}
			if got := exitStatus.FindStringSubmatch(exits[0])[1]; got != strconv.Itoa(tc.status) {
				t.Errorf("%q: exit status %s, want %d", exits[0], got, tc.status)
			}
			if tc.signal != "" && !strings.Contains(exits[0], tc.signal) {
				t.Errorf("%q does not name the signal %s", exits[0], tc.signal)
			}
			if tc.signal == "" && strings.Contains(exits[0], "SIG") {
				t.Errorf("%q names a signal; none killed the process", exits[0])
			}
			if oom < 0 {
				t.Errorf("no parent line gives the cgroup's OOM kill counter (oom_kill K)\n%s", r)
			} else if (oom > 0) != tc.oom {
				t.Errorf("OOM kill counter %d; want an OOM kill: %v", oom, tc.oom)
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
