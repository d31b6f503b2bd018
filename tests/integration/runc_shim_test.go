package integration

// What containerd's runc shim (containerd-shim-runc-v2 1.6, through
// github.com/containerd/go-runc) relies on: it runs every verb with
// --log FILE --log-format json, reads a failure by its exit status and
// its combined output, and after a container's init has exited it kills
// what is left (kill --all ID 9) and may signal the init again (kill ID
// SIGNAL). It takes "container not running" and "does not exist" in a
// failed kill for "already gone"; anything else is an error that stops it
// from processing the exit.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// shimVerb is one command as the shim runs it, and what the shim needs of
// its answer: the exit status and, for a failure, the text it matches in
// the output and in the log's last error.
type shimVerb struct {
	args []string // "ID" stands for the container's ID
	code int
	want string // in stderr and the log's last error; "" for success
}

// runShimVerbs runs the verbs on container id in order, each as the shim
// runs it (with a JSON log of its own), and checks each answer.
func runShimVerbs(t *testing.T, b *ociBundle, id string, verbs []shimVerb) {
	t.Helper()
	for i, v := range verbs {
		args := slices.Clone(v.args)
		for j := range args {
			if args[j] == "ID" {
				args[j] = id
			}
		}
		t.Run(strings.Join(v.args, " "), func(t *testing.T) {
			log := filepath.Join(b.dir, fmt.Sprintf("log-%d.json", i))
			r := runc(t, b, append([]string{"--log", log, "--log-format", "json"}, args...)...)
			if r.code != v.code {
				t.Fatalf("exit code %d, want %d\n%s", r.code, v.code, r)
			}
			last := lastLogError(t, log)
			if v.want == "" {
				if last != "" {
					t.Errorf("success logged an error: %q", last)
				}
				return
			}
			if !strings.Contains(r.stderr, v.want) {
				t.Errorf("stderr lacks %q\n%s", v.want, r)
			}
			if !strings.Contains(last, v.want) {
				t.Errorf("the log's last error %q lacks %q", last, v.want)
			}
		})
	}
}

// lastLogError returns the msg of the last level "error" line of a JSON
// log, as the shim reads it back (getLastRuntimeError); "" if none.
func lastLogError(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var msg string
	for dec := json.NewDecoder(f); ; {
		var line struct{ Level, Msg string }
		err := dec.Decode(&line)
		if err == io.EOF {
			return msg
		}
		if err != nil {
			t.Fatalf("%s: not JSON lines: %v", path, err)
		}
		if line.Level == "error" {
			msg = line.Msg
		}
	}
}

// stoppedContainer creates and starts a container whose init exits at
// once, and waits until it is stopped.
func stoppedContainer(t *testing.T, b *ociBundle, prefix string) string {
	t.Helper()
	id := uniqueName(prefix)
	runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
	runc(t, b, "start", id).wantExit(t, 0)
	b.waitStatus(t, id, specs.StateStopped)
	return id
}

// TestRuncShimAfterExit: once the init has exited, kill of the init fails
// with "container not running" (exit 1), kill --all succeeds with nothing
// to signal, also when the cgroup is gone already, and delete removes the
// container; afterwards every verb fails with "does not exist" except
// delete --force, which has nothing to do.
func TestRuncShimAfterExit(t *testing.T) {
	afterExit := []shimVerb{
		{args: []string{"kill", "--all", "ID", "9"}},
		{args: []string{"kill", "--all", "ID", "TERM"}},
		{args: []string{"kill", "ID", "9"}, code: 1, want: "container not running"},
		{args: []string{"kill", "ID", "15"}, code: 1, want: "container not running"},
		{args: []string{"delete", "ID"}},
		{args: []string{"kill", "--all", "ID", "9"}, code: 1, want: "does not exist"},
		{args: []string{"kill", "ID", "9"}, code: 1, want: "does not exist"},
		{args: []string{"delete", "ID"}, code: 1, want: "does not exist"},
		{args: []string{"delete", "--force", "ID"}},
	}
	for _, tc := range []struct {
		name       string
		dropCgroup bool // remove the container's cgroup before the verbs
	}{
		{"cgroup kept", false},
		{"cgroup gone", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "true")
			id := stoppedContainer(t, b, "exited")
			if tc.dropCgroup {
				removeCgroup(t, b, id)
			}
			runShimVerbs(t, b, id, afterExit)
		})
	}
}

// removeCgroup removes the (empty) cgroup directories of a stopped
// container, where the runtime recorded them in its state: what an
// administrator or a systemd-managed parent may do before delete.
func removeCgroup(t *testing.T, b *ociBundle, id string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.root, id, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		CgroupPaths   map[string]string `json:"cgroupPaths"`
		CgroupUnified string            `json:"cgroupUnified"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	dirs := []string{st.CgroupUnified}
	for _, d := range st.CgroupPaths {
		dirs = append(dirs, d)
	}
	removed := 0
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("remove the stopped container's cgroup: %v", err)
		}
		removed++
	}
	if removed == 0 {
		t.Fatalf("state.json records no cgroup: %s", data)
	}
}

// TestRuncShimKillAllLeftovers: a container without a PID namespace of its
// own (as containers sharing their pod's are) can leave processes in its
// cgroup when its init exits; kill --all of the stopped container signals
// them, and kill still says "container not running".
func TestRuncShimKillAllLeftovers(t *testing.T) {
	b := newBundle(t, "sh", "-c", "sleep 1000 & exit 0")
	b.edit(t, func(s *specs.Spec) {
		s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
			return ns.Type == specs.PIDNamespace
		})
	})
	id := stoppedContainer(t, b, "leftover")
	if pids := psPids(t, b, id); len(pids) != 1 {
		t.Fatalf("ps of the stopped container = %v, want the one sleep its init left", pids)
	}
	runShimVerbs(t, b, id, []shimVerb{
		{args: []string{"kill", "ID", "9"}, code: 1, want: "container not running"},
		{args: []string{"kill", "--all", "ID", "9"}},
	})
	deadline := time.Now().Add(env.timeout)
	for len(psPids(t, b, id)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the leftover process is still in the cgroup %v after kill --all", env.timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	runc(t, b, "delete", id).wantExit(t, 0)
}

// psPids returns the pids of ps --format json, as the shim reads them.
func psPids(t *testing.T, b *ociBundle, id string) []int {
	t.Helper()
	r := runc(t, b, "ps", "--format", "json", id)
	r.wantExit(t, 0)
	var pids []int
	if err := json.Unmarshal([]byte(r.stdout), &pids); err != nil {
		t.Fatalf("ps --format json is not a JSON list of pids: %v\n%s", err, r)
	}
	return pids
}

// TestRuncShimUpdate: containerd updates a container's limits by sending
// the whole linux.resources of its spec on stdin (update --resources -),
// device rules and cpu shares included. What only repeats the container's
// limits is passed over and the new memory limit is written; a limit that
// cannot be changed is still refused when it differs.
func TestRuncShimUpdate(t *testing.T) {
	const mib = 1 << 20
	b := newBundle(t, "sleep", "1000")
	id := uniqueName("shimup")
	mem, shares := int64(64*mib), uint64(2)
	var resources *specs.LinuxResources
	b.edit(t, func(s *specs.Spec) {
		if len(s.Linux.Resources.Devices) == 0 {
			t.Fatal("the default spec has no device rules to repeat")
		}
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem, Swap: &mem}
		s.Linux.Resources.CPU = &specs.LinuxCPU{Shares: &shares}
		resources = s.Linux.Resources
	})
	runDetached(t, b, id)

	newMem := int64(96 * mib)
	resources.Memory = &specs.LinuxMemory{Limit: &newMem, Swap: &newMem}
	doc, err := json.Marshal(resources)
	if err != nil {
		t.Fatal(err)
	}
	if out, code := runcWithStdin(t, b, string(doc), "update", "--resources", "-", id); code != 0 {
		t.Fatalf("update with the spec's resources: exit code %d\n%s", code, out)
	}
	wantMemory(t, id, newMem, newMem)

	otherShares := uint64(512)
	resources.CPU.Shares = &otherShares
	if doc, err = json.Marshal(resources); err != nil {
		t.Fatal(err)
	}
	out, code := runcWithStdin(t, b, string(doc), "update", "--resources", "-", id)
	if code != 1 || !strings.Contains(out, "cpu.shares") {
		t.Errorf("update of the cpu shares: exit code %d, want 1 and a refusal naming cpu.shares\n%s", code, out)
	}
}

// TestRuncShimPidFiles: create and exec --detach write their --pid-file as
// go-runc reads it back (strconv.Atoi of the whole file: the bare decimal
// pid, no newline): the init's pid, and the exec'd process's, which ps
// --format json lists among the container's.
func TestRuncShimPidFiles(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	id := uniqueName("shimpid")
	initFile, execFile := filepath.Join(b.dir, "init.pid"), filepath.Join(b.dir, "exec.pid")
	runc(t, b, "create", "--bundle", b.dir, "--pid-file", initFile, "--no-new-keyring", id).wantExit(t, 0)
	runc(t, b, "start", id).wantExit(t, 0)
	process := b.writeProcess(t, "process.json", &specs.Process{Args: []string{"sleep", "1001"}, Env: []string{"PATH=/bin"}, Cwd: "/"})
	runc(t, b, "exec", "--process", process, "--detach", "--pid-file", execFile, id).wantExit(t, 0)

	readPid := func(path string) int {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(string(data))
		if err != nil {
			t.Fatalf("%s holds %q, not a bare pid: %v", path, data, err)
		}
		return pid
	}
	if pid, st := readPid(initFile), b.state(t, id); pid != st.Pid {
		t.Errorf("--pid-file of create holds %d, state's pid is %d", pid, st.Pid)
	}
	if pid, pids := readPid(execFile), psPids(t, b, id); !slices.Contains(pids, pid) {
		t.Errorf("--pid-file of exec holds %d, not among the container's processes %v", pid, pids)
	}
	runc(t, b, "kill", "--all", id, "9").wantExit(t, 0)
	b.waitStatus(t, id, specs.StateStopped)
	runc(t, b, "delete", id).wantExit(t, 0)
}

// TestRuncShimGlobalFlags: the global flags go-runc puts before every verb
// (--root, --log, --log-format json, and --criu when containerd is
// configured with a criu path) are accepted.
func TestRuncShimGlobalFlags(t *testing.T) {
	b := newBundle(t, "true")
	log := filepath.Join(b.dir, "log.json")
	r := runc(t, b, "--log", log, "--log-format", "json", "--criu", "/usr/sbin/criu", "list", "--format", "json")
	r.wantExit(t, 0)
	if got := lastLogError(t, log); got != "" {
		t.Errorf("a successful list logged an error: %q", got)
	}
}
