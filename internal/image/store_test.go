package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

func layerOf(t *testing.T, comp compression.Compression, ents ...ent) v1.Layer {
	t.Helper()
	data := tarOf(t, ents...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithCompression(comp))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testImage has three layers (gzip, gzip, zstd) with a setuid file, a hard
// link, a symlink, an xattr, an owned file, a whiteout and an opaque dir.
func testImage(t *testing.T) v1.Image {
	t.Helper()
	l1 := layerOf(t, compression.GZip,
		ent{name: "bin/", typ: tar.TypeDir},
		ent{name: "bin/su", body: "su binary", mode: 0o4755},
		ent{name: "bin/su-link", typ: tar.TypeLink, link: "bin/su"},
		ent{name: "bin/sh", typ: tar.TypeSymlink, link: "/bin/su"},
		ent{name: "home/user/file", body: "mine", uid: 1000, gid: 1000, mode: 0o600},
		ent{name: "etc/x", body: "attr", xattrs: map[string]string{"trusted.md-test": "v1"}},
		ent{name: "gone", body: "to be whited out"},
		ent{name: "opaque/", typ: tar.TypeDir},
		ent{name: "opaque/old", body: "old"},
	)
	l2 := layerOf(t, compression.GZip,
		ent{name: ".wh.gone"},
		ent{name: "opaque/", typ: tar.TypeDir},
		ent{name: "opaque/.wh..wh..opq"},
		ent{name: "opaque/new", body: "new"},
	)
	l3 := layerOf(t, compression.ZStd, ent{name: "zfile", body: "zstd content"})
	img, err := mutate.AppendLayers(empty.Image, l1, l2, l3)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// serve starts an in-process registry on 127.0.0.1; wrap, if not nil,
// wraps its handler.
func serve(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	h := registry.New(registry.Logger(nilLogger()))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func push(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// leftovers lists what is under tmp/ and layers/ (for "nothing left").
func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestPullByTagAndDigest(t *testing.T) {
	testenv.RequireRoot(t)
	host := serve(t, nil)
	img := testImage(t)
	push(t, host+"/test/img:v1", img)
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	wantID, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}

	s := openStore(t)
	var mu sync.Mutex
	seen := map[Status]int{}
	got, err := s.Pull(context.Background(), host+"/test/img:v1", PullOptions{Progress: ProgressFunc(func(e Event) {
		mu.Lock()
		seen[e.Status]++
		mu.Unlock()
	})})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != wantID {
		t.Errorf("image id %s, want %s", got.ID, wantID)
	}
	if len(got.Layers) != 3 || seen[StatusComplete] != 3 {
		t.Errorf("%d layers, %d completed: %v", len(got.Layers), seen[StatusComplete], seen)
	}
	wantTag := host + "/test/img:v1"
	wantDigest := host + "/test/img@" + digest.String()
	if len(got.RepoTags) != 1 || got.RepoTags[0] != wantTag || len(got.RepoDigests) != 1 || got.RepoDigests[0] != wantDigest {
		t.Errorf("tags %v digests %v, want [%s] [%s]", got.RepoTags, got.RepoDigests, wantTag, wantDigest)
	}
	checkLayers(t, s, got)

	// By digest, again: same image, nothing fetched.
	seen = map[Status]int{}
	again, err := s.Pull(context.Background(), wantDigest, PullOptions{Progress: ProgressFunc(func(e Event) {
		mu.Lock()
		seen[e.Status]++
		mu.Unlock()
	})})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != wantID || seen[StatusExists] != 3 || seen[StatusDownloading] != 0 {
		t.Errorf("pull by digest: id %s, events %v", again.ID, seen)
	}
	for _, ref := range []string{wantTag, wantDigest, wantID.String(), wantID.Hex[:12]} {
		if l, err := s.Lookup(ref); err != nil || l.ID != wantID {
			t.Errorf("Lookup(%s) = %v, %v", ref, l, err)
		}
	}
	if cfg, err := s.ConfigFile(got); err != nil || len(cfg.RootFS.DiffIDs) != 3 {
		t.Errorf("ConfigFile: %v", err)
	}
	if dirs := s.LowerDirs(got); len(dirs) != 3 || dirs[0] != s.LayerDir(got.Layers[2].ChainID) {
		t.Errorf("LowerDirs = %v", dirs)
	}
	if tmp := entries(t, s.path("tmp")); len(tmp) != 0 {
		t.Errorf("left in tmp: %v", tmp)
	}

	// Remove by tag: the record, its digest reference, layers and blobs go.
	rm, err := s.Remove(wantTag, RemoveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.Deleted) != 1 || len(rm.Untagged) != 2 {
		t.Errorf("Remove = %+v", rm)
	}
	if _, err := s.Lookup(wantDigest); !errors.Is(err, ErrNotFound) {
		t.Errorf("after remove, Lookup = %v, want ErrNotFound", err)
	}
	for _, d := range []string{s.path("layers"), s.path("blobs", "sha256"), s.path("records"), s.path("tmp")} {
		if left := entries(t, d); len(left) != 0 {
			t.Errorf("left in %s after remove: %v", d, left)
		}
	}
}

func checkLayers(t *testing.T, s *Store, img *Image) {
	t.Helper()
	l1 := s.LayerDir(img.Layers[0].ChainID)
	l2 := s.LayerDir(img.Layers[1].ChainID)
	l3 := s.LayerDir(img.Layers[2].ChainID)

	var su, link unix.Stat_t
	if err := unix.Lstat(filepath.Join(l1, "bin/su"), &su); err != nil {
		t.Fatal(err)
	}
	if su.Mode&07777 != 04755 {
		t.Errorf("bin/su mode %o, want 4755", su.Mode&07777)
	}
	if err := unix.Lstat(filepath.Join(l1, "bin/su-link"), &link); err != nil {
		t.Fatal(err)
	}
	if link.Ino != su.Ino || su.Nlink != 2 {
		t.Errorf("bin/su-link is not a hard link of bin/su (ino %d/%d, nlink %d)", link.Ino, su.Ino, su.Nlink)
	}
	if target, err := os.Readlink(filepath.Join(l1, "bin/sh")); err != nil || target != "/bin/su" {
		t.Errorf("bin/sh -> %q, %v", target, err)
	}
	var owned unix.Stat_t
	if err := unix.Lstat(filepath.Join(l1, "home/user/file"), &owned); err != nil {
		t.Fatal(err)
	}
	if owned.Uid != 1000 || owned.Gid != 1000 || owned.Mode&0o777 != 0o600 {
		t.Errorf("home/user/file %d:%d %o, want 1000:1000 600", owned.Uid, owned.Gid, owned.Mode&0o777)
	}
	buf := make([]byte, 16)
	if n, err := unix.Lgetxattr(filepath.Join(l1, "etc/x"), "trusted.md-test", buf); err != nil || string(buf[:n]) != "v1" {
		t.Errorf("etc/x xattr = %q, %v", buf[:n], err)
	}
	if fi, err := os.Stat(l1); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("layer root: %v %v", fi, err)
	}

	var wh unix.Stat_t
	if err := unix.Lstat(filepath.Join(l2, "gone"), &wh); err != nil {
		t.Fatal(err)
	}
	if wh.Mode&unix.S_IFMT != unix.S_IFCHR || wh.Rdev != 0 || wh.Uid != 0 || wh.Gid != 0 {
		t.Errorf("whiteout gone: mode %o rdev %d owner %d:%d", wh.Mode, wh.Rdev, wh.Uid, wh.Gid)
	}
	if n, err := unix.Lgetxattr(filepath.Join(l2, "opaque"), rootfs.OverlayOpaqueXattr(), buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque xattr = %q, %v", buf[:n], err)
	}
	if _, err := os.Lstat(filepath.Join(l2, "opaque", whiteoutOpaque)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opaque marker file was unpacked: %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(l3, "zfile")); err != nil || string(data) != "zstd content" {
		t.Errorf("zstd layer zfile = %q, %v", data, err)
	}
}

func TestPullConcurrent(t *testing.T) {
	testenv.RequireRoot(t)
	host := serve(t, nil)
	push(t, host+"/test/img:v1", testImage(t))
	root := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	ids := make([]v1.Hash, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A store each, as two processes would have.
			s, err := Open(root, Options{})
			if err == nil {
				var img *Image
				img, err = s.Pull(context.Background(), host+"/test/img:v1", PullOptions{MaxConcurrentDownloads: 1})
				if err == nil {
					ids[i] = img.ID
				}
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("pull %d: %v", i, err)
		}
	}
	if ids[0] != ids[1] {
		t.Errorf("ids %s and %s", ids[0], ids[1])
	}
	s, _ := Open(root, Options{})
	imgs, err := s.Images()
	if err != nil || len(imgs) != 1 {
		t.Fatalf("Images = %v, %v", imgs, err)
	}
	checkLayers(t, s, imgs[0])
	if left := entries(t, s.path("tmp")); len(left) != 0 {
		t.Errorf("left in tmp: %v", left)
	}
}

func TestPullWrongDigestRefused(t *testing.T) {
	testenv.RequireRoot(t)
	img := testImage(t)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	bad, err := layers[1].Digest()
	if err != nil {
		t.Fatal(err)
	}
	size, err := layers[1].Size()
	if err != nil {
		t.Fatal(err)
	}
	// The registry serves other bytes (of the right size) for one layer's
	// blob.
	host := serve(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+bad.String()) {
				w.Write(bytes.Repeat([]byte("x"), int(size)))
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	push(t, host+"/test/img:v1", img)
	s := openStore(t)
	_, err = s.Pull(context.Background(), host+"/test/img:v1", PullOptions{})
	if err == nil || !strings.Contains(err.Error(), bad.String()) {
		t.Fatalf("Pull = %v, want an error naming the tampered blob %s", err, bad)
	}
	if s.HasBlob(bad) {
		t.Error("the tampered blob was stored")
	}
	if left := entries(t, s.path("records")); len(left) != 0 {
		t.Errorf("an image record was written: %v", left)
	}
	// Layers fetched before the failure are complete ones; GC takes them.
	if _, err := s.GC(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{s.path("layers"), s.path("blobs", "sha256"), s.path("tmp")} {
		if left := entries(t, d); len(left) != 0 {
			t.Errorf("left in %s: %v", d, left)
		}
	}
}

func TestPutBlobWrongDigest(t *testing.T) {
	s := openStore(t)
	want := sha256Hash([]byte("right"))
	_, err := s.PutBlob(strings.NewReader("wrong"), want, nil)
	var de *DigestError
	if !errors.As(err, &de) {
		t.Fatalf("PutBlob = %v, want a DigestError", err)
	}
	if s.HasBlob(want) || len(entries(t, s.path("tmp"))) != 0 {
		t.Error("something was left of a refused blob")
	}
	if _, err := s.PutBlob(strings.NewReader("right"), want, nil); err != nil {
		t.Fatal(err)
	}
	if data, err := s.ReadBlob(want); err != nil || string(data) != "right" {
		t.Errorf("ReadBlob = %q, %v", data, err)
	}
	// A blob changed on disk is refused when read.
	if err := os.WriteFile(s.blobPath(want), []byte("rotten"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadBlob(want); !errors.As(err, &de) {
		t.Errorf("ReadBlob of a changed blob = %v, want a DigestError", err)
	}
}

// A layer that fails (an escape, a wrong diff_id) leaves nothing behind.
func TestUnpackLayerFailureLeavesNothing(t *testing.T) {
	testenv.RequireRoot(t)
	good := tarOf(t, ent{name: "a", body: "a"}, ent{name: "b/c", body: "c"})
	evil := tarOf(t, ent{name: "a", body: "a"}, ent{name: "../x", body: "x"})
	for _, tc := range []struct {
		name   string
		data   []byte
		diffID v1.Hash
	}{
		{"escape", evil, sha256Hash(evil)},
		{"wrong diff_id", good, sha256Hash([]byte("other"))},
		{"truncated", good[:700], sha256Hash(good)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			chain := tc.diffID
			if err := s.UnpackLayer(bytes.NewReader(tc.data), v1.Hash{}, tc.diffID, chain); err == nil {
				t.Fatal("UnpackLayer succeeded")
			}
			if s.HasLayer(chain) {
				t.Error("the layer is in the store")
			}
			for _, d := range []string{s.path("layers"), s.path("tmp")} {
				if left := entries(t, d); len(left) != 0 {
					t.Errorf("left in %s: %v", d, left)
				}
			}
		})
	}
}

// An image whose layer escapes is refused by Pull with nothing recorded.
func TestPullEvilLayer(t *testing.T) {
	testenv.RequireRoot(t)
	host := serve(t, nil)
	evil := layerOf(t, compression.GZip, ent{name: "ok", body: "ok"}, ent{name: "../../../../../../tmp/md-evil", body: "x"})
	img, err := mutate.AppendLayers(empty.Image, evil)
	if err != nil {
		t.Fatal(err)
	}
	push(t, host+"/test/evil:v1", img)
	s := openStore(t)
	_, err = s.Pull(context.Background(), host+"/test/evil:v1", PullOptions{})
	if !errors.Is(err, ErrEscape) {
		t.Fatalf("Pull = %v, want ErrEscape", err)
	}
	if _, err := os.Stat("/tmp/md-evil"); err == nil {
		t.Error("/tmp/md-evil was written")
	}
	for _, d := range []string{s.path("layers"), s.path("records"), s.path("tmp")} {
		if left := entries(t, d); len(left) != 0 {
			t.Errorf("left in %s: %v", d, left)
		}
	}
	if _, err := s.Lookup(host + "/test/evil:v1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup = %v, want ErrNotFound", err)
	}
}

func TestRemoveInUse(t *testing.T) {
	testenv.RequireRoot(t)
	host := serve(t, nil)
	push(t, host+"/test/img:v1", testImage(t))
	inUse := true
	s, err := Open(t.TempDir(), Options{LayerInUse: func(v1.Hash) (bool, error) { return inUse, nil }})
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Pull(context.Background(), host+"/test/img:v1", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(host+"/test/img:v1", RemoveOptions{}); !errors.Is(err, ErrInUse) {
		t.Fatalf("Remove = %v, want ErrInUse", err)
	}
	// Forced: the image goes, its layers stay while they are in use.
	if _, err := s.Remove(host+"/test/img:v1", RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if !s.HasLayer(img.Layers[0].ChainID) {
		t.Error("a layer in use was removed")
	}
	inUse = false
	rep, err := s.GC()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 3 || s.HasLayer(img.Layers[0].ChainID) {
		t.Errorf("GC removed %v", rep.Layers)
	}
}

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	tr := loopbackHTTPOnly{http.DefaultTransport}
	req, _ := http.NewRequest(http.MethodGet, "http://10.1.2.3:5000/v2/", nil)
	if _, err := tr.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("plain HTTP to 10.1.2.3: %v", err)
	}
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
		if !isLoopback(strings.Trim(h, "[]")) {
			t.Errorf("%s is not loopback", h)
		}
	}
}

func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// From an index, the image of this machine's platform is pulled.
func TestPullPlatformFromIndex(t *testing.T) {
	testenv.RequireRoot(t)
	host := serve(t, nil)
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	mine := testImage(t)
	theirs, err := mutate.AppendLayers(empty.Image, layerOf(t, compression.GZip, ent{name: "other", body: other}))
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: theirs, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: other}}},
		mutate.IndexAddendum{Add: mine, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}},
	)
	r, err := name.ParseReference(host + "/test/multi:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	wantID, err := mine.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	img, err := s.Pull(context.Background(), host+"/test/multi:v1", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img.ID != wantID {
		t.Errorf("pulled %s, want this platform's image %s", img.ID, wantID)
	}
	if want := host + "/test/multi@" + idxDigest.String(); len(img.RepoDigests) != 1 || img.RepoDigests[0] != want {
		t.Errorf("RepoDigests %v, want [%s]", img.RepoDigests, want)
	}
	if !s.HasBlob(idxDigest) {
		t.Error("the index was not kept")
	}
	checkLayers(t, s, img)
}

// TestPinHoldsOffGC: a run's pin (from its lookup until its container's
// directory names the layers) keeps a forced rmi's GC from removing the
// layers in between: the GC waits for the pin and then sees them in use.
func TestPinHoldsOffGC(t *testing.T) {
	testenv.RequireRoot(t)
	host := serve(t, nil)
	ref := host + "/test/img:v1"
	push(t, ref, testImage(t))
	var inUse atomic.Bool
	s, err := Open(t.TempDir(), Options{LayerInUse: func(v1.Hash) (bool, error) { return inUse.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pull(context.Background(), ref, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	unpin, err := s.Pin()
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Lookup(ref)
	if err != nil {
		unpin()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Remove(ref, RemoveOptions{Force: true})
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // the rmi runs on meanwhile, up to the pin
	inUse.Store(true)                  // the container's directory names the layers
	unpin()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, l := range img.Layers {
		if !s.HasLayer(l.ChainID) {
			t.Errorf("layer %s removed between a run's lookup and its use", l.ChainID)
		}
	}
}
