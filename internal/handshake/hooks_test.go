package handshake

import (
	"testing"
)

// TestHooksRoundTrip: with runtime hooks, the child stops between Go and
// Ready (Hooks, Resume); the parent's Go and Resume frames have no body.
func TestHooksRoundTrip(t *testing.T) {
	parent, child, _ := planPair(t)
	done := make(chan error, 1)
	go func() {
		for _, step := range []func() error{
			func() error { return wantEmpty(child, KindGo) },
			func() error { return child.sendRaw(KindHooks, []byte("{}")) },
			func() error { return wantEmpty(child, KindResume) },
			func() error { return child.sendRaw(KindReady, le32(0)) },
		} {
			if err := step(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
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
	if KindHooks.String() != "hooks" || KindResume.String() != "resume" {
		t.Errorf("kind names %s, %s", KindHooks, KindResume)
	}
}
