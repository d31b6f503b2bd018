package docker

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

func TestCanSetPaused(t *testing.T) {
	var running, paused, stopped store.State
	running.SetRunning(store.Process{Pid: 1}, time.Now())
	paused.SetRunning(store.Process{Pid: 1}, time.Now())
	paused.SetPaused(true)
	stopped.SetRunning(store.Process{Pid: 1}, time.Now())
	stopped.SetStopped(0, time.Now())
	for _, c := range []struct {
		st    *store.State
		pause bool
		want  string
	}{
		{&running, true, ""},
		{&paused, true, "is already paused"},
		{&stopped, true, "is not running"},
		{&paused, false, ""},
		{&running, false, "is not paused"},
		{&stopped, false, "is not paused"},
	} {
		err := canSetPaused(c.st, "ID", c.pause)
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s, pause %v: %v, want %q", c.st.Status, c.pause, err, c.want)
		}
	}
}

func TestEndsContainer(t *testing.T) {
	plain := &store.Container{}
	usr1 := &store.Container{Config: store.Config{StopSignal: "SIGUSR1"}}
	for _, c := range []struct {
		c    *store.Container
		sig  unix.Signal
		want bool
	}{
		{plain, unix.SIGHUP, true}, // no stop signal of its own: any
		{usr1, unix.SIGKILL, true},
		{usr1, unix.SIGUSR1, true},
		{usr1, unix.SIGTERM, false},
	} {
		if got := endsContainer(c.c, c.sig); got != c.want {
			t.Errorf("endsContainer(stop signal %q, %v) = %v", c.c.Config.StopSignal, c.sig, got)
		}
	}
}

// fakeInit is a kernel whose one process, the container's init, lives
// until its death file exists; the container's monitor always lives.
type fakeInit struct{ death string }

const fakeInitPid, fakeMonitorPid = 4242, 4243

func (k fakeInit) Alive(p store.Process) (bool, error) {
	switch p.Pid {
	case fakeMonitorPid:
		return true, nil
	case fakeInitPid:
		_, err := os.Stat(k.death)
		return errors.Is(err, fs.ErrNotExist), nil
	}
	return false, nil
}

// racingRuntime is a store whose container "racer" runs paused (its init
// and monitor alive, no exit record yet), and a runtime whose verb
// fails as minimal-runc's does when the init has exited just before it;
// with dies the init's exit comes with the verb (the race: the container
// ends between the caller's check and the runtime's), else it lives on
// and the failure is the runtime's own.
func racingRuntime(t *testing.T, verb string, dies bool) (*store.Store, runtime, *store.Container) {
	t.Helper()
	dir := t.TempDir()
	death := filepath.Join(dir, "init-exited")
	s, err := store.Open(filepath.Join(dir, "root"), fakeInit{death})
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Container{Name: "racer", Path: "sleep", Config: store.Config{Image: "busybox"}}
	if err := s.Create(c); err != nil {
		t.Fatal(err)
	}
	c, err = s.Update(c.ID, func(c *store.Container) error {
		c.State.SetRunning(store.Process{Pid: fakeInitPid, StartTime: 1}, time.Now())
		c.State.SetMonitor(store.Process{Pid: fakeMonitorPid, StartTime: 1})
		c.State.SetPaused(true)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	kill := ""
	if dies {
		kill = "touch " + death
	}
	script := fmt.Sprintf("#!/bin/sh\n# --root ROOT VERB ID ...\n[ \"$3\" = %s ] || exit 0\n%s\necho \"$3 $4: the container is stopped\" >&2\nexit 1\n", verb, kill)
	fake := filepath.Join(dir, "minimal-runc")
	if err := os.WriteFile(fake, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return s, runtime{path: fake, root: filepath.Join(dir, "runtime")}, c
}

// TestThawForStopRace: the thaw after kill's SIGKILL (or stop's signal)
// finds the container ended — its init exited after the caller's check,
// its exit not yet recorded by its monitor: not an error (Docker's).
// A thaw that fails while the container runs on is one.
func TestThawForStopRace(t *testing.T) {
	for _, dies := range []bool{true, false} {
		s, r, c := racingRuntime(t, "resume", dies)
		err := thawForStop(s, r, c)
		if dies && err != nil {
			t.Errorf("thaw of a container that ended meanwhile: %v, want no error", err)
		}
		if !dies && (err == nil || !strings.Contains(err.Error(), "resume")) {
			t.Errorf("thaw that failed while the container runs: %v, want the runtime's error", err)
		}
		if got, err := s.Get(c.ID); err != nil || got.State.Paused != !dies {
			t.Errorf("after the thaw (init exited: %v): record %+v, %v; want paused %v", dies, got.State, err, !dies)
		}
	}
}

// TestSignalRace: kill's or stop's signal that the runtime refuses
// because the container has just ended (its exit not yet recorded) is
// not an error; a refusal while it runs on is.
func TestSignalRace(t *testing.T) {
	for _, dies := range []bool{true, false} {
		s, r, c := racingRuntime(t, "kill", dies)
		err := r.signal(s, c, unix.SIGKILL)
		if dies && err != nil {
			t.Errorf("signal to a container that ended meanwhile: %v, want no error", err)
		}
		if !dies && (err == nil || !strings.Contains(err.Error(), "kill")) {
			t.Errorf("signal refused while the container runs: %v, want the runtime's error", err)
		}
	}
}

// TestSetPausedRace: a pause or an unpause that the runtime refuses
// because the container has just ended (its exit not yet recorded) is
// Docker's refusal of a container that does not run; a failure while it
// runs on is the runtime's.
func TestSetPausedRace(t *testing.T) {
	for _, tt := range []struct {
		verb  string
		pause bool
		dies  bool
		want  string
	}{
		{"resume", false, true, "is not paused"},
		{"resume", false, false, "minimal-runc resume"},
		{"pause", true, true, "is not running"},
		{"pause", true, false, "minimal-runc pause"},
	} {
		s, r, c := racingRuntime(t, tt.verb, tt.dies)
		if tt.pause {
			if _, err := s.Update(c.ID, func(c *store.Container) error { c.State.SetPaused(false); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		err := setPaused(s, r, c.ID, tt.pause)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s (init exits meanwhile: %v): %v, want %q", tt.verb, tt.dies, err, tt.want)
		}
	}
}
