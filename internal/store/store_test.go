package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeKernel says which pids are alive.
type fakeKernel struct {
	mu    sync.Mutex
	alive map[int]bool
}

func (k *fakeKernel) Alive(p Process) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.alive[p.Pid], nil
}

func (k *fakeKernel) set(pid int, alive bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.alive == nil {
		k.alive = map[int]bool{}
	}
	k.alive[pid] = alive
}

func newStore(t *testing.T) (*Store, *fakeKernel) {
	t.Helper()
	k := &fakeKernel{}
	s, err := Open(t.TempDir(), k)
	if err != nil {
		t.Fatal(err)
	}
	return s, k
}

func mustCreate(t *testing.T, s *Store, name string) *Container {
	t.Helper()
	c := &Container{Name: name, Path: "sleep", Args: []string{"100"}, Config: Config{Image: "busybox"}}
	if err := s.Create(c); err != nil {
		t.Fatalf("create %q: %v", name, err)
	}
	return c
}

// TestRoundTrip: a record reads back as it was written, in Docker's
// field names.
func TestRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	timeout := 7
	pids := int64(64)
	c := &Container{
		Name: "/web",
		Path: "httpd", Args: []string{"-f", "-p", "80"},
		Image:   "sha256:" + strings.Repeat("ab", 32),
		LogPath: "/var/lib/minimal-docker/containers/x/x-json.log",
		Driver:  "overlay",
		Mounts:  []MountPoint{{Type: "bind", Source: "/srv", Destination: "/www", Mode: "ro"}},
		Config: Config{
			Hostname: "web", User: "nobody", Env: []string{"PATH=/bin"},
			Cmd: []string{"-f"}, Entrypoint: []string{"httpd"}, Image: "busybox", WorkingDir: "/www",
			Labels: map[string]string{"app": "web"}, StopSignal: "SIGQUIT", StopTimeout: &timeout,
			Tty: true, OpenStdin: true,
		},
		HostConfig: HostConfig{
			Binds:         []string{"/srv:/www:ro"},
			LogConfig:     LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m"}},
			NetworkMode:   "none",
			RestartPolicy: RestartPolicy{Name: "on-failure", MaximumRetryCount: 3},
			AutoRemove:    true, Memory: 64 << 20, PidsLimit: &pids, NanoCpus: 5e8,
		},
	}
	if err := s.Create(c); err != nil {
		t.Fatal(err)
	}
	if len(c.ID) != 64 || c.Name != "/web" || c.Created.IsZero() || c.State.Status != Created {
		t.Fatalf("created: id %q, name %q, created %v, status %q", c.ID, c.Name, c.Created, c.State.Status)
	}
	got, err := s.Get(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, c)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir(c.ID), recordName))
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"Id": "` + c.ID, `"Name": "/web"`, `"RestartPolicy": {`, `"MaximumRetryCount": 3`, `"Status": "created"`, `"FinishedAt": "0001-01-01T00:00:00Z"`, `"NanoCpus": 500000000`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("record lacks %s:\n%s", field, b)
		}
	}
}

// TestStateTransitions: the Set methods keep Status and the flags in
// step, as Docker's.
func TestStateTransitions(t *testing.T) {
	var st State
	now := time.Now()
	check := func(step string, want Status) {
		t.Helper()
		if st.Status != want {
			t.Errorf("%s: status %q, want %q", step, st.Status, want)
		}
	}
	st.Status = st.derive()
	check("new", Created)
	st.SetRunning(Process{Pid: 42, StartTime: 9, BootID: "b"}, now)
	check("started", Running)
	st.SetPaused(true)
	check("paused", Paused)
	st.SetPaused(false)
	check("unpaused", Running)
	st.SetRestarting(1, now)
	check("restarting", Restarting)
	st.SetStopped(3, now)
	check("stopped", Exited)
	if st.Running || st.Pid != 0 || st.ExitCode != 3 || st.FinishedAt.IsZero() {
		t.Errorf("stopped: %+v", st)
	}
	st.SetDead()
	check("dead", Dead)
}

// TestTempFileLeftIgnored: a write killed before its rename leaves a temp
// file beside the record; readers see the record as it was.
func TestTempFileLeftIgnored(t *testing.T) {
	s, _ := newStore(t)
	c := mustCreate(t, s, "one")
	tmp := filepath.Join(s.Dir(c.ID), "."+recordName+".tmp-12345")
	if err := os.WriteFile(tmp, []byte(`{"Id": "trunc`), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("one")
	if err != nil || got.ID != c.ID || got.Config.Image != "busybox" {
		t.Fatalf("get: %+v, %v", got, err)
	}
	if _, err := s.Update(c.ID, func(c *Container) error { c.RestartCount = 2; return nil }); err != nil {
		t.Fatal(err)
	}
	if list, err := s.List(); err != nil || len(list) != 1 || list[0].RestartCount != 2 {
		t.Fatalf("list: %v, %v", list, err)
	}
}

func TestCheckName(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		ok         bool
	}{
		{"web", "web", true},
		{"/web", "web", true},
		{"a1_b.c-d", "a1_b.c-d", true},
		{"ab", "ab", true},
		{"a", "", false}, // Docker's rule wants two characters
		{"-web", "", false},
		{"_web", "", false},
		{"we b", "", false},
		{"we/b", "", false},
		{"", "", false},
		{"..", "", false},
		{"Z9", "Z9", true},
		{"9.", "9.", true},
		{"web\n", "", false},
		{"wéb", "", false},
		{"web:1", "", false},
		{strings.Repeat("a", 256), "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckName(tt.name)
			if tt.ok != (err == nil) || got != tt.want {
				t.Fatalf("got %q, %v", got, err)
			}
			if err == nil {
				return
			}
			docker := strings.Contains(err.Error(), "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed") || strings.Contains(err.Error(), "longer than 255")
			if !errors.Is(err, ErrInvalidName) || !docker {
				t.Fatalf("error %q is not Docker's", err)
			}
		})
	}
}

func TestNameConflict(t *testing.T) {
	s, _ := newStore(t)
	first := mustCreate(t, s, "same")
	err := s.Create(&Container{Name: "/same"})
	if !errors.Is(err, ErrNameInUse) {
		t.Fatalf("err = %v, want ErrNameInUse", err)
	}
	want := fmt.Sprintf(`Conflict. The container name "same" is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.`, first.ID)
	if err.Error() != want {
		t.Fatalf("error\n%s\nwant\n%s", err, want)
	}
	if list, _ := s.List(); len(list) != 1 {
		t.Fatalf("%d records after a conflict, want 1", len(list))
	}
	// Removed, the name is free again.
	if err := s.Remove(first.ID, nil); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "same")
}

func TestGeneratedName(t *testing.T) {
	s, _ := newStore(t)
	seen := map[string]bool{}
	form := regexp.MustCompile(`^/[a-z]+_[a-z]+[0-9]*$`)
	for range 50 {
		c := mustCreate(t, s, "")
		if !form.MatchString(c.Name) || seen[c.Name] {
			t.Fatalf("generated name %q (seen before: %v)", c.Name, seen[c.Name])
		}
		seen[c.Name] = true
		if got, err := s.Lookup(c.Name[1:]); err != nil || got != c.ID {
			t.Fatalf("lookup %q: %q, %v", c.Name, got, err)
		}
	}
}

// TestSameNameGoroutines: 100 creates with one name at once, exactly one
// succeeds; the others fail with the name conflict.
func TestSameNameGoroutines(t *testing.T) {
	s, _ := newStore(t)
	const n = 100
	errs := make(chan error, n)
	var start sync.WaitGroup
	start.Add(1)
	for range n {
		go func() {
			start.Wait()
			errs <- s.Create(&Container{Name: "same"})
		}()
	}
	start.Done()
	ok := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case !strings.Contains(err.Error(), `name "same" is already in use`):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if list, _ := s.List(); ok != 1 || len(list) != 1 {
		t.Fatalf("%d creates succeeded, %d records; want 1 and 1", ok, len(list))
	}
}

// TestSameNameProcesses: as TestSameNameGoroutines, with processes (the
// CLI is many processes): the test binary runs itself as each creator.
func TestSameNameProcesses(t *testing.T) {
	if root := os.Getenv("STORE_TEST_CREATE_ROOT"); root != "" {
		s, err := Open(root, nil)
		if err == nil {
			err = s.Create(&Container{Name: "same"})
		}
		if err != nil {
			fmt.Println(err)
			os.Exit(3)
		}
		fmt.Println("created")
		os.Exit(0)
	}
	root := t.TempDir()
	const n = 100
	type result struct {
		out string
		err error
	}
	results := make(chan result, n)
	for range n {
		go func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSameNameProcesses$")
			cmd.Env = append(os.Environ(), "STORE_TEST_CREATE_ROOT="+root)
			out, err := cmd.CombinedOutput()
			results <- result{string(out), err}
		}()
	}
	ok := 0
	for range n {
		r := <-results
		switch {
		case r.err == nil && strings.Contains(r.out, "created"):
			ok++
		case !strings.Contains(r.out, `name "same" is already in use`):
			t.Errorf("creator: %v: %s", r.err, r.out)
		}
	}
	s, err := Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if ok != 1 || err != nil || len(list) != 1 {
		t.Fatalf("%d creates succeeded, %d records (%v); want 1 and 1", ok, len(list), err)
	}
	if entries, _ := os.ReadDir(s.dir); len(entries) != 3 { // names/, names.lock, the one container
		t.Errorf("store holds %d entries, want 3: the losers left something", len(entries))
	}
}

func TestLookup(t *testing.T) {
	s, _ := newStore(t)
	a := mustCreate(t, s, "alpha")
	b := mustCreate(t, s, "beta")
	// A name that is a prefix of another container's ID: the name wins.
	byName := mustCreate(t, s, a.ID[:6])
	for _, tt := range []struct {
		ref, want string
		err       error
	}{
		{a.ID, a.ID, nil},
		{"alpha", a.ID, nil},
		{"/alpha", a.ID, nil},
		{b.ID[:12], b.ID, nil},
		{b.ID[:1] + b.ID[1:5], b.ID, nil},
		{a.ID[:6], byName.ID, nil},
		{a.ID[:7], a.ID, nil},
		{"gamma", "", ErrNotFound},
		{"", "", ErrNotFound},
		{strings.Repeat("f", 65), "", ErrNotFound},
	} {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := s.Lookup(tt.ref)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
			if err != nil && err.Error() != "No such container: "+tt.ref {
				t.Fatalf("error %q is not Docker's", err)
			}
		})
	}
	// An ambiguous prefix: make IDs until two share their first digit.
	first := map[byte]string{}
	for {
		c := mustCreate(t, s, "")
		if other, ok := first[c.ID[0]]; ok && other != c.ID {
			_, err := s.Lookup(c.ID[:1])
			if !errors.Is(err, ErrAmbiguous) || err.Error() != "multiple IDs found with provided prefix: "+c.ID[:1] {
				t.Fatalf("ambiguous prefix: err = %v", err)
			}
			break
		}
		first[c.ID[0]] = c.ID
	}
}

// TestReconcile: a record that says running whose process is gone reads
// as exited, with the monitor's exit code if it wrote one, else 255; and
// stays so.
func TestReconcile(t *testing.T) {
	s, k := newStore(t)
	started := time.Now().Add(-time.Minute)
	run := func(name string, pid int) *Container {
		t.Helper()
		c := mustCreate(t, s, name)
		c, err := s.Update(c.ID, func(c *Container) error {
			c.State.SetRunning(Process{Pid: pid, StartTime: 1, BootID: "boot"}, started)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	live := run("live", 100)
	k.set(100, true)
	noExit := run("noexit", 101)
	exitFile := func(c *Container, code int, oom bool, at time.Time) {
		t.Helper()
		rec := fmt.Sprintf(`{"exit_code":%d,"oom_killed":%v,"started_at":"","finished_at":%q,"log_lost_bytes":0}`+"\n",
			code, oom, at.UTC().Format(time.RFC3339Nano))
		if err := os.WriteFile(s.ExitPath(c.ID), []byte(rec), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	finished := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	withExit := run("withexit", 102)
	exitFile(withExit, 3, false, finished)
	oldExit := run("oldexit", 103)
	exitFile(oldExit, 4, false, started.Add(-time.Hour))
	oom := run("oom", 104)
	exitFile(oom, 137, true, finished)
	// The process is gone but its monitor, alive, has not written the
	// exit record yet: still running, until the monitor is gone too.
	k.set(205, true)
	ending := mustCreate(t, s, "ending")
	if _, err := s.Update(ending.ID, func(c *Container) error {
		c.State.SetRunning(Process{Pid: 105, StartTime: 1, BootID: "boot"}, started)
		c.State.SetMonitor(Process{Pid: 205, StartTime: 1})
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		c    *Container
		want Status
		code int
	}{
		{live, Running, 0},
		{noExit, Exited, ExitUnknown},
		{withExit, Exited, 3},
		{oldExit, Exited, ExitUnknown}, // an earlier run's exit file
		{oom, Exited, 137},
		{ending, Running, 0},
	} {
		got, err := s.Get(tt.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State.Status != tt.want || got.State.ExitCode != tt.code || got.State.Running != (tt.want == Running) {
			t.Errorf("%s: status %q code %d running %v; want %q, %d", tt.c.Name, got.State.Status, got.State.ExitCode, got.State.Running, tt.want, tt.code)
		}
		if tt.want == Exited && got.State.FinishedAt.IsZero() {
			t.Errorf("%s: no FinishedAt", tt.c.Name)
		}
		if got.State.OOMKilled != (tt.c == oom) {
			t.Errorf("%s: OOMKilled %v", tt.c.Name, got.State.OOMKilled)
		}
	}
	if got, _ := s.Get(withExit.ID); !got.State.FinishedAt.Equal(finished) {
		t.Errorf("withexit: FinishedAt %v, want the exit record's %v", got.State.FinishedAt, finished)
	}
	k.set(205, false)
	if got, _ := s.Get(ending.ID); got.State.Status != Exited || got.State.ExitCode != ExitUnknown {
		t.Errorf("ending, its monitor gone without an exit record: %q (%d), want exited (255)", got.State.Status, got.State.ExitCode)
	}
	// Written back: the exit time stays put, even once the pid is reused
	// by a live process (the fake says alive again).
	first, _ := s.Get(noExit.ID)
	k.set(101, true)
	second, _ := s.Get(noExit.ID)
	if second.State.Status != Exited || !second.State.FinishedAt.Equal(first.State.FinishedAt) {
		t.Fatalf("second read: %q at %v, first %v", second.State.Status, second.State.FinishedAt, first.State.FinishedAt)
	}
	// List says the same.
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if (c.ID == live.ID) != (c.State.Status == Running) {
			t.Errorf("list: %s is %q", c.Name, c.State.Status)
		}
	}
}

// TestExited: a process that has exited is so at once, before its
// monitor records the exit (the record still reads as running); a live
// one is not, nor one the kernel cannot tell of; a container in its
// restart back-off has none that runs.
func TestExited(t *testing.T) {
	s, k := newStore(t)
	k.set(300, true) // the monitor
	for _, tt := range []struct {
		name  string
		state func(*State)
		alive bool
		want  bool
	}{
		{"live", func(st *State) { st.SetRunning(Process{Pid: 301, StartTime: 1}, time.Now()) }, true, false},
		{"ended", func(st *State) { st.SetRunning(Process{Pid: 302, StartTime: 1}, time.Now()) }, false, true},
		{"backoff", func(st *State) { st.SetRestarting(1, time.Now()) }, false, true},
	} {
		c := mustCreate(t, s, tt.name)
		c, err := s.Update(c.ID, func(c *Container) error {
			tt.state(&c.State)
			c.State.SetMonitor(Process{Pid: 300, StartTime: 1})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		k.set(c.State.Pid, tt.alive)
		if got := s.Exited(c); got != tt.want {
			t.Errorf("%s: Exited %v, want %v", tt.name, got, tt.want)
		}
		if got, err := s.Get(c.ID); err != nil || !got.State.Running {
			t.Errorf("%s: the record reads %+v, %v; want running until the monitor records the exit", tt.name, got, err)
		}
	}
	errKernel := &Store{dir: s.dir, kernel: failingKernel{}}
	c := &Container{State: State{Running: true, Pid: 303, PidStartTime: 1}}
	if errKernel.Exited(c) {
		t.Error("a kernel that cannot tell: Exited true, want false")
	}
}

// failingKernel cannot tell whether a process runs.
type failingKernel struct{}

func (failingKernel) Alive(Process) (bool, error) { return false, errors.New("no /proc") }

// TestFollowRestarts: a container with a restart policy reads as its
// monitor's restart file says while it runs: the new process and the
// restart count, restarting during the back-off (exited once its monitor
// is gone, with the last exit code), exited with the exit record once the
// monitor gave up; without a policy, or once stopped, the file is not
// read.
func TestFollowRestarts(t *testing.T) {
	s, k := newStore(t)
	started := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	run := func(name, policy string) *Container {
		t.Helper()
		c := mustCreate(t, s, name)
		c, err := s.Update(c.ID, func(c *Container) error {
			c.HostConfig.RestartPolicy.Name = policy
			c.State.SetRunning(Process{Pid: 100, StartTime: 1, BootID: "boot"}, started)
			c.State.SetMonitor(Process{Pid: 300, StartTime: 1})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	k.set(300, true)
	write := func(c *Container, r RestartRecord) {
		t.Helper()
		b, err := json.Marshal(r)
		if err == nil {
			err = os.WriteFile(s.RestartPath(c.ID), b, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	get := func(c *Container) *Container {
		t.Helper()
		got, err := s.Get(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	finished := started.Add(time.Second)
	restarted := started.Add(2 * time.Second)

	always := run("always", "always")
	write(always, RestartRecord{RestartCount: 1, Restarting: true, StartedAt: started, ExitCode: 1, FinishedAt: finished})
	if got := get(always); got.State.Status != Restarting || got.RestartCount != 1 || got.State.ExitCode != 1 || got.State.MonitorPid != 300 {
		t.Errorf("in the back-off: %+v RestartCount %d, want restarting (1), count 1, the monitor kept", got.State, got.RestartCount)
	}
	k.set(101, true)
	write(always, RestartRecord{RestartCount: 1, Pid: 101, PidStartTime: 7, StartedAt: restarted, ExitCode: 1, FinishedAt: finished})
	got := get(always)
	if got.State.Status != Running || got.State.Pid != 101 || got.State.PidStartTime != 7 || !got.State.StartedAt.Equal(restarted) ||
		!got.State.FinishedAt.Equal(finished) || got.State.MonitorPid != 300 {
		t.Errorf("restarted: %+v, want running pid 101 since %v, finished %v", got.State, restarted, finished)
	}
	// The monitor gives up: its exit record.
	k.set(101, false)
	rec := fmt.Sprintf(`{"exit_code":0,"oom_killed":false,"started_at":"","finished_at":%q,"log_lost_bytes":0}`, restarted.Add(time.Second).Format(time.RFC3339Nano))
	if err := os.WriteFile(s.ExitPath(always.ID), []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := get(always); got.State.Status != Exited || got.State.ExitCode != 0 || got.RestartCount != 1 {
		t.Errorf("given up: %+v RestartCount %d, want exited (0), count 1", got.State, got.RestartCount)
	}
	if got := get(always); got.State.Status != Exited { // written back: the file no longer counts
		t.Errorf("second read after the end: %q", got.State.Status)
	}

	// The monitor killed during the back-off: exited, with the last code.
	orphan := run("orphan", "on-failure")
	write(orphan, RestartRecord{RestartCount: 2, Restarting: true, StartedAt: started, ExitCode: 3, FinishedAt: finished})
	k.set(300, false)
	if got := get(orphan); got.State.Status != Exited || got.State.ExitCode != 3 || !got.State.FinishedAt.Equal(finished) {
		t.Errorf("monitor gone in the back-off: %+v, want exited (3) at %v", got.State, finished)
	}

	// No policy: the file is not looked at.
	k.set(100, true)
	none := run("none", "no")
	write(none, RestartRecord{RestartCount: 1, Restarting: true})
	if got := get(none); got.State.Status != Running || got.RestartCount != 0 {
		t.Errorf("without a policy: %q count %d, want running, 0", got.State.Status, got.RestartCount)
	}
}

// TestProcKernel: the real kernel tells this process alive, and the same
// pid in another boot, or with another start time, dead.
func TestProcKernel(t *testing.T) {
	p, err := ProcessOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	k := procKernel{}
	for _, tt := range []struct {
		p    Process
		want bool
	}{
		{p, true},
		{Process{Pid: p.Pid, StartTime: p.StartTime + 1, BootID: p.BootID}, false},
		{Process{Pid: p.Pid, StartTime: p.StartTime, BootID: "another-boot"}, false},
	} {
		if got, err := k.Alive(tt.p); err != nil || got != tt.want {
			t.Errorf("%+v: %v, %v; want %v", tt.p, got, err, tt.want)
		}
	}
}

func TestListNewestFirst(t *testing.T) {
	s, _ := newStore(t)
	var ids []string
	for _, n := range []string{"c1", "c2", "c3"} {
		ids = append(ids, mustCreate(t, s, n).ID)
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	list, err := s.List()
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %d, %v", len(list), err)
	}
	for i, c := range list {
		if c.ID != ids[2-i] {
			t.Fatalf("list[%d] is %s, want newest first", i, c.Name)
		}
	}
}

func TestRemove(t *testing.T) {
	s, _ := newStore(t)
	c := mustCreate(t, s, "gone")
	boom := errors.New("boom")
	if err := s.Remove(c.ID, func(*Container) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.Get("gone"); err != nil {
		t.Fatalf("a failed destroy removed the record: %v", err)
	}
	if err := s.Remove(c.ID, func(*Container) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after remove: %v", err)
	}
	if _, err := os.Lstat(s.namePath("gone")); !os.IsNotExist(err) {
		t.Fatalf("name left after remove: %v", err)
	}
	if err := s.Remove(c.ID, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
	if entries, _ := os.ReadDir(s.dir); len(entries) != 2 {
		t.Fatalf("store holds %d entries after remove, want names/ and names.lock", len(entries))
	}
}

// TestCrashLeftovers: what a killed create or rm leaves is treated as
// absent (the name is free, nothing is listed) and Sweep removes it.
func TestCrashLeftovers(t *testing.T) {
	s, _ := newStore(t)
	// A removal killed after its rename: a ~removing- directory, and a
	// name linking to no directory.
	c := mustCreate(t, s, "halfremoved")
	if _, err := renameToTrash(s.Dir(c.ID)); err != nil {
		t.Fatal(err)
	}
	// A create killed after its name's link: a directory without a
	// record, its lock free.
	id, _ := NewID()
	if err := os.Mkdir(s.Dir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(id), lockName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(id, s.namePath("halfcreated")); err != nil {
		t.Fatal(err)
	}
	// A create killed before its name: a bare directory.
	bare, _ := NewID()
	if err := os.Mkdir(s.Dir(bare), 0o700); err != nil {
		t.Fatal(err)
	}
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Fatalf("list: %d records, %v; want none", len(list), err)
	}
	for _, name := range []string{"halfremoved", "halfcreated"} {
		if _, err := s.Lookup(name); !errors.Is(err, ErrNotFound) {
			t.Errorf("lookup %s: %v, want not found", name, err)
		}
	}
	// The stale name is free: a new container takes it.
	taken := mustCreate(t, s, "halfcreated")
	if err := s.Sweep(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(s.dir)
	names, _ := os.ReadDir(filepath.Join(s.dir, namesDir))
	if len(entries) != 3 || len(names) != 1 {
		t.Fatalf("after Sweep: %d entries (want names/, names.lock, %s), %d names (want 1)", len(entries), taken.ID[:12], len(names))
	}
	if got, err := s.Lookup("halfcreated"); err != nil || got != taken.ID {
		t.Fatalf("lookup after Sweep: %q, %v", got, err)
	}
}

// TestReconcileKilledStart: a record left with a start in flight (its
// command killed before it recorded the process) reads as the kernel and
// the monitor say: Created while no init runs, running (with the init's
// pid and its reaper as monitor) once the pid file names a live process,
// exited with the monitor's code once the exit record is there.
func TestReconcileKilledStart(t *testing.T) {
	s, k := newStore(t)
	pending := func(name string) *Container {
		t.Helper()
		c := &Container{Name: name}
		c.State.Starting = true
		if err := s.Create(c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	pending("never")
	if c, err := s.Get("never"); err != nil || c.State.Status != Created || c.State.Running {
		t.Fatalf("a start in flight without a pid file: %+v (%v), want created", c.State, err)
	}

	up := pending("up")
	self := os.Getpid() // a live process whose parent is this test's
	if err := os.WriteFile(s.PidPath(up.ID), []byte(fmt.Sprint(self)), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Get("up"); c.State.Status != Created {
		t.Errorf("a pid file of a process the kernel says is gone: %s, want created", c.State.Status)
	}
	k.set(self, true)
	c, err := s.Get("up")
	if err != nil || c.State.Status != Running || c.State.Pid != self || c.State.Starting || c.State.MonitorPid != os.Getppid() {
		t.Fatalf("a started init: %+v (%v), want running with pid %d, monitor %d", c.State, err, self, os.Getppid())
	}
	if again, _ := s.read(up.ID); again.State.Status != Running {
		t.Errorf("the start found was not written back: %s", again.State.Status)
	}

	ended := pending("ended")
	at := time.Now().Truncate(time.Millisecond)
	rec := fmt.Sprintf(`{"exit_code":7,"oom_killed":false,"started_at":%q,"finished_at":%q,"log_lost_bytes":0}`,
		at.Add(-time.Second).UTC().Format(time.RFC3339Nano), at.UTC().Format(time.RFC3339Nano))
	if err := os.WriteFile(s.ExitPath(ended.ID), []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = s.Get("ended")
	if err != nil || c.State.Status != Exited || c.State.ExitCode != 7 || !c.State.FinishedAt.Equal(at) || c.State.Starting {
		t.Errorf("a start that ran and ended: %+v (%v), want exited 7 at %v", c.State, err, at)
	}
}
