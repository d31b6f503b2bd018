// Package image keeps images on disk: a content store of blobs, the layers
// unpacked once each and shared by every image that has them, image records
// and the references that name them; and pulls images from registries into
// it, loads and saves archives and imports tarballs. Those (pull.go,
// archive.go, change.go, unpack.go, layer_unpack.go) are left out of a
// build with the tag lean: the lean minimal-docker, which reads the store
// only, hands them to minimal-docker-image.
//
// Layout under the store's root (the global --root, /var/lib/minimal-docker
// by default):
//
//	images/blobs/sha256/<hex>        blobs (manifests, indexes, configs, compressed layers)
//	images/layers/<chain hex>/fs/    a layer's files, overlayfs whiteouts included
//	images/layers/<chain hex>/layer.json
//	images/records/<id hex>.json     an image: its manifest, config and layers
//	images/refs.json                 references (repo:tag, repo@digest) -> image id
//	images/tmp/                      work in progress; emptied by GC
//	images/gc.lock, images/index.lock
//
// Everything that appears under blobs/, layers/ and records/ is complete and
// verified: it is written under tmp/ and renamed into place. Two locks
// (flock) keep concurrent users apart: pulls hold gc.lock shared for their
// whole run and GC holds it exclusive, so GC never removes what a pull is
// making; index.lock is held exclusive for every change of refs.json and
// records/, shared to read them. Taken in that order (gc, then index).
package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// DefaultRoot is the global --root's default.
const DefaultRoot = "/var/lib/minimal-docker"

// Options configure a Store.
type Options struct {
	// LayerInUse, when set, says whether a container uses a layer (by
	// chain id). Remove refuses to remove an image whose layers are in use
	// (unless forced) and GC never removes a layer in use.
	LayerInUse func(chainID v1.Hash) (bool, error)
}

// Store is an image store under a root directory. It is safe for
// concurrent use by goroutines and processes.
type Store struct {
	dir  string
	opts Options
}

// Open opens (creating if needed) the image store under root.
func Open(root string, opts Options) (*Store, error) {
	s := &Store{dir: filepath.Join(root, "images"), opts: opts}
	for _, d := range []string{s.dir, s.path("blobs", "sha256"), s.path("layers"), s.path("records"), s.path("tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("open image store: %w", err)
		}
	}
	return s, nil
}

// Root is the directory the store keeps its files in.
func (s *Store) Root() string { return s.dir }

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.dir}, elem...)...)
}

const (
	lockSH = unix.LOCK_SH
	lockEX = unix.LOCK_EX
)

// Pin holds off the removal of layers (GC) until the returned func is
// called. A run pins the store from its lookup of an image until its
// container's directory names the image's layers (where
// Options.LayerInUse finds them), so that an rmi in between cannot remove
// a layer that the container is about to mount. GC waits for pins; they
// last milliseconds.
func (s *Store) Pin() (func(), error) { return s.lock("use.lock", lockSH) }

// lock takes a flock on the named lock file; the returned func releases it.
func (s *Store) lock(name string, how int) (func(), error) {
	p := s.path(name)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: p, Err: err}
	}
	return func() { f.Close() }, nil
}

// tempDir makes a fresh directory under tmp/.
func (s *Store) tempDir(prefix string) (string, error) {
	d, err := os.MkdirTemp(s.path("tmp"), prefix)
	if err != nil {
		return "", fmt.Errorf("make temp dir: %w", err)
	}
	return d, nil
}

// writeFileAtomic writes data to p through a temp file and a rename.
func (s *Store) writeFileAtomic(p string, data []byte) error {
	f, err := os.CreateTemp(s.path("tmp"), "file-")
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// --- blobs ---

func checkHash(h v1.Hash) error {
	if h.Algorithm != "sha256" || len(h.Hex) != 64 {
		return fmt.Errorf("unsupported digest %q", h.String())
	}
	if _, err := hex.DecodeString(h.Hex); err != nil {
		return fmt.Errorf("bad digest %q", h.String())
	}
	return nil
}

func (s *Store) blobPath(h v1.Hash) string { return s.path("blobs", "sha256", h.Hex) }

// HasBlob says whether the blob is in the store.
func (s *Store) HasBlob(h v1.Hash) bool {
	if checkHash(h) != nil {
		return false
	}
	_, err := os.Stat(s.blobPath(h))
	return err == nil
}

// PutBlob copies r into the store as blob want. The content is hashed as
// it is written to a temp file and renamed into place only if its digest
// is want; otherwise nothing is kept and the error says so. It returns the
// number of bytes written. progress, if not nil, is called with the count
// so far.
func (s *Store) PutBlob(r io.Reader, want v1.Hash, progress func(int64)) (int64, error) {
	if err := checkHash(want); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(s.path("tmp"), "blob-")
	if err != nil {
		return 0, fmt.Errorf("store blob %s: %w", want, err)
	}
	tmp := f.Name()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	if progress != nil {
		w = &countingWriter{w: w, fn: progress}
	}
	n, err := io.Copy(w, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if got := hex.EncodeToString(h.Sum(nil)); got != want.Hex {
			err = &DigestError{What: "blob", Want: want, Got: v1.Hash{Algorithm: "sha256", Hex: got}}
		}
	}
	if err == nil {
		err = os.Rename(tmp, s.blobPath(want))
	}
	if err != nil {
		os.Remove(tmp)
		return n, fmt.Errorf("store blob %s: %w", want, err)
	}
	return n, nil
}

// ReadBlob reads a small blob (a manifest, a config) whole, verifying it
// against its digest.
func (s *Store) ReadBlob(h v1.Hash) ([]byte, error) {
	if err := checkHash(h); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.blobPath(h))
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != h.Hex {
		return nil, fmt.Errorf("read blob %s: %w", h, &DigestError{What: "blob", Want: h, Got: v1.Hash{Algorithm: "sha256", Hex: got}})
	}
	return data, nil
}

// DigestError says that content did not match its digest.
type DigestError struct {
	What      string // "blob", "layer diff_id"
	Want, Got v1.Hash
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%s digest mismatch: want %s, got %s", e.What, e.Want, e.Got)
}

type countingWriter struct {
	w  io.Writer
	n  int64
	fn func(int64)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.fn(c.n)
	return n, err
}

// readJSON and hashing helpers shared by the files below.

func readJSON(p string, v any) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", p, err)
	}
	return nil
}

func sha256Hash(data []byte) v1.Hash {
	sum := sha256.Sum256(data)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// ChainIDs returns the chain ids of a stack of layers (OCI image-spec:
// ChainID(L0) = DiffID(L0), ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))).
func ChainIDs(diffIDs []v1.Hash) []v1.Hash {
	out := make([]v1.Hash, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		out[i] = sha256Hash([]byte(out[i-1].String() + " " + d.String()))
	}
	return out
}

func isExist(err error) bool {
	return errors.Is(err, os.ErrExist) || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST)
}

func hexOf(s string) string { return strings.TrimPrefix(s, "sha256:") }
