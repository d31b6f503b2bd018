package docker

import (
	"testing"
)

func TestSplitCpArg(t *testing.T) {
	for arg, want := range map[string][2]string{
		"web:/etc/passwd": {"web", "/etc/passwd"},
		"web:rel":         {"web", "rel"},
		"/abs/a:b":        {"", "/abs/a:b"},
		"./a:b":           {"", "./a:b"},
		"plain":           {"", "plain"},
		"-":               {"", "-"},
	} {
		if c, p := splitCpArg(arg); c != want[0] || p != want[1] {
			t.Errorf("splitCpArg(%q) = %q, %q; want %q", arg, c, p, want)
		}
	}
	for p, want := range map[string]string{"/a/.": "/.", "/a/": "/", "/a": "", "/": "", "/.": ""} {
		if got := trailing(p); got != want {
			t.Errorf("trailing(%q) = %q, want %q", p, got, want)
		}
	}
}
