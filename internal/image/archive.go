//go:build !lean

package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image archives: what `docker save` writes and `docker load` reads, and
// OCI image layouts in a tar. Since Docker 25 one archive is both:
//
//	blobs/sha256/<hex>   configs, layers, manifests
//	manifest.json        [{"Config": "blobs/sha256/<hex>", "RepoTags": ["busybox:latest"], "Layers": [...]}]
//	repositories         {"busybox": {"latest": "<top layer hex>"}} (legacy)
//	index.json, oci-layout   the OCI image layout over the same blobs
//
// An archive is read into a temp directory under the store's tmp/ first
// (manifest.json may come after the layers in the stream); everything in it
// is verified before it is used: files named by a digest against it, each
// layer against its config's diff_id. Blobs and layers then go into the
// store through PutBlob and UnpackLayer, whose temp+rename discipline keeps
// half-made files out; what an archive that fails half-way stored is
// garbage-collected before Load returns.

// Annotations an OCI layout's index names its images with.
const (
	annotationRefName       = "org.opencontainers.image.ref.name"
	annotationContainerdRef = "io.containerd.image.name"
)

// Load reads an image archive from r (a `docker save` archive or an OCI
// image layout in a tar; plain, gzip or zstd) into the store. It returns,
// per image, its references (normalized), or its id ("sha256:...") when
// the archive names it with none. An image whose layers or config do not
// match their digests is refused; after an error nothing of the image
// that failed remains.
func (s *Store) Load(r io.Reader) ([]string, error) {
	refs, err := s.load(r)
	if err != nil {
		// Blobs and layers stored before the failure: nothing names them.
		if _, gerr := s.gc(false); gerr != nil {
			err = errors.Join(err, gerr)
		}
		return refs, fmt.Errorf("load: %w", err)
	}
	return refs, nil
}

func (s *Store) load(r io.Reader) (refs []string, err error) {
	if err := s.sweepTmp(); err != nil {
		return nil, err
	}
	unlock, err := s.lock("gc.lock", lockSH)
	if err != nil {
		return nil, err
	}
	defer unlock()
	dir, err := s.tempDir("load-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
			err = fmt.Errorf("remove temp dir: %w", rerr)
		}
	}()
	if err := extractArchive(r, dir); err != nil {
		return nil, err
	}
	switch {
	case fileExists(filepath.Join(dir, "manifest.json")):
		return s.loadDockerArchive(dir)
	case fileExists(filepath.Join(dir, "index.json")):
		return s.loadOCILayout(dir)
	}
	return nil, errors.New("not an image archive: it has neither manifest.json (docker save) nor index.json (OCI image layout)")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// extractArchive writes the regular files of the tar stream r (plain, gzip
// or zstd) under dir. Directories are made by us, never taken from the
// archive; links (Docker's legacy archives link repeated layers) become
// hard links to files inside dir; an entry naming a path outside the
// archive, or of another type, is refused.
func extractArchive(r io.Reader, dir string) error {
	dr, err := Decompress(r)
	if err != nil {
		return fmt.Errorf("read archive: %w", err)
	}
	defer dr.Close()
	tr := tar.NewReader(dr)
	links := map[string]string{} // entry -> the entry it names
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		p, err := archivePath(hdr.Name)
		if err != nil {
			return err
		}
		if p == "." {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			// made as files need them
		case tar.TypeReg:
			if err := writeArchiveFile(filepath.Join(dir, p), tr); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if path.IsAbs(hdr.Linkname) {
				return fmt.Errorf("read archive: entry %q: symlink to an absolute path %q", hdr.Name, hdr.Linkname)
			}
			links[p] = path.Join(path.Dir(p), hdr.Linkname)
		case tar.TypeLink:
			links[p] = hdr.Linkname
		default:
			return fmt.Errorf("read archive: entry %q: unsupported type %q", hdr.Name, hdr.Typeflag)
		}
	}
	for p, target := range links {
		for hops := 0; ; hops++ {
			next, isLink := links[target]
			if !isLink {
				break
			}
			if hops == 16 {
				return fmt.Errorf("read archive: entry %q: too many levels of links", p)
			}
			target = next
		}
		t, err := archivePath(target)
		if err != nil {
			return fmt.Errorf("read archive: link %q: %w", p, err)
		}
		dst := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		if err := os.Link(filepath.Join(dir, t), dst); err != nil {
			return fmt.Errorf("read archive: link %q to %q: %w", p, target, err)
		}
	}
	return nil
}

// archivePath cleans an archive entry's name; it must stay inside the
// archive.
func archivePath(n string) (string, error) {
	p := path.Clean(n)
	if path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("read archive: entry %q: %w", n, ErrEscape)
	}
	return p, nil
}

func writeArchiveFile(p string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("read archive: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("read archive: %w", err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("read archive: write %s: %w", p, err)
	}
	return nil
}

// openArchiveFile opens the file an archive's manifest.json names. A file
// named by its digest (blobs/sha256/<hex>) must have it: the caller hashes
// what it reads and checks it against want.
func openArchiveFile(dir, n string) (f *os.File, want v1.Hash, err error) {
	p, err := archivePath(n)
	if err != nil {
		return nil, want, err
	}
	if h, ok := strings.CutPrefix(p, "blobs/sha256/"); ok {
		want = v1.Hash{Algorithm: "sha256", Hex: h}
		if err := checkHash(want); err != nil {
			return nil, want, fmt.Errorf("archive file %s: %w", n, err)
		}
	}
	f, err = os.Open(filepath.Join(dir, p))
	if err != nil {
		return nil, want, fmt.Errorf("archive file %s: %w", n, err)
	}
	return f, want, nil
}

// loadDockerArchive loads the images that manifest.json lists.
func (s *Store) loadDockerArchive(dir string) ([]string, error) {
	var m tarball.Manifest
	if err := readJSON(filepath.Join(dir, "manifest.json"), &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, errors.New("manifest.json lists no image")
	}
	var out []string
	for _, d := range m {
		var keys []string
		for _, t := range d.RepoTags {
			r, err := ParseTag(t)
			if err != nil {
				return out, fmt.Errorf("manifest.json: invalid tag %q: %w", t, err)
			}
			keys = append(keys, r.String())
		}
		rec, err := s.loadDockerImage(dir, d)
		if err != nil {
			return out, err
		}
		if err := s.addImage(rec, keys...); err != nil {
			return out, err
		}
		out = append(out, loadedNames(rec, keys)...)
	}
	return out, nil
}

func loadedNames(rec *Image, keys []string) []string {
	if len(keys) == 0 {
		return []string{rec.ID.String()}
	}
	return keys
}

// loadDockerImage stores the config and layers of one manifest.json entry
// and makes the image's manifest (an OCI one: the archive has none).
func (s *Store) loadDockerImage(dir string, d tarball.Descriptor) (*Image, error) {
	f, want, err := openArchiveFile(dir, d.Config)
	if err != nil {
		return nil, err
	}
	rawConfig, err := io.ReadAll(io.LimitReader(f, 8<<20))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("archive file %s: %w", d.Config, err)
	}
	id := sha256Hash(rawConfig)
	if want != (v1.Hash{}) && id != want {
		return nil, fmt.Errorf("config %s: %w", d.Config, &DigestError{What: "config", Want: want, Got: id})
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(rawConfig, &cfg); err != nil {
		return nil, fmt.Errorf("config %s: %w", d.Config, err)
	}
	diffIDs := cfg.RootFS.DiffIDs
	if len(diffIDs) != len(d.Layers) {
		return nil, fmt.Errorf("image %s: manifest.json lists %d layers, its config %d diff_ids", id, len(d.Layers), len(diffIDs))
	}
	chains := ChainIDs(diffIDs)
	rec := &Image{
		ID: id, Config: id, MediaType: string(types.OCIManifestSchema1),
		Created: cfg.Created.Time, Pulled: time.Now().UTC(),
	}
	manifest := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(rawConfig)), Digest: id},
	}
	for i, p := range d.Layers {
		l, err := s.loadLayerFile(dir, p, diffIDs[i], chains[i])
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", id, err)
		}
		rec.Layers = append(rec.Layers, l)
		manifest.Layers = append(manifest.Layers, v1.Descriptor{MediaType: types.MediaType(l.MediaType), Size: l.Size, Digest: l.Blob})
	}
	if _, err := s.putBytes(rawConfig, id); err != nil {
		return nil, fmt.Errorf("image %s: config: %w", id, err)
	}
	rawManifest, err := json.Marshal(manifest)
	if err != nil {
		return nil, fmt.Errorf("image %s: manifest: %w", id, err)
	}
	rec.Manifest = sha256Hash(rawManifest)
	if _, err := s.putBytes(rawManifest, rec.Manifest); err != nil {
		return nil, fmt.Errorf("image %s: manifest: %w", id, err)
	}
	return rec, nil
}

// loadLayerFile stores a layer of a docker save archive as the blob it is
// there (plain, gzip or zstd) and unpacks it. It is verified against its
// diff_id (and its name, if that is a digest) before anything of it is
// stored.
func (s *Store) loadLayerFile(dir, n string, diffID, chainID v1.Hash) (Layer, error) {
	f, want, err := openArchiveFile(dir, n)
	if err != nil {
		return Layer{}, err
	}
	defer f.Close()
	blob, gotDiff, size, err := layerDigests(f)
	if err != nil {
		return Layer{}, fmt.Errorf("layer %s: %w", n, err)
	}
	if want != (v1.Hash{}) && blob != want {
		return Layer{}, fmt.Errorf("layer %s: %w", n, &DigestError{What: "layer blob", Want: want, Got: blob})
	}
	if gotDiff != diffID {
		return Layer{}, fmt.Errorf("layer %s: %w", n, &DigestError{What: "layer diff_id", Want: diffID, Got: gotDiff})
	}
	mt, err := layerMediaType(f)
	if err != nil {
		return Layer{}, fmt.Errorf("layer %s: %w", n, err)
	}
	if !s.HasBlob(blob) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return Layer{}, fmt.Errorf("layer %s: %w", n, err)
		}
		if _, err := s.PutBlob(f, blob, nil); err != nil {
			return Layer{}, fmt.Errorf("layer %s: %w", n, err)
		}
	}
	if err := s.unpackBlob(blob, diffID, chainID); err != nil {
		return Layer{}, fmt.Errorf("layer %s: %w", n, err)
	}
	return Layer{Blob: blob, MediaType: string(mt), Size: size, DiffID: diffID, ChainID: chainID}, nil
}

// layerDigests reads a layer blob once: its digest, its uncompressed
// content's digest (diff_id) and its size.
func layerDigests(r io.Reader) (blob, diffID v1.Hash, size int64, err error) {
	bh := sha256.New()
	cr := &CountingReader{R: io.TeeReader(r, bh)}
	dr, err := Decompress(cr)
	if err != nil {
		return blob, diffID, 0, err
	}
	defer dr.Close()
	dh := sha256.New()
	if _, err := io.Copy(dh, dr); err != nil {
		return blob, diffID, 0, fmt.Errorf("read: %w", err)
	}
	if _, err := io.Copy(io.Discard, cr); err != nil { // past a compressed stream's end
		return blob, diffID, 0, fmt.Errorf("read: %w", err)
	}
	return hashOf(bh.Sum(nil)), hashOf(dh.Sum(nil)), cr.N, nil
}

func hashOf(sum []byte) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum)}
}

// layerMediaType tells a layer blob's OCI media type from its magic bytes.
func layerMediaType(f *os.File) (types.MediaType, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	magic, err := bufio.NewReader(f).Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return types.OCILayer, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return types.OCILayerZStd, nil
	}
	return types.OCIUncompressedLayer, nil
}

// loadOCILayout loads the images an OCI image layout's index.json lists,
// through the code that pulls (every blob verified against its digest, each
// layer against its diff_id). An entry that is an index gives this
// machine's image. Names come from the io.containerd.image.name annotation,
// else from org.opencontainers.image.ref.name when that is a reference (has
// a repository, not a bare tag such as "latest").
func (s *Store) loadOCILayout(dir string) ([]string, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("OCI layout: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("OCI layout: index.json: %w", err)
	}
	var out []string
	for _, desc := range im.Manifests {
		img, err := imageOf(idx, desc)
		if err != nil {
			return out, fmt.Errorf("OCI layout: manifest %s: %w", desc.Digest, err)
		}
		if img == nil {
			continue // not an image (an attestation, a signature)
		}
		var keys []string
		if n := ociRefName(desc.Annotations); n != "" {
			r, err := ParseTag(n)
			if err != nil {
				return out, fmt.Errorf("OCI layout: manifest %s: invalid name %q: %w", desc.Digest, n, err)
			}
			keys = append(keys, r.String())
		}
		rec, err := s.fetchImage(context.Background(), img, PullOptions{})
		if err != nil {
			return out, fmt.Errorf("OCI layout: manifest %s: %w", desc.Digest, err)
		}
		if err := s.addImage(rec, keys...); err != nil {
			return out, err
		}
		out = append(out, loadedNames(rec, keys)...)
	}
	if len(out) == 0 {
		return nil, errors.New("OCI layout: index.json lists no image")
	}
	return out, nil
}

func ociRefName(ann map[string]string) string {
	if n := ann[annotationContainerdRef]; n != "" {
		return n
	}
	n := ann[annotationRefName]
	if strings.ContainsAny(n, "/:@") {
		return n
	}
	return ""
}

// imageOf is the image a descriptor of an index names (for an index, this
// machine's platform's), verified against the descriptor's digest; nil for
// what is not an image.
func imageOf(idx v1.ImageIndex, desc v1.Descriptor) (v1.Image, error) {
	if desc.MediaType.IsIndex() {
		child, err := idx.ImageIndex(desc.Digest)
		if err != nil {
			return nil, err
		}
		cm, err := child.IndexManifest()
		if err != nil {
			return nil, err
		}
		plat := platformOf(nil)
		for _, d := range cm.Manifests {
			if d.MediaType.IsImage() && d.Platform != nil && d.Platform.Satisfies(plat) {
				return imageOf(child, d)
			}
		}
		return nil, fmt.Errorf("no image for %s in the index", plat)
	}
	if !desc.MediaType.IsImage() {
		return nil, nil
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		return nil, err
	}
	got, err := img.Digest()
	if err != nil {
		return nil, err
	}
	if got != desc.Digest {
		return nil, &DigestError{What: "manifest", Want: desc.Digest, Got: got}
	}
	return img, nil
}

// savedImage is an image Save writes and the tags it is saved under.
type savedImage struct {
	img  *Image
	tags []string // normalized
}

// Save writes the images refs name to w as one archive that `docker load`
// reads (manifest.json, repositories) and that is an OCI image layout too
// (oci-layout, index.json), as Docker 25 and later write it. Layers are
// written as the blobs the store has (compressed as they were pulled).
// An image named by its id is saved without tags, as Docker does.
func (s *Store) Save(w io.Writer, refs []string) error {
	if len(refs) == 0 {
		return errors.New("save: no image given")
	}
	unlock, err := s.lock("gc.lock", lockSH) // no blob goes while we read
	if err != nil {
		return err
	}
	defer unlock()
	var imgs []*savedImage
	byID := map[v1.Hash]*savedImage{}
	for _, ref := range refs {
		img, err := s.Lookup(ref)
		if err != nil {
			return fmt.Errorf("save: %w", err)
		}
		si := byID[img.ID]
		if si == nil {
			si = &savedImage{img: img}
			byID[img.ID] = si
			imgs = append(imgs, si)
		}
		if r, err := ParseTag(ref); err == nil {
			if key := r.String(); contains(img.RepoTags, key) && !contains(si.tags, key) {
				si.tags = append(si.tags, key)
			}
		}
	}
	if err := s.writeArchive(tar.NewWriter(w), imgs); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// archiveTime is the modification time of every entry Save writes: the
// archive of an image is the same bytes each time.
var archiveTime = time.Unix(0, 0)

func (s *Store) writeArchive(tw *tar.Writer, imgs []*savedImage) error {
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: archiveTime}); err != nil {
			return err
		}
	}
	written := map[v1.Hash]bool{}
	var manifest tarball.Manifest
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	repositories := map[string]map[string]string{}
	for _, si := range imgs {
		img := si.img
		d := tarball.Descriptor{Config: "blobs/sha256/" + img.Config.Hex}
		for _, h := range append([]v1.Hash{img.Config, img.Manifest}, blobsOf(img)...) {
			if written[h] {
				continue
			}
			if err := s.writeBlob(tw, h); err != nil {
				return fmt.Errorf("image %s: %w", img.ID, err)
			}
			written[h] = true
		}
		for _, l := range img.Layers {
			d.Layers = append(d.Layers, "blobs/sha256/"+l.Blob.Hex)
		}
		fi, err := os.Stat(s.blobPath(img.Manifest))
		if err != nil {
			return fmt.Errorf("image %s: manifest: %w", img.ID, err)
		}
		mdesc := v1.Descriptor{MediaType: types.MediaType(img.MediaType), Digest: img.Manifest, Size: fi.Size()}
		if len(si.tags) == 0 {
			index.Manifests = append(index.Manifests, mdesc)
		}
		for _, t := range si.tags {
			d.RepoTags = append(d.RepoTags, Familiar(t))
			td := mdesc
			tag := t[strings.LastIndex(t, ":")+1:]
			td.Annotations = map[string]string{annotationContainerdRef: t, annotationRefName: tag}
			index.Manifests = append(index.Manifests, td)
			repo := Familiar(strings.TrimSuffix(t, ":"+tag))
			if repositories[repo] == nil {
				repositories[repo] = map[string]string{}
			}
			if n := len(img.Layers); n > 0 {
				repositories[repo][tag] = img.Layers[n-1].Blob.Hex
			}
		}
		manifest = append(manifest, d)
	}
	files := []struct {
		name string
		v    any
	}{
		{"index.json", index},
		{"manifest.json", manifest},
		{"oci-layout", map[string]string{"imageLayoutVersion": "1.0.0"}},
		{"repositories", repositories},
	}
	for _, f := range files {
		data, err := json.Marshal(f.v)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if err := writeTarFile(tw, f.name, bytes.NewReader(data), int64(len(data))); err != nil {
			return err
		}
	}
	return tw.Close()
}

func blobsOf(img *Image) []v1.Hash {
	out := make([]v1.Hash, 0, len(img.Layers))
	for _, l := range img.Layers {
		out = append(out, l.Blob)
	}
	return out
}

// writeBlob copies a blob of the store into the archive, verifying it
// against its digest on the way.
func (s *Store) writeBlob(tw *tar.Writer, h v1.Hash) error {
	f, err := os.Open(s.blobPath(h))
	if err != nil {
		return fmt.Errorf("blob %s: %w", h, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("blob %s: %w", h, err)
	}
	sum := sha256.New()
	if err := writeTarFile(tw, "blobs/sha256/"+h.Hex, io.TeeReader(f, sum), fi.Size()); err != nil {
		return err
	}
	if got := hashOf(sum.Sum(nil)); got != h {
		return fmt.Errorf("blob %s: %w", h, &DigestError{What: "blob", Want: h, Got: got})
	}
	return nil
}

func writeTarFile(tw *tar.Writer, n string, r io.Reader, size int64) error {
	hdr := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: size, ModTime: archiveTime}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write %s: %w", n, err)
	}
	if _, err := io.Copy(tw, r); err != nil {
		return fmt.Errorf("write %s: %w", n, err)
	}
	return nil
}

// ImportOptions tune Import (docker import's flags).
type ImportOptions struct {
	// Changes are Dockerfile instructions applied to the image's config
	// (--change): CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME,
	// WORKDIR, STOPSIGNAL.
	Changes []string
	// Message is the history comment (--message); "" is "Imported from
	// <Source>".
	Message string
	// Source names where the tarball came from ("-" for stdin).
	Source string
}

// Import makes a one-layer image from a root filesystem tarball read from r
// (plain, gzip or zstd), stored uncompressed as Docker's import stores it,
// named ref (a tag) when ref is not "".
func (s *Store) Import(r io.Reader, ref string, opts ImportOptions) (*Image, error) {
	img, err := s.importImage(r, ref, opts)
	if err != nil {
		if _, gerr := s.gc(false); gerr != nil {
			err = errors.Join(err, gerr)
		}
		return nil, fmt.Errorf("import: %w", err)
	}
	return img, nil
}

func (s *Store) importImage(r io.Reader, ref string, opts ImportOptions) (img *Image, err error) {
	var keys []string
	if ref != "" {
		t, err := ParseTag(ref)
		if err != nil {
			return nil, fmt.Errorf("invalid reference %q: %w", ref, err)
		}
		keys = append(keys, t.String())
	}
	now := time.Now().UTC()
	cfg := &v1.ConfigFile{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Created:      v1.Time{Time: now},
	}
	for _, c := range opts.Changes {
		if err := applyChange(&cfg.Config, c); err != nil {
			return nil, err
		}
	}
	comment := opts.Message
	if comment == "" {
		src := opts.Source
		if src == "" {
			src = "-"
		}
		comment = "Imported from " + src
	}
	cfg.History = []v1.History{{Created: cfg.Created, Comment: comment}}

	if err := s.sweepTmp(); err != nil {
		return nil, err
	}
	unlock, err := s.lock("gc.lock", lockSH)
	if err != nil {
		return nil, err
	}
	defer unlock()
	f, err := os.CreateTemp(s.path("tmp"), "import-")
	if err != nil {
		return nil, err
	}
	defer func() {
		f.Close()
		if rerr := os.Remove(f.Name()); rerr != nil && err == nil {
			err = fmt.Errorf("remove temp file: %w", rerr)
		}
	}()
	dr, err := Decompress(r)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(f, h), dr)
	dr.Close()
	if err != nil {
		return nil, fmt.Errorf("read tarball: %w", err)
	}
	diffID := hashOf(h.Sum(nil))
	if !s.HasBlob(diffID) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		if _, err := s.PutBlob(f, diffID, nil); err != nil {
			return nil, err
		}
	}
	if err := s.unpackBlob(diffID, diffID, diffID); err != nil {
		return nil, err
	}
	cfg.RootFS = v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{diffID}}
	rawConfig, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	id := sha256Hash(rawConfig)
	if _, err := s.putBytes(rawConfig, id); err != nil {
		return nil, err
	}
	manifest := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(rawConfig)), Digest: id},
		Layers:        []v1.Descriptor{{MediaType: types.OCIUncompressedLayer, Size: size, Digest: diffID}},
	}
	rawManifest, err := json.Marshal(manifest)
	if err != nil {
		return nil, err
	}
	rec := &Image{
		ID: id, Config: id, Manifest: sha256Hash(rawManifest), MediaType: string(types.OCIManifestSchema1),
		Created: now, Pulled: now,
		Layers: []Layer{{Blob: diffID, MediaType: string(types.OCIUncompressedLayer), Size: size, DiffID: diffID, ChainID: diffID}},
	}
	if _, err := s.putBytes(rawManifest, rec.Manifest); err != nil {
		return nil, err
	}
	if err := s.addImage(rec, keys...); err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		return s.Lookup(keys[0])
	}
	return s.Lookup(id.String())
}
