package integration

// cp: files between a detached container and the host both ways, tar
// streams on stdin and stdout, and paths that try to lead out of the
// container's root through a symlink.

import (
	"archive/tar"
	"bytes"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cpContainer is a running container of an image of the busybox rootfs
// (its writes go to its own writable layer, not the shared rootfs).
func cpContainer(t *testing.T, root, name string) {
	t.Helper()
	importBusybox(t, root, "test/cp")
	detached(t, root, "--name", name, "test/cp", "sleep", "1000")
}

// inCtr runs sh -c script in the container and returns its output.
func inCtr(t *testing.T, root, name, script string) string {
	t.Helper()
	r := mdi(t, root, "exec", name, "sh", "-c", script)
	r.wantExit(t, 0)
	return r.stdout
}

func TestCpBothWays(t *testing.T) {
	root, host := t.TempDir(), t.TempDir()
	cpContainer(t, root, "cpb")

	// In: a file keeps its mode and content; it belongs to root.
	src := filepath.Join(host, "in.txt")
	if err := os.WriteFile(src, []byte("into\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(src, 1234, 1234); err != nil {
		t.Fatal(err)
	}
	mdi(t, root, "cp", src, "cpb:/tmp/").wantExit(t, 0)
	if got := inCtr(t, root, "cpb", "cat /tmp/in.txt; stat -c '%a %u:%g' /tmp/in.txt"); got != "into\n640 0:0\n" {
		t.Errorf("cp in: %q, want the content, 640 and root's", got)
	}
	// -a keeps the owner; DEST a new name.
	mdi(t, root, "cp", "-a", src, "cpb:/tmp/renamed").wantExit(t, 0)
	if got := inCtr(t, root, "cpb", "stat -c '%a %u:%g' /tmp/renamed"); got != "640 1234:1234\n" {
		t.Errorf("cp -a in: %q, want 640 1234:1234", got)
	}

	// Out: a directory by its name into a directory, and as a new name.
	inCtr(t, root, "cpb", "mkdir -p /data/sub && echo deep > /data/sub/f && chmod 750 /data/sub && ln -s sub/f /data/link")
	mdi(t, root, "cp", "cpb:/data", host).wantExit(t, 0)
	if b, err := os.ReadFile(filepath.Join(host, "data", "sub", "f")); err != nil || string(b) != "deep\n" {
		t.Errorf("cp out of a directory: %q %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(host, "data", "sub")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("cp out: sub's mode %v %v, want 750", fi, err)
	}
	if l, err := os.Readlink(filepath.Join(host, "data", "link")); err != nil || l != "sub/f" {
		t.Errorf("cp out: the symlink %q %v, want sub/f kept as a link", l, err)
	}
	mdi(t, root, "cp", "cpb:/data/.", filepath.Join(host, "copy")).wantExit(t, 0)
	if _, err := os.Stat(filepath.Join(host, "copy", "sub", "f")); err != nil {
		t.Errorf("cp out of SRC/. into a new DEST: %v", err)
	}

	// Errors: a file the container lacks; a directory onto a file.
	r := mdi(t, root, "cp", "cpb:/nosuch", host)
	r.wantExit(t, 1)
	r.wantStderr(t, "Could not find the file /nosuch in container cpb")
	r = mdi(t, root, "cp", "cpb:/data", src)
	r.wantExit(t, 1)
	r.wantStderr(t, "cannot copy a directory to a file")
	r = mdi(t, root, "cp", src, host)
	r.wantExit(t, 1)
	r.wantStderr(t, "at least one container")
}

// TestCpSymlinkEscape: symlinks in the container that point at a host
// path (absolute, or up through ..) resolve inside the container's root,
// out and in.
func TestCpSymlinkEscape(t *testing.T) {
	root, host := t.TempDir(), t.TempDir()
	cpContainer(t, root, "cpe")
	secret := filepath.Join(host, "secret")
	if err := os.WriteFile(secret, []byte("host only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inCtr(t, root, "cpe", "ln -s "+secret+" /abs && ln -s ../../../../../../.. /up && ln -s "+host+" /hostdir")

	out := filepath.Join(t.TempDir(), "out")
	for _, src := range []string{"cpe:/abs", "cpe:/up" + secret} {
		r := mdi(t, root, "cp", "-L", src, out)
		if b, err := os.ReadFile(out); err == nil && strings.Contains(string(b), "host only") {
			t.Errorf("cp -L %s copied the host's file\n%s", src, r)
		}
		r.wantExit(t, 1)
		r.wantStderr(t, "Could not find the file")
	}
	// Without -L the link itself is copied.
	mdi(t, root, "cp", "cpe:/abs", out).wantExit(t, 0)
	if l, err := os.Readlink(out); err != nil || l != secret {
		t.Errorf("cp of a symlink: %q %v, want the link", l, err)
	}

	// In: through a link to the host's directory, the copy stays in the
	// container (its /hostdir resolves to a path the container lacks).
	in := filepath.Join(t.TempDir(), "planted")
	if err := os.WriteFile(in, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mdi(t, root, "cp", in, "cpe:/hostdir/")
	r.wantExit(t, 1)
	r = mdi(t, root, "cp", in, "cpe:/up"+host+"/")
	if _, err := os.Stat(filepath.Join(host, "planted")); err == nil {
		t.Errorf("cp into the container wrote the host's %s\n%s", host, r)
	}
}

func TestCpTarStreams(t *testing.T) {
	root := t.TempDir()
	cpContainer(t, root, "cpt")

	// stdin: a tar extracted into a directory of the container.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct {
		name string
		kind byte
		mode int64
		body string
		link string
	}{
		{"dir/", tar.TypeDir, 0o755, "", ""},
		{"dir/file", tar.TypeReg, 0o604, "from tar\n", ""},
		{"dir/fifo", tar.TypeFifo, 0o640, "", ""},
		{"dir/sym", tar.TypeSymlink, 0o777, "", "/etc/passwd"},
		{"dir/hard", tar.TypeLink, 0, "", "dir/file"},
	} {
		h := &tar.Header{Name: e.name, Typeflag: e.kind, Mode: e.mode, Uid: 4321, Gid: 4321, Size: int64(len(e.body)), Linkname: e.link}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()
	p := startWithStdin(t, "--root", root, "cp", "-", "cpt:/tmp")
	p.stdin.Write(buf.Bytes())
	p.stdin.Close()
	p.wait(t).wantExit(t, 0)
	script := "cat /tmp/dir/file; stat -c '%a %u %h' /tmp/dir/file; stat -c '%F %a' /tmp/dir/fifo; readlink /tmp/dir/sym"
	if got, want := inCtr(t, root, "cpt", script), "from tar\n604 0 2\nfifo 640\n/etc/passwd\n"; got != want {
		t.Errorf("cp - (a tar on stdin): %q, want %q (file: content, mode, root's, hard-linked; a fifo; a symlink)", got, want)
	}
	r := mdi(t, root, "cp", "-", "cpt:/tmp/dir/file")
	r.wantExit(t, 1)
	r.wantStderr(t, "must be a directory")

	// stdout: a tar of SRC by its base name.
	r = mdi(t, root, "cp", "cpt:/tmp/dir", "-")
	r.wantExit(t, 0)
	tr := tar.NewReader(strings.NewReader(r.stdout))
	kinds := map[string]byte{}
	var first string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if first == "" {
			first = h.Name
		}
		kinds[h.Name] = h.Typeflag
	}
	want := map[string]byte{"dir/": tar.TypeDir, "dir/file": tar.TypeReg, "dir/fifo": tar.TypeFifo, "dir/sym": tar.TypeSymlink, "dir/hard": tar.TypeReg}
	if first != "dir/" || !maps.Equal(kinds, want) {
		t.Errorf("cp SRC - wrote %v (first %q), want dir/ first and %v", kinds, first, want)
	}
}

// TestCpStopped: a stopped container made from a rootfs directory is
// copied from its directory; one made from an image from its overlay,
// mounted for the copy alone (nothing mounted on the host afterwards),
// and a copy into it lands in its writable layer.
func TestCpStopped(t *testing.T) {
	root, host := t.TempDir(), t.TempDir()
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if out, err := exec.Command("cp", "-a", env.rootfs, rootfs).CombinedOutput(); err != nil {
		t.Fatalf("copy the rootfs: %v\n%s", err, out)
	}
	detached(t, root, "--name", "dirctr", rootfs, "sh", "-c", "echo stopped > /mark")
	importBusybox(t, root, "test/cp")
	id := detached(t, root, "--name", "imgctr", "test/cp", "sh", "-c", "echo layer > /written")
	mdi(t, root, "wait", "dirctr", "imgctr").wantExit(t, 0)

	mdi(t, root, "cp", "dirctr:/mark", host).wantExit(t, 0)
	if b, err := os.ReadFile(filepath.Join(host, "mark")); err != nil || string(b) != "stopped\n" {
		t.Errorf("cp out of a stopped container: %q %v", b, err)
	}
	// Out of the image's layer and of the container's writable layer.
	mdi(t, root, "cp", "imgctr:/written", host).wantExit(t, 0)
	mdi(t, root, "cp", "imgctr:/etc/passwd", host).wantExit(t, 0)
	if b, err := os.ReadFile(filepath.Join(host, "written")); err != nil || string(b) != "layer\n" {
		t.Errorf("cp out of a stopped image container: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(host, "passwd")); err != nil {
		t.Errorf("cp of an image's file out of a stopped container: %v", err)
	}
	in := filepath.Join(host, "in")
	if err := os.WriteFile(in, []byte("in\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mdi(t, root, "cp", in, "imgctr:/tmp/").wantExit(t, 0)
	if !fileHas(filepath.Join(root, "writable", id, "upper", "tmp", "in"), "in\n") {
		t.Errorf("cp into a stopped image container: not in its writable layer")
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(b), root) {
		t.Errorf("a mount under %s left after cp", root)
	}
}
