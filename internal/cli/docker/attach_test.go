package docker

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseDetachKeys(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte
		err  string
	}{
		{"", []byte{16, 17}, ""},
		{"ctrl-p,ctrl-q", []byte{16, 17}, ""},
		{"ctrl-a", []byte{1}, ""},
		{"a,b", []byte{'a', 'b'}, ""},
		{"ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", []byte{0, 27, 28, 29, 30, 31}, ""},
		{"ctrl-z,DEL", []byte{26, 127}, ""},
		{"ctrl-x,,", nil, "Invalid detach keys (ctrl-x,,) provided"},
		{"ctrl-P", nil, "Invalid detach keys (ctrl-P) provided"}, // Docker's names are lower case
		{"ctrl-foo", nil, `unknown character "ctrl-foo"`},
		{"ab", nil, "Invalid detach keys (ab) provided"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseDetachKeys(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseDetachKeys(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("parseDetachKeys(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestEscapeDetector: the detach keys end the input wherever the reads
// split them; keys that start the sequence and break off are sent.
func TestEscapeDetector(t *testing.T) {
	for _, tc := range []struct {
		name     string
		keys     []byte
		reads    []string
		want     string
		detached bool
	}{
		{"no keys", nil, []string{"a\x10\x11b"}, "a\x10\x11b", false},
		{"in one read", []byte{16, 17}, []string{"ab\x10\x11cd"}, "ab", true},
		{"split across reads", []byte{16, 17}, []string{"ab\x10", "\x11"}, "ab", true},
		{"broken off", []byte{16, 17}, []string{"\x10", "x"}, "\x10x", false},
		{"broken off by a new start", []byte{16, 17}, []string{"\x10\x10\x11"}, "\x10", true},
		{"held at the end", []byte{16, 17}, []string{"ab\x10"}, "ab", false},
		{"one key", []byte{'q'}, []string{"abq"}, "ab", true},
		{"three keys", []byte("xyz"), []string{"xyxyz"}, "xy", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := escapeDetector{keys: tc.keys}
			var got []byte
			detached := false
			for _, r := range tc.reads {
				out, d := e.feed([]byte(r))
				got = append(got, out...)
				if d {
					detached = true
					break
				}
			}
			if string(got) != tc.want || detached != tc.detached {
				t.Errorf("got %q detached %v; want %q detached %v", got, detached, tc.want, tc.detached)
			}
		})
	}
}
