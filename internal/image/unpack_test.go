package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// ent is one tar entry of a test layer.
type ent struct {
	name, body, link string
	typ              byte
	mode             int64
	uid, gid         int
	xattrs           map[string]string
}

func tarOf(t *testing.T, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1700000000, 0)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid, Linkname: e.link, ModTime: mtime, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		for k, v := range e.xattrs {
			if h.PAXRecords == nil {
				h.PAXRecords = map[string]string{}
			}
			h.PAXRecords["SCHILY.xattr."+k] = v
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnpackEscapesRefused(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tc := range []struct {
		name  string
		entry string // the entry the error must name
		ents  func(outside string) []ent
	}{
		{"dotdot", "../victim", func(string) []ent { return []ent{{name: "../victim", body: "pwned"}} }},
		{"dotdot inside", "a/../../victim", func(string) []ent { return []ent{{name: "a/../../victim", body: "pwned"}} }},
		{"absolute", "ABS", func(o string) []ent { return []ent{{name: o + "/victim", body: "pwned"}} }},
		{"through absolute symlink", "link/victim", func(o string) []ent {
			return []ent{{name: "link", typ: tar.TypeSymlink, link: o}, {name: "link/victim", body: "pwned"}}
		}},
		{"through relative symlink", "link/victim", func(string) []ent {
			return []ent{{name: "link", typ: tar.TypeSymlink, link: ".."}, {name: "link/victim", body: "pwned"}}
		}},
		{"whiteout through symlink", "link/.wh.victim", func(o string) []ent {
			return []ent{{name: "link", typ: tar.TypeSymlink, link: o}, {name: "link/.wh.victim"}}
		}},
		{"hard link to dotdot", "hl", func(string) []ent {
			return []ent{{name: "hl", typ: tar.TypeLink, link: "../victim"}}
		}},
		{"hard link to absolute", "hl", func(o string) []ent {
			return []ent{{name: "hl", typ: tar.TypeLink, link: o + "/victim"}}
		}},
		{"hard link through symlink", "hl", func(o string) []ent {
			return []ent{{name: "link", typ: tar.TypeSymlink, link: o}, {name: "hl", typ: tar.TypeLink, link: "link/victim"}}
		}},
		{"symlink then write", "link", func(o string) []ent {
			// A file entry named as an earlier symlink replaces the
			// symlink; it must not write through it.
			return []ent{{name: "link", typ: tar.TypeSymlink, link: o + "/victim"}, {name: "link", body: "pwned"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outside := t.TempDir()
			victim := filepath.Join(outside, "victim")
			if err := os.WriteFile(victim, []byte("host file"), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(outside, "layer")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			err := Unpack(bytes.NewReader(tarOf(t, tc.ents(outside)...)), dir)
			want := strings.Replace(tc.entry, "ABS", outside+"/victim", 1)
			if tc.name == "symlink then write" {
				// Not an escape: the file replaces the symlink.
				if err != nil {
					t.Fatalf("Unpack = %v", err)
				}
				if fi, err := os.Lstat(filepath.Join(dir, "link")); err != nil || !fi.Mode().IsRegular() {
					t.Errorf("link is not a regular file: %v %v", fi, err)
				}
			} else {
				if !errors.Is(err, ErrEscape) {
					t.Fatalf("Unpack = %v, want ErrEscape", err)
				}
				if !strings.Contains(err.Error(), `"`+want+`"`) {
					t.Errorf("error %q does not name the entry %q", err, want)
				}
			}
			var st unix.Stat_t
			if err := unix.Lstat(victim, &st); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(victim)
			if string(data) != "host file" || st.Nlink != 1 || st.Mode&unix.S_IFMT != unix.S_IFREG {
				t.Errorf("host file changed: %q nlink %d mode %o", data, st.Nlink, st.Mode)
			}
		})
	}
}

// The layer's root directory entry, as "./" (GNU tar) and as "/" (umoci,
// and so `docker save` of an image umoci made), sets the layer root's mode
// and owner; it is not an absolute path (those stay refused:
// TestUnpackEscapesRefused).
func TestUnpackRootEntry(t *testing.T) {
	testenv.RequireRoot(t)
	for _, root := range []string{"./", ".", "/", "//", "/."} {
		t.Run(root, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "layer")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			layer := tarOf(t, ent{name: root, typ: tar.TypeDir, mode: 0o750, uid: 1000, gid: 1000},
				ent{name: "bin/", typ: tar.TypeDir}, ent{name: "bin/x", body: "x"})
			if err := Unpack(bytes.NewReader(layer), dir); err != nil {
				t.Fatalf("Unpack = %v", err)
			}
			var st unix.Stat_t
			if err := unix.Lstat(dir, &st); err != nil {
				t.Fatal(err)
			}
			if st.Mode&0o7777 != 0o750 || st.Uid != 1000 || st.Gid != 1000 {
				t.Errorf("layer root %d:%d %o, want the entry's 1000:1000 750", st.Uid, st.Gid, st.Mode&0o7777)
			}
			if data, err := os.ReadFile(filepath.Join(dir, "bin", "x")); err != nil || string(data) != "x" {
				t.Errorf("bin/x = %q, %v", data, err)
			}
		})
	}
}
