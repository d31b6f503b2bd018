package handshake

import (
	"errors"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestHooksRoundTrip: with runtime hooks, the child stops between Go and
// Ready (Hooks, Resume); the config carries the hooks' state and the
// number of preserved fds; a step that fails before the stop arrives typed
// at WaitHooks.
func TestHooksRoundTrip(t *testing.T) {
	parent, childFile, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	child := &Conn{f: childFile}
	done := make(chan error, 1)
	go func() {
		defer child.Close()
		cfg, err := child.WaitConfig()
		if err == nil && (cfg.PreserveFDs != 2 || cfg.State == nil || cfg.State.ID != "c1") {
			err = errors.New("config lacks preserveFds or state")
		}
		if err == nil {
			err = child.WaitGo()
		}
		if err == nil {
			err = child.SendHooks()
		}
		if err == nil {
			err = child.WaitResume()
		}
		if err == nil {
			err = child.SendReady(&Ready{})
		}
		done <- err
	}()
	cfg := &Config{Spec: &specs.Spec{}, Settings: Settings{PreserveFDs: 2, State: &specs.State{ID: "c1"}}}
	if err := parent.SendConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if err := parent.SendGo(); err != nil {
		t.Fatal(err)
	}
	if err := parent.WaitHooks(); err != nil {
		t.Fatal(err)
	}
	if err := parent.SendResume(); err != nil {
		t.Fatal(err)
	}
	if _, err := parent.WaitReady(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A failed step before the stop.
	parent2, childFile2, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent2.Close()
	child2 := &Conn{f: childFile2}
	if err := child2.SendError(&Error{Step: "mounts", Msg: "no"}); err != nil {
		t.Fatal(err)
	}
	child2.Close()
	var he *Error
	if err := parent2.WaitHooks(); !errors.As(err, &he) || he.Step != "mounts" {
		t.Errorf("WaitHooks = %v, want the typed step error", err)
	}
	if KindHooks.String() != "hooks" || KindResume.String() != "resume" {
		t.Errorf("kind names %s, %s", KindHooks, KindResume)
	}
}
