package docker

import (
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
