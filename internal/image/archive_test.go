package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

const testTag = "example.com/test/img:v1"

// dockerArchive is testImage as go-containerregistry's tarball package
// writes it (the `docker save` format, manifest.json only).
func dockerArchive(t *testing.T, img v1.Image) []byte {
	t.Helper()
	tag, err := name.NewTag(testTag)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tarball.Write(tag, img, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ociArchive is img in an OCI image layout (written by go-containerregistry)
// in a tar, named by the ref.name annotation.
func ociArchive(t *testing.T, img v1.Image) []byte {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{annotationRefName: testTag})); err != nil {
		t.Fatal(err)
	}
	return tarDir(t, dir)
}

// tarDir is the tar of a directory's files (names relative to it).
func tarDir(t *testing.T, dir string) []byte {
	t.Helper()
	out, err := exec.Command("tar", "-C", dir, "-c", ".").Output()
	if err != nil {
		t.Fatalf("tar: %v", err)
	}
	return out
}

// untar reads a tar into a map of its regular files and the names in order.
func untar(t *testing.T, data []byte) (map[string][]byte, []string) {
	t.Helper()
	files := map[string][]byte{}
	var order []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, order
		}
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, h.Name)
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = b
		}
	}
}

// retar writes files back as a tar in order (after a test changed them).
func retar(t *testing.T, files map[string][]byte, order []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range order {
		b, ok := files[n]
		if !ok {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func wantLoaded(t *testing.T, s *Store, refs []string, img v1.Image) *Image {
	t.Helper()
	want := "example.com/test/img:v1"
	if !slices.Equal(refs, []string{want}) {
		t.Fatalf("Load = %v, want [%s]", refs, want)
	}
	got, err := s.Lookup(want)
	if err != nil {
		t.Fatal(err)
	}
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id {
		t.Errorf("image id %s, want %s", got.ID, id)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Layers) != len(cfg.RootFS.DiffIDs) {
		t.Fatalf("%d layers, want %d", len(got.Layers), len(cfg.RootFS.DiffIDs))
	}
	for i, l := range got.Layers {
		if l.DiffID != cfg.RootFS.DiffIDs[i] || !s.HasBlob(l.Blob) || !s.HasLayer(l.ChainID) {
			t.Errorf("layer %d: %+v (blob stored %v, unpacked %v)", i, l, s.HasBlob(l.Blob), s.HasLayer(l.ChainID))
		}
	}
	checkLayers(t, s, got)
	return got
}

// Both archive formats load: the layers unpacked as a pull unpacks them,
// the image named by the archive's tag.
func TestLoadFormats(t *testing.T) {
	testenv.RequireRoot(t)
	img := testImage(t)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"docker save", dockerArchive(t, img)},
		{"OCI layout", ociArchive(t, img)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			refs, err := s.Load(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			wantLoaded(t, s, refs, img)
			if left := entries(t, s.path("tmp")); len(left) != 0 {
				t.Errorf("left in tmp: %v", left)
			}
		})
	}
}

// Save then Load into another store gives the same image; the archive is
// one that go-containerregistry reads both as `docker save` output and as
// an OCI layout.
func TestSaveLoadRoundTrip(t *testing.T) {
	testenv.RequireRoot(t)
	img := testImage(t)
	s1 := openStore(t)
	if _, err := s1.Load(bytes.NewReader(dockerArchive(t, img))); err != nil {
		t.Fatal(err)
	}
	orig, err := s1.Lookup(testTag)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s1.Save(&buf, []string{testTag}); err != nil {
		t.Fatal(err)
	}
	saved := buf.Bytes()

	s2 := openStore(t)
	refs, err := s2.Load(bytes.NewReader(saved))
	if err != nil {
		t.Fatal(err)
	}
	got := wantLoaded(t, s2, refs, img)
	if !slices.Equal(got.Layers, orig.Layers) {
		t.Errorf("layers %+v, want %+v", got.Layers, orig.Layers)
	}

	files, _ := untar(t, saved)
	var m tarball.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || !slices.Equal(m[0].RepoTags, []string{testTag}) {
		t.Errorf("manifest.json = %+v", m)
	}
	// go-containerregistry's docker-save reader.
	tag, _ := name.NewTag(testTag)
	dimg, err := tarball.Image(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(saved)), nil }, &tag)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := dimg.ConfigName(); err != nil || id != got.ID {
		t.Errorf("tarball reader: config %s, %v; want %s", id, err, got.ID)
	}
	// go-containerregistry's OCI layout reader.
	dir := t.TempDir()
	cmd := exec.Command("tar", "-C", dir, "-x")
	cmd.Stdin = bytes.NewReader(saved)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("untar: %v\n%s", err, out)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations[annotationContainerdRef] != testTag || im.Manifests[0].Annotations[annotationRefName] != "v1" {
		t.Fatalf("index.json = %+v", im)
	}
	oimg, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateLayers(oimg); err != nil {
		t.Errorf("OCI layout image: %v", err)
	}

	// Saving an image by id gives it no tag, and it loads as its id.
	buf.Reset()
	if err := s1.Save(&buf, []string{orig.ID.Hex[:12]}); err != nil {
		t.Fatal(err)
	}
	refs, err = openStore(t).Load(&buf)
	if err != nil || !slices.Equal(refs, []string{orig.ID.String()}) {
		t.Errorf("Load of an image saved by id = %v, %v; want [%s]", refs, err, orig.ID)
	}
}

// validateLayers reads every layer of img checking its digests.
func validateLayers(img v1.Image) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		want, err := l.Digest()
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if got := sha256Hash(data); got != want {
			return &DigestError{What: "layer", Want: want, Got: got}
		}
	}
	return nil
}

// An archive with a changed layer is refused and nothing of it is stored.
func TestLoadTamperedRefused(t *testing.T) {
	testenv.RequireRoot(t)
	img := testImage(t)
	// flip changes one byte of the content of the archive's file named n
	// (the first file ending in suffix).
	flip := func(data []byte, suffix string, legacy bool) []byte {
		files, order := untar(t, data)
		for _, n := range order {
			b := files[n]
			if !strings.HasSuffix(n, suffix) || n == "manifest.json" {
				continue
			}
			if legacy {
				// a plain layer tar: change the last layer's file, keep
				// it a tar (the layers below it are stored first)
				if !bytes.Contains(b, []byte("zstd content")) {
					continue
				}
				b = bytes.Replace(b, []byte("zstd content"), []byte("evil content"), 1)
			} else {
				b = bytes.Clone(b)
				b[len(b)/2] ^= 0xff
			}
			files[n] = b
			return retar(t, files, order)
		}
		t.Fatalf("no %s in the archive", suffix)
		return nil
	}
	// A layer as Docker before 25 writes it: <id>/layer.tar, plain.
	plainLayer := mutateLayerPlain(t, img)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"docker save: layer not its diff_id", flip(plainLayer, "layer.tar", true)},
		{"OCI layout: blob not its digest", flip(ociArchive(t, img), largestBlob(t, ociArchive(t, img)), false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			_, err := s.Load(bytes.NewReader(tc.data))
			var de *DigestError
			if !errors.As(err, &de) {
				t.Fatalf("Load = %v, want a digest error", err)
			}
			if imgs, err := s.Images(); err != nil || len(imgs) != 0 {
				t.Errorf("images after a refused load: %v, %v", imgs, err)
			}
			for _, d := range []string{s.path("blobs", "sha256"), s.path("layers"), s.path("records"), s.path("tmp")} {
				if left := entries(t, d); len(left) != 0 {
					t.Errorf("left in %s: %v", d, left)
				}
			}
		})
	}
}

// mutateLayerPlain is img as a legacy docker save archive: uncompressed
// layers at <n>/layer.tar, the config at <hex>.json.
func mutateLayerPlain(t *testing.T, img v1.Image) []byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := img.ConfigName()
	files := map[string][]byte{id.Hex + ".json": rawCfg}
	order := []string{id.Hex + ".json"}
	d := tarball.Descriptor{Config: id.Hex + ".json", RepoTags: []string{testTag}}
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		n := string(rune('a'+i)) + "/layer.tar"
		files[n] = b
		order = append(order, n)
		d.Layers = append(d.Layers, n)
	}
	m, err := json.Marshal(tarball.Manifest{d})
	if err != nil {
		t.Fatal(err)
	}
	files["manifest.json"] = m
	order = append(order, "manifest.json")
	return retar(t, files, order)
}

// largestBlob names the largest file in an archive (a layer).
func largestBlob(t *testing.T, data []byte) string {
	files, _ := untar(t, data)
	var best string
	for n, b := range files {
		if strings.Contains(n, "blobs/") && (best == "" || len(b) > len(files[best])) {
			best = n
		}
	}
	return best
}

// A busybox root filesystem tarball becomes a one-layer image, with the
// config the changes make.
func TestImportBusyboxRootfs(t *testing.T) {
	testenv.RequireRoot(t)
	busybox := "/bin/busybox"
	if _, err := os.Stat(busybox); err != nil {
		t.Skipf("no static busybox: %v", err)
	}
	rootfs := t.TempDir()
	if err := testenv.BuildBusyboxRootfs(rootfs, busybox, nil); err != nil {
		t.Fatal(err)
	}
	tarball := tarDir(t, rootfs)

	s := openStore(t)
	img, err := s.Import(bytes.NewReader(tarball), "my/busybox:imported", ImportOptions{
		Changes: []string{`CMD ["/bin/sh"]`, "ENV A=b", "WORKDIR /tmp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(img.RepoTags, []string{"docker.io/my/busybox:imported"}) || len(img.Layers) != 1 {
		t.Fatalf("imported image: %+v", img)
	}
	if img.Layers[0].DiffID != sha256Hash(tarball) {
		t.Errorf("layer diff_id %s, want the tarball's %s", img.Layers[0].DiffID, sha256Hash(tarball))
	}
	want, _ := os.ReadFile(busybox)
	got, err := os.ReadFile(filepath.Join(s.LowerDirs(img)[0], "bin", "busybox"))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("bin/busybox in the layer: %d bytes, %v; want %d bytes", len(got), err, len(want))
	}
	cfg, err := s.ConfigFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Config.Cmd, []string{"/bin/sh"}) || !slices.Equal(cfg.Config.Env, []string{"A=b"}) || cfg.Config.WorkingDir != "/tmp" {
		t.Errorf("config: %+v", cfg.Config)
	}
	if cfg.OS != "linux" || len(cfg.History) != 1 || cfg.History[0].Comment != "Imported from -" {
		t.Errorf("config: os %q, history %+v", cfg.OS, cfg.History)
	}
}

func TestImportRefused(t *testing.T) {
	testenv.RequireRoot(t)
	good := tarOf(t, ent{name: "a", body: "a"})
	for _, tc := range []struct {
		name, ref string
		data      []byte
		changes   []string
		want      string
	}{
		{"bad change", "x:1", good, []string{"FROM busybox"}, "FROM is not a valid change command"},
		{"digest reference", "x@sha256:" + strings.Repeat("a", 64), good, nil, "invalid reference"},
		{"escaping entry", "x:1", tarOf(t, ent{name: "../x", body: "x"}), nil, "escapes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			_, err := s.Import(bytes.NewReader(tc.data), tc.ref, ImportOptions{Changes: tc.changes})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Import = %v, want an error with %q", err, tc.want)
			}
			for _, d := range []string{s.path("blobs", "sha256"), s.path("layers"), s.path("records"), s.path("tmp")} {
				if left := entries(t, d); len(left) != 0 {
					t.Errorf("left in %s: %v", d, left)
				}
			}
		})
	}
}

func TestApplyChange(t *testing.T) {
	for _, tc := range []struct {
		change string
		check  func(c *v1.Config) bool
	}{
		{`CMD echo hi`, func(c *v1.Config) bool { return slices.Equal(c.Cmd, []string{"/bin/sh", "-c", "echo hi"}) }},
		{`ENTRYPOINT ["/bin/app", "-x"]`, func(c *v1.Config) bool { return slices.Equal(c.Entrypoint, []string{"/bin/app", "-x"}) }},
		{`ENV A=1 B="2"`, func(c *v1.Config) bool { return slices.Equal(c.Env, []string{"A=1", "B=2"}) }},
		{`ENV A one two`, func(c *v1.Config) bool { return slices.Equal(c.Env, []string{"A=one two"}) }},
		{`LABEL k=v`, func(c *v1.Config) bool { return c.Labels["k"] == "v" }},
		{`EXPOSE 80 53/udp`, func(c *v1.Config) bool {
			_, a := c.ExposedPorts["80/tcp"]
			_, b := c.ExposedPorts["53/udp"]
			return a && b
		}},
		{`VOLUME ["/data"]`, func(c *v1.Config) bool { _, ok := c.Volumes["/data"]; return ok }},
		{`user nobody`, func(c *v1.Config) bool { return c.User == "nobody" }},
		{`STOPSIGNAL SIGINT`, func(c *v1.Config) bool { return c.StopSignal == "SIGINT" }},
	} {
		t.Run(tc.change, func(t *testing.T) {
			var c v1.Config
			if err := applyChange(&c, tc.change); err != nil || !tc.check(&c) {
				t.Errorf("applyChange = %v; config %+v", err, c)
			}
		})
	}
	for _, bad := range []string{"FROM x", "CMD", `CMD ["unclosed"`, "ENV =x y"} {
		var c v1.Config
		if err := applyChange(&c, bad); err == nil {
			t.Errorf("applyChange(%q) succeeded", bad)
		}
	}
}

// Docker's legacy archives link a repeated layer to its first copy; links
// become files inside the archive's directory, and a link out is refused.
func TestExtractArchiveLinks(t *testing.T) {
	for _, tc := range []struct {
		name string
		ents []ent
		ok   bool
	}{
		{"relative symlink", []ent{{name: "a/layer.tar", body: "L"}, {name: "b/layer.tar", typ: tar.TypeSymlink, link: "../a/layer.tar"}}, true},
		{"hard link", []ent{{name: "a/layer.tar", body: "L"}, {name: "b/layer.tar", typ: tar.TypeLink, link: "a/layer.tar"}}, true},
		{"symlink out", []ent{{name: "b/layer.tar", typ: tar.TypeSymlink, link: "../../etc/passwd"}}, false},
		{"absolute symlink", []ent{{name: "b/layer.tar", typ: tar.TypeSymlink, link: "/etc/passwd"}}, false},
		{"entry out", []ent{{name: "../x", body: "x"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := extractArchive(bytes.NewReader(tarOf(t, tc.ents...)), dir)
			if !tc.ok {
				if err == nil {
					t.Fatal("extractArchive succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Lstat(filepath.Join(dir, "b", "layer.tar"))
			if err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("b/layer.tar: %v, %v; want a regular file", fi, err)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "b", "layer.tar")); err != nil || string(b) != "L" {
				t.Errorf("b/layer.tar = %q, %v", b, err)
			}
		})
	}
}
