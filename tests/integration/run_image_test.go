package integration

// `run IMAGE`: an image pulled from a registry the test starts on
// 127.0.0.1, run on an overlay of its layers with its config applied as
// Docker applies it.

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// tarLayer makes an uncompressed layer from tar entries: a name ending in
// "/" is a directory, any other a file with that content.
func tarLayer(t *testing.T, entries ...[2]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e[0], Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e[1]))}
		if strings.HasSuffix(e[0], "/") {
			h.Mode, h.Typeflag, h.Size = 0o755, tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return layerOf(t, buf.Bytes())
}

func layerOf(t *testing.T, b []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// pushBusyboxImage pushes to ref an image of the tests' busybox rootfs and
// three small layers: /app/hello and /app/gone with /data/old, then a
// whiteout of /app/gone and an opaque /data holding only new.
func pushBusyboxImage(t *testing.T, ref string, cfg v1.Config) {
	t.Helper()
	var base bytes.Buffer
	tw := tar.NewWriter(&base)
	if err := testenv.WriteTar(tw, env.rootfs, ""); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image,
		layerOf(t, base.Bytes()),
		tarLayer(t, [2]string{"app/", ""}, [2]string{"app/hello", "from-image\n"}, [2]string{"app/gone", "x"},
			[2]string{"data/", ""}, [2]string{"data/old", "old"}),
		tarLayer(t, [2]string{"app/", ""}, [2]string{"app/.wh.gone", ""},
			[2]string{"data/", ""}, [2]string{"data/.wh..wh..opq", ""}, [2]string{"data/new", "new"}))
	if err != nil {
		t.Fatal(err)
	}
	pushAs(t, ref, img, &cfg)
}

// TestRunImage runs an image as a Docker user would: pulled when missing,
// its Entrypoint, Cmd, Env, WorkingDir and User applied (and overridden by
// --entrypoint, arguments, -e, -w, -u), its layers seen through the
// overlay (whiteouts and an opaque directory honoured), its files never
// changed by a container, and nothing left in the store's containers
// directory afterwards.
func TestRunImage(t *testing.T) {
	reg := startRegistry(t)
	ref := reg + "/test/app:1"
	pushBusyboxImage(t, ref, v1.Config{
		Entrypoint: []string{"/bin/sh", "-c"},
		Cmd:        []string{"echo cmd:$GREETING; pwd; id -u"},
		Env:        []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello"},
		WorkingDir: "/app",
		User:       "nobody",
	})
	root := t.TempDir()

	first := mdi(t, root, "run", ref)
	if first.code != 0 || first.stdout != "cmd:hello\n/app\n65534\n" {
		t.Fatalf("first run (pulls the image): want the image's command as nobody in /app\n%s", first)
	}
	if !strings.Contains(first.stderr, "Unable to find image '"+ref+"' locally") {
		t.Errorf("first run: want Docker's note that the image is pulled on stderr\n%s", first)
	}

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"arguments replace Cmd", []string{ref, "echo args"}, "args\n"},
		{"-e over the image's Env", []string{"-e", "GREETING=bye", ref}, "cmd:bye\n/app\n65534\n"},
		{"--entrypoint drops Cmd", []string{"--entrypoint", "/bin/echo", ref, "x", "y"}, "x y\n"},
		{"-w and -u over the image's", []string{"-w", "/", "-u", "0", ref}, "cmd:hello\n/\n0\n"},
		{"layers, whiteout, opaque dir", []string{ref, "cat /app/hello; ls /app; ls /data"}, "from-image\nhello\nnew\n"},
		{"a write stays in its container", []string{"-u", "0", ref, "echo w >/app/hello; cat /app/hello"}, "w\n"},
		{"the image is unchanged", []string{ref, "cat /app/hello"}, "from-image\n"},
		// Its writes go with it: no sync of them at its exit ("volatile",
		// "fsync=volatile" since Linux 6.x).
		{"the root is a volatile overlay", []string{ref, "grep -c '^overlay / overlay .*volatile' /proc/mounts"}, "1\n"},
		{"--pull never, image present", []string{"--pull", "never", ref, "true"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mdi(t, root, append([]string{"run"}, c.args...)...)
			if r.code != 0 || r.stdout != c.want {
				t.Errorf("want exit 0 and %q\n%s", c.want, r)
			}
			if strings.Contains(r.stderr, "Pulling") {
				t.Errorf("the image was pulled again\n%s", r)
			}
		})
	}

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"--pull never, image missing", []string{"--pull", "never", reg + "/test/none:1", "true"}, "no such image"},
		{"a bad --pull", []string{"--pull", "sometimes", ref, "true"}, "invalid --pull"},
		{"an image that is not there", []string{reg + "/test/none:1", "true"}, "none"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mdi(t, root, append([]string{"run"}, c.args...)...)
			if r.code != 125 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("want exit 125 naming %q\n%s", c.want, r)
			}
		})
	}

	entries, err := os.ReadDir(filepath.Join(root, "writable"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		t.Errorf("containers' directories left in the store: %v", entries)
	}
}

// TestRunImageInUseAndKilled: while a container runs on an image, rmi
// refuses to remove the image (its layers are in use); a run killed with
// SIGKILL leaves its container's directory in the store, which the next
// run removes, and then the image goes.
func TestRunImageInUseAndKilled(t *testing.T) {
	reg := startRegistry(t)
	ref := reg + "/test/app:1"
	pushBusyboxImage(t, ref, v1.Config{Env: []string{"PATH=/bin"}, Cmd: []string{"sh"}})
	root, state := t.TempDir(), filepath.Join(t.TempDir(), "containers")
	mdCmd := func(args ...string) result {
		t.Helper()
		return startProc(t, false, dockerEnv(state), append([]string{"--root", root}, args...)).wait(t)
	}
	t.Cleanup(func() { mdCmd("prune", "-f") })
	mdCmd("pull", "-q", ref).wantExit(t, 0)

	p := startProc(t, false, dockerEnv(state), []string{"--root", root, "run", ref, "sh", "-c", "echo up; sleep 1000"})
	p.waitLine(t, "up")
	if r := mdCmd("rmi", ref); r.code != 1 || !strings.Contains(r.stderr, "in use") {
		t.Errorf("rmi of an image a container runs on: want exit 1 saying it is in use\n%s", r)
	}
	// SIGKILL the run itself (its container dies with it: the init's
	// parent-death signal): its own clean-up never happens. Its
	// container's processes are noted first, and waited for: prune
	// leaves a container that still runs.
	var procs []noted
	for _, pid := range testenv.Descendants(p.Pid()) {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			procs = append(procs, noted{pid: pid, pidfd: fd})
			t.Cleanup(func() { unix.Close(fd) })
		}
	}
	if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done:
	case <-time.After(env.timeout):
		t.Fatalf("the run still runs %v after SIGKILL", env.timeout)
	}
	waitExited(t, procs)
	left, err := os.ReadDir(filepath.Join(root, "writable"))
	if err != nil || len(left) == 0 {
		t.Fatalf("the killed run left no directory to clean up (%v): the test proves nothing", err)
	}
	mdCmd("prune", "-f").wantExit(t, 0) // its cgroups and record
	mdCmd("run", ref, "true").wantExit(t, 0)
	if left, _ := os.ReadDir(filepath.Join(root, "writable")); len(left) > 0 {
		t.Errorf("the killed run's directory is still in the store after the next run: %v", left)
	}
	mdCmd("rmi", ref).wantExit(t, 0)
}
