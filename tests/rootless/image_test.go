package rootless

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestPullAndRunImage: the user pulls an image from a registry (the
// suite's, on 127.0.0.1) and runs it on an overlay in its user
// namespace: the layers' owners land in its range on the host (root's
// files are its first subordinate uid, 200000, uid 1000's 201000), the
// container sees them as the image says, whiteouts and opaque
// directories hold, a device node of a layer is left out, and what the
// container writes never reaches the image; with --userns=keep-id too
// the image's files keep their owners.
func TestPullAndRunImage(t *testing.T) {
	h := newHome(t)
	if err := unix.Setxattr(h.dir, "user.md-probe", []byte("1"), 0); errors.Is(err, unix.EOPNOTSUPP) {
		t.Skipf("the store's file system (%s) has no user.* extended attributes, which a rootless overlay needs: %v", h.dir, err)
	}
	bin, err := testenv.RegistryBin()
	if err != nil {
		t.Skipf("no registry to pull from: %v (make deps installs docker-registry)", err)
	}
	reg, err := testenv.StartRegistry(bin, t.TempDir(), env.timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Stop)
	ref := reg.Addr + "/rootless/app:1"
	pushImage(t, ref)

	r := h.md(t, "pull", ref)
	r.wantExit(t, 0)
	script := "stat -c '%u:%g %n' /app/owned /app/hello; ls /app; ls /data; ls -A /app/dev | wc -l; cat /proc/self/mountinfo | grep ' / / ' | cut -d' ' -f9; echo changed > /app/hello"
	for i := 0; i < 2; i++ { // the second run sees the image unchanged
		r = h.md(t, "run", "--network", "none", ref, "sh", "-c", script)
		r.wantExit(t, 0)
		want := "1000:1000 /app/owned\n0:0 /app/hello\ndev\nhello\nowned\nnew\n0\noverlay\n"
		if r.stdout != want {
			t.Errorf("run %d: stdout %q, want %q\n%s", i, r.stdout, want, r)
		}
	}
	// keep-id: the process is the user, the image's owners stay.
	r = h.md(t, "run", "--network", "none", "--userns=keep-id", ref, "sh", "-c", "id -u; stat -c '%u:%g %n' /app/owned /app/hello")
	r.wantExit(t, 0)
	if want := fmt.Sprintf("%d\n1000:1000 /app/owned\n0:0 /app/hello\n", env.uid); r.stdout != want {
		t.Errorf("keep-id: stdout %q, want %q\n%s", r.stdout, want, r)
	}
	// The host's view of the unpacked layer: the user's ids.
	layers, err := filepath.Glob(filepath.Join(h.dir, "data", "minimal-docker", "images", "layers", "*", "fs", "app", "owned"))
	if err != nil || len(layers) != 1 {
		t.Fatalf("the unpacked /app/owned: %v %v", layers, err)
	}
	if uid, gid := owner(t, layers[0]); uid != env.subuid.Start+1000 || gid != env.subgid.Start+1000 {
		t.Errorf("%s: owned by %d:%d on the host, want %d:%d", layers[0], uid, gid, env.subuid.Start+1000, env.subgid.Start+1000)
	}
	if uid, _ := owner(t, filepath.Join(filepath.Dir(layers[0]), "hello")); uid != env.subuid.Start {
		t.Errorf("/app/hello: owned by uid %d on the host, want the user's first subordinate uid %d", uid, env.subuid.Start)
	}
	r = h.md(t, "rmi", ref)
	r.wantExit(t, 0)
}

// pushImage pushes to ref an image of the busybox base and two layers:
// /app/hello (root's), /app/gone, /app/owned (uid 1000's), /data/old and
// a device node /app/dev/null; then a whiteout of /app/gone and an
// opaque /data holding only new.
func pushImage(t *testing.T, ref string) {
	t.Helper()
	var base bytes.Buffer
	tw := tar.NewWriter(&base)
	if err := testenv.WriteTar(tw, env.base, ""); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image,
		layerOf(t, base.Bytes()),
		layerOf(t, tarOf(t,
			&tar.Header{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755},
			&tar.Header{Name: "app/hello", Typeflag: tar.TypeReg, Mode: 0o644},
			&tar.Header{Name: "app/gone", Typeflag: tar.TypeReg, Mode: 0o644},
			&tar.Header{Name: "app/owned", Typeflag: tar.TypeReg, Mode: 0o644, Uid: 1000, Gid: 1000},
			&tar.Header{Name: "app/dev/", Typeflag: tar.TypeDir, Mode: 0o755},
			&tar.Header{Name: "app/dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
			&tar.Header{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o755},
			&tar.Header{Name: "data/old", Typeflag: tar.TypeReg, Mode: 0o644})),
		layerOf(t, tarOf(t,
			&tar.Header{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755},
			&tar.Header{Name: "app/.wh.gone", Typeflag: tar.TypeReg, Mode: 0o644},
			&tar.Header{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o755},
			&tar.Header{Name: "data/.wh..wh..opq", Typeflag: tar.TypeReg, Mode: 0o644},
			&tar.Header{Name: "data/new", Typeflag: tar.TypeReg, Mode: 0o644})))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config = v1.Config{Env: []string{"PATH=/usr/bin:/bin"}, Cmd: []string{"sh"}}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// tarOf is a tar of the headers, each regular file holding its own base
// name.
func tarOf(t *testing.T, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		content := ""
		if h.Typeflag == tar.TypeReg {
			content = filepath.Base(h.Name) + "\n"
			h.Size = int64(len(content))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func layerOf(t *testing.T, b []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}
