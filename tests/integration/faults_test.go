package integration

// Faults of detached containers: a kill -9 of the CLI at each step of
// run -d, stop and rm (the steps --log-level debug names; killAt, as the
// runtime's crash tests do), a full disk under the log, and 100 run -d of
// one name at once. After each, ps -a tells the truth (the container as
// the kernel says it is, or absent when no record was made), and rm -f
// (prune when there is no record) leaves nothing: no record, name,
// writable layer, runtime state, cgroup, mount or process. The kills of
// the monitor and of the container's PID 1 are in detached_test.go
// (TestDetachedMonitorKilled).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	kproc "github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// mdCmd is minimal-docker --root root --log-level debug ARGS, to start
// (killAt).
func mdCmd(root string, args ...string) *exec.Cmd {
	return exec.Command(env.bin, append([]string{"--root", root, "--log-level", "debug"}, args...)...)
}

// debugSteps are the steps a verb names at --log-level debug.
func debugSteps(t *testing.T, root string, args ...string) []string {
	t.Helper()
	r := mdi(t, root, append([]string{"--log-level", "debug"}, args...)...)
	r.wantExit(t, 0)
	return stepNames(t, r)
}

// storedIDs are the container directories under root's store (a record
// or what a killed create left).
func storedIDs(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, store.DirName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		if regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids
}

// initOf is the container's init as its pid file says, if it runs.
func initOf(root, id string) (pid int, running bool) {
	b, err := os.ReadFile(filepath.Join(root, store.DirName, id, "init.pid"))
	if err != nil {
		return 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	st, err := kproc.StartTime(pid)
	if err != nil {
		return pid, false
	}
	ok, err := kproc.Alive(pid, st)
	return pid, err == nil && ok
}

// wantTruth fails the test unless ps -a shows the container named name
// as the kernel says it is: absent without a record, Up while its init
// runs, else Created (never started) or Exited (code) (it ran: exited
// gives what the container's monitor recorded, which takes a moment). A
// command the killed one had started (a runtime's kill) may end the
// process while ps runs: the kernel is asked before and after, and again
// until the two agree.
func wantTruth(t *testing.T, root, name, id string, exited string) {
	t.Helper()
	if id == "" || !fileExists(filepath.Join(root, store.DirName, id, "container.json")) {
		if got := psStatus(t, root, name); got != "" {
			t.Errorf("ps -a shows %q; want nothing (no record was made)", got)
		}
		return
	}
	waitFor(t, "ps -a showing "+name+" as the kernel says", func() bool {
		_, before := initOf(root, id)
		got := psStatus(t, root, name)
		_, after := initOf(root, id)
		switch {
		case before != after:
			return false // it started or ended meanwhile: look again
		case after:
			if !strings.HasPrefix(got, name+" Up ") {
				t.Errorf("ps -a: %q; want %s Up (its process runs)", got, name)
			}
			return true
		default: // Up still while its monitor records the exit
			return strings.HasPrefix(got, name+" "+exited)
		}
	})
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// wantRootClean fails the test for anything of container id (named
// name) left under root or on the host: its record, name, writable layer,
// runtime state, a ~removing- directory, its cgroups, a mount under root,
// a noted process or any process whose command line names the ID (its
// monitor, a runtime command), each given env.timeout to go.
func wantRootClean(t *testing.T, root, name, id string, procs []noted) {
	t.Helper()
	if id != "" {
		checkGone(t, filepath.Join(root, "runtime"), id, procs)
		waitFor(t, "no process naming "+id[:12], func() bool { return len(processesNaming(id)) == 0 })
	}
	for _, p := range []string{
		filepath.Join(root, store.DirName, "names", name),
	} {
		if fileExists(p) {
			t.Errorf("left: %s", p)
		}
	}
	if ids := storedIDs(t, root); len(ids) != 0 {
		t.Errorf("left in containers/: %v", ids)
	}
	for _, dir := range []string{store.DirName, "writable", "runtime"} {
		entries, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range entries {
			if n := e.Name(); n != "names" && n != "names.lock" {
				t.Errorf("left in %s/: %s", dir, n)
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(b), root+"/") {
		t.Errorf("a mount under %s left", root)
	}
}

// processesNaming lists the processes whose command line holds s.
func processesNaming(s string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(s)) {
			if st, err := kproc.StartTime(pid); err == nil {
				if ok, _ := kproc.Alive(pid, st); ok {
					pids = append(pids, pid)
				}
			}
		}
	}
	return pids
}

// removeAll removes what ps -a lists (rm -f) or, without a record, what
// a killed run left (prune), and wants exit 0.
func removeAll(t *testing.T, root, name, id string) {
	t.Helper()
	if id != "" && fileExists(filepath.Join(root, store.DirName, id, "container.json")) {
		mdi(t, root, "rm", "-f", name).wantExit(t, 0)
		return
	}
	mdi(t, root, "prune", "-f").wantExit(t, 0)
}

// TestFaultKillRunDetached: run -d (of an image: its writable layer too)
// killed after each step: ps -a shows what was made as it is (nothing,
// Created, Up), and rm -f (prune without a record) leaves nothing.
func TestFaultKillRunDetached(t *testing.T) {
	images := t.TempDir()
	importBusybox(t, images, "test/bb")
	steps := debugSteps(t, images, "run", "-d", "--name", "ref", "test/bb", "sleep", "1000")
	mdi(t, images, "rm", "-f", "ref").wantExit(t, 0)
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			root := t.TempDir()
			importBusybox(t, root, "test/bb")
			name := "killed-run"
			procs, out := killAt(t, mdCmd(root, "run", "-d", "--name", name, "test/bb", "sleep", "1000"), step)
			ids := storedIDs(t, root)
			if len(ids) > 1 {
				t.Fatalf("one run -d made %d container directories", len(ids))
			}
			id := ""
			if len(ids) == 1 {
				id = ids[0]
			}
			pid, _ := initOf(root, id)
			t.Cleanup(func() { killPid(pid) })
			wantTruth(t, root, name, id, "Created")
			removeAll(t, root, name, id)
			wantRootClean(t, root, name, id, procs)
			if t.Failed() {
				t.Logf("the killed command's output:\n%s", out)
			}
		})
	}
}

// killPid kills pid if it is still the container's process (a test that
// failed before rm): by pid, at the test's end.
func killPid(pid int) {
	if pid <= 0 {
		return
	}
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		unix.Close(fd)
	}
}

// TestFaultKillStop: stop killed after each step: the container is Up
// while its process runs, else Exited (137) (the SIGKILL sent), and stop
// and rm -f still work on it.
func TestFaultKillStop(t *testing.T) {
	ref := t.TempDir()
	detached(t, ref, "--name", "ref", env.rootfs, "sleep", "1000")
	steps := debugSteps(t, ref, "stop", "-t", "1", "ref")
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			root := t.TempDir()
			name := "killed-stop"
			id := detached(t, root, "--name", name, env.rootfs, "sleep", "1000")
			c := inspectContainer(t, root, name)
			procs, out := killAt(t, mdCmd(root, "stop", "-t", "1", name), step)
			wantTruth(t, root, name, id, "Exited (137)")
			mdi(t, root, "stop", "-t", "1", name).wantExit(t, 0)
			if got := psStatus(t, root, name); !strings.HasPrefix(got, name+" Exited (137) ") {
				t.Errorf("ps -a after a second stop: %q, want Exited (137)", got)
			}
			mdi(t, root, "rm", "-f", name).wantExit(t, 0)
			wantRootClean(t, root, name, id, procs)
			wantNothingLeft(t, root, c)
			if t.Failed() {
				t.Logf("the killed command's output:\n%s", out)
			}
		})
	}
}

// TestFaultKillRm: rm -f (of an image's running container) killed after
// each step: ps -a shows the container as it is (Exited (137) once
// killed) or not at all once its record is gone, and rm -f (or prune)
// again leaves nothing.
func TestFaultKillRm(t *testing.T) {
	images := t.TempDir()
	importBusybox(t, images, "test/bb")
	detached(t, images, "--name", "ref", "test/bb", "sleep", "1000")
	steps := debugSteps(t, images, "rm", "-f", "ref")
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			root := t.TempDir()
			importBusybox(t, root, "test/bb")
			name := "killed-rm"
			id := detached(t, root, "--name", name, "test/bb", "sleep", "1000")
			c := inspectContainer(t, root, name)
			procs, out := killAt(t, mdCmd(root, "rm", "-f", name), step)
			wantTruth(t, root, name, id, "Exited (137)")
			removeAll(t, root, name, id)
			wantRootClean(t, root, name, id, procs)
			wantNothingLeft(t, root, c)
			if t.Failed() {
				t.Logf("the killed command's output:\n%s", out)
			}
		})
	}
}

// TestFaultLogDiskFull: with the disk under the log full, the container
// keeps running and its output is lost; once space is free again the
// log says how much was lost ("N bytes of log lost", on stderr, as logs
// shows it), goes on with the output, and the exit record counts the
// loss. The disk is a small tmpfs on the test's --root, unmounted when the
// test ends whatever happens.
func TestFaultLogDiskFull(t *testing.T) {
	track(t) // its leftover check runs after the unmount below
	root := t.TempDir()
	if err := unix.Mount("tmpfs", root, "tmpfs", 0, "size=2m,mode=0700"); err != nil {
		t.Fatalf("mount a tmpfs on %s: %v", root, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(root, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", root, err)
		}
	})
	// The container counts, on stdout and in a file the test reads.
	out := t.TempDir()
	script := `i=0; while :; do i=$((i+1)); echo "line $i"; echo $i >/out/n.tmp; mv /out/n.tmp /out/n; sleep 0.02; done`
	id := detached(t, root, "--name", "chatty", "-v", out+":/out", env.rootfs, "sh", "-c", script)
	counter := func() int {
		b, _ := os.ReadFile(filepath.Join(out, "n"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	waitFor(t, "the container's first lines", func() bool { return counter() > 0 })

	log := filepath.Join(root, store.DirName, id, id+"-json.log")
	logged := regexp.MustCompile(`"line (\d+)\\n"`)
	lastLogged := func() int {
		b, _ := os.ReadFile(log)
		m := logged.FindAllSubmatch(b, -1)
		if len(m) == 0 {
			return 0
		}
		n, _ := strconv.Atoi(string(m[len(m)-1][1]))
		return n
	}
	filler := filepath.Join(root, "filler")
	fillDisk(t, filler)
	// The log's last page fills up, then lines are lost.
	waitFor(t, "20 lines written and not logged (the disk full)", func() bool { return counter() > lastLogged()+20 })
	if got := psStatus(t, root, "chatty"); !strings.HasPrefix(got, "chatty Up ") {
		t.Errorf("ps -a with the log's disk full: %q, want Up", got)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	lost := regexp.MustCompile(`minimal-docker-monitor: (\d+) bytes of log lost: No space left on device`)
	waitFor(t, "the log's note of the loss", func() bool { b, _ := os.ReadFile(log); return lost.Match(b) })
	resumed := counter()
	waitFor(t, "lines logged after the disk freed", func() bool {
		b, _ := os.ReadFile(log)
		return bytes.Contains(b, []byte(fmt.Sprintf(`"line %d\n"`, resumed+2)))
	})
	r := mdi(t, root, "logs", "chatty")
	r.wantExit(t, 0)
	if !lost.MatchString(r.stderr) {
		t.Errorf("logs: no note of the lost bytes on stderr\n%s", r.stderr)
	}
	// The lines are in order, with the lost ones missing.
	var nums []int
	for _, l := range strings.Split(r.stdout, "\n") {
		if n, err := strconv.Atoi(strings.TrimPrefix(l, "line ")); err == nil {
			nums = append(nums, n)
		}
	}
	gap := false
	for i := 1; i < len(nums); i++ {
		if nums[i] <= nums[i-1] {
			t.Fatalf("logs: line %d after line %d", nums[i], nums[i-1])
		}
		gap = gap || nums[i] > nums[i-1]+1
	}
	if !gap {
		t.Errorf("logs: no line missing, yet the disk was full for 20 lines")
	}

	mdi(t, root, "stop", "-t", "1", "chatty").wantExit(t, 0)
	b, err := os.ReadFile(filepath.Join(root, store.DirName, id, "exit"))
	if err != nil {
		t.Fatal(err)
	}
	var e store.ExitRecord
	if err := json.Unmarshal(b, &e); err != nil || e.LogLostBytes <= 0 {
		t.Errorf("exit record %s: log_lost_bytes %d (%v), want the lost bytes", b, e.LogLostBytes, err)
	}
	if m := lost.FindStringSubmatch(r.stderr); m != nil {
		if n, _ := strconv.ParseInt(m[1], 10, 64); n > e.LogLostBytes {
			t.Errorf("the log notes %d bytes lost, the exit record %d", n, e.LogLostBytes)
		}
	}
}

// fillDisk writes path until its file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, unix.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			break
		}
	}
	// What a 64 KiB write could not take.
	small := make([]byte, 512)
	for {
		if _, err := f.Write(small); err != nil {
			return
		}
	}
}

// TestFaultNameRace: 100 run -d of one name at once: exactly one
// succeeds; each other exits 125 with Docker's `name "same" is already
// in use` and leaves nothing.
func TestFaultNameRace(t *testing.T) {
	root := t.TempDir()
	const n = 100
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = mdi(t, root, "run", "-d", "--name", "same", env.rootfs, "sleep", "1000")
		}()
	}
	wg.Wait()
	var winner string
	for _, r := range results {
		if r.code == 0 {
			if winner != "" {
				t.Errorf("a second run -d --name same succeeded\n%s", r)
			}
			winner = strings.TrimSpace(r.stdout)
			continue
		}
		if r.code != 125 || !strings.Contains(r.stderr, `name "same" is already in use`) {
			t.Errorf("want exit 125 and the name in use\n%s", r)
		}
	}
	if winner == "" {
		t.Fatal("no run -d --name same succeeded")
	}
	t.Cleanup(func() { mdi(t, root, "rm", "-f", winner) })
	if ids := mdi(t, root, "ps", "-a", "-q", "--no-trunc").lines(); len(ids) != 1 || ids[0] != winner {
		t.Errorf("ps -a -q: %v, want the winner %s only", ids, winner)
	}
	if ids := storedIDs(t, root); len(ids) != 1 {
		t.Errorf("containers/ holds %d containers, want 1", len(ids))
	}
	for _, dir := range []string{"runtime", "writable"} {
		entries, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range entries {
			if e.Name() != winner {
				t.Errorf("left in %s/: %s", dir, e.Name())
			}
		}
	}
	if got := psStatus(t, root, "same"); !strings.HasPrefix(got, "same Up ") {
		t.Errorf("ps -a: %q, want same Up", got)
	}
	c := inspectContainer(t, root, "same")
	mdi(t, root, "rm", "-f", "same").wantExit(t, 0)
	wantNothingLeft(t, root, c)
	wantRootClean(t, root, "same", winner, nil)
}
