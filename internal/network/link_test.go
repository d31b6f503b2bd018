package network

import "testing"

// A link is gone when its name is not there, or is another link's; a
// link still there is not (the loopback, in any network namespace).
func TestLinkGone(t *testing.T) {
	index, err := linkIndex("lo")
	if err != nil {
		t.Fatalf("linkIndex(lo): %v", err)
	}
	if (link{name: "lo", index: index}).gone() {
		t.Errorf("lo (index %d) gone, want there", index)
	}
	if !(link{name: "lo", index: index + 1000}).gone() {
		t.Errorf("lo with index %d: not gone, want gone (another link's name)", index+1000)
	}
	if _, err := linkIndex("md-none0"); err == nil {
		t.Errorf("linkIndex(md-none0): no error")
	}
	// Links gone already: nothing to wait for, nothing to delete.
	gone := []link{{name: "md-none0", index: 1 << 20}, {name: "lo", index: index + 1000}}
	if err := waitLinksGone(gone, 0); err != nil {
		t.Errorf("waitLinksGone: %v", err)
	}
}
