package rootfs

import (
	"fmt"
	"testing"
)

// TestDeviceRules: deny-all first, then rwm for every standard node and
// pty device, and nothing else.
func TestDeviceRules(t *testing.T) {
	rules := DeviceRules()
	if len(rules) == 0 || rules[0].Allow || rules[0].Type != "" || rules[0].Major != nil || rules[0].Minor != nil || rules[0].Access != "rwm" {
		t.Fatalf("the first rule is %+v, want a deny-all", rules)
	}
	got := map[string]bool{}
	for _, r := range rules[1:] {
		if !r.Allow || r.Type != "c" || r.Access != "rwm" || r.Major == nil {
			t.Errorf("rule %+v: want an allow of rwm on a character device", r)
			continue
		}
		minor := "*"
		if r.Minor != nil {
			minor = fmt.Sprint(*r.Minor)
		}
		got[fmt.Sprintf("%d:%s", *r.Major, minor)] = true
	}
	want := []string{"1:3", "1:5", "1:7", "1:8", "1:9", "5:0", "136:*", "5:2"}
	for _, w := range want {
		if !got[w] {
			t.Errorf("no rule allows c %s", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("allowed %v, want exactly %v", got, want)
	}
	if len(rules) != 1+len(DevNodes)+len(DevPTYs) {
		t.Errorf("%d rules, want one per node and pty device after the deny-all", len(rules))
	}
}
