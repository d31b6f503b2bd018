//go:build !lean

package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Unpacking layers into the store: pull, load and import (not in a lean
// build, whose minimal-docker hands them to minimal-docker-image).

// UnpackLayer unpacks a layer tar stream (gzip, zstd or plain) read from r
// into the layer directory of chainID. It verifies, before the layer
// appears in the store, the compressed stream against compressed (if it is
// not the zero Hash) and the uncompressed stream against diffID. The layer
// is made in a temp dir and renamed into place; after an error nothing of
// it remains. If the layer is already there (another pull made it first),
// it is kept and this is not an error.
func (s *Store) UnpackLayer(r io.Reader, compressed, diffID, chainID v1.Hash) error {
	if err := checkHash(chainID); err != nil {
		return err
	}
	if s.HasLayer(chainID) {
		return nil
	}
	tmp, err := s.tempDir("layer-")
	if err != nil {
		return err
	}
	err = s.unpackInto(tmp, r, compressed, diffID, chainID)
	if err == nil {
		err = os.Rename(tmp, s.layerPath(chainID))
		if isExist(err) {
			err = nil // made by a concurrent pull; ours goes
		} else if err != nil {
			err = fmt.Errorf("unpack layer %s: %w", chainID, err)
		} else {
			tmp = ""
		}
	}
	if tmp != "" {
		if rerr := os.RemoveAll(tmp); rerr != nil && err == nil {
			err = fmt.Errorf("unpack layer %s: remove temp dir: %w", chainID, rerr)
		}
	}
	return err
}

func (s *Store) unpackInto(tmp string, r io.Reader, compressed, diffID, chainID v1.Hash) error {
	fs := filepath.Join(tmp, "fs")
	if err := os.Mkdir(fs, 0o755); err != nil {
		return fmt.Errorf("unpack layer %s: %w", chainID, err)
	}
	if err := os.Chmod(fs, 0o755); err != nil { // not the umask's
		return fmt.Errorf("unpack layer %s: %w", chainID, err)
	}
	// fs is the layer's root: 0755 unless the layer's own "./" entry says
	// otherwise.
	ch := sha256.New()
	src := io.TeeReader(r, ch)
	dr, err := Decompress(src)
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", chainID, err)
	}
	defer dr.Close()
	dh := sha256.New()
	cr := &CountingReader{R: io.TeeReader(dr, dh)}
	if err := Unpack(cr, fs); err != nil {
		return fmt.Errorf("unpack layer %s: %w", chainID, err)
	}
	// Hash what follows the archive's end too: diff_id covers the stream.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return fmt.Errorf("unpack layer %s: read: %w", chainID, err)
	}
	if _, err := io.Copy(io.Discard, src); err != nil {
		return fmt.Errorf("unpack layer %s: read: %w", chainID, err)
	}
	if compressed != (v1.Hash{}) {
		if got := hex.EncodeToString(ch.Sum(nil)); got != compressed.Hex {
			return fmt.Errorf("unpack layer %s: %w", chainID, &DigestError{What: "layer blob", Want: compressed, Got: v1.Hash{Algorithm: "sha256", Hex: got}})
		}
	}
	if got := hex.EncodeToString(dh.Sum(nil)); got != diffID.Hex {
		return fmt.Errorf("unpack layer %s: %w", chainID, &DigestError{What: "layer diff_id", Want: diffID, Got: v1.Hash{Algorithm: "sha256", Hex: got}})
	}
	info, err := json.Marshal(LayerInfo{ChainID: chainID, DiffID: diffID, Size: cr.N})
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", chainID, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "layer.json"), info, 0o600); err != nil {
		return fmt.Errorf("unpack layer %s: %w", chainID, err)
	}
	return nil
}

// unpackBlob unpacks the stored compressed blob of a layer.
func (s *Store) unpackBlob(blob, diffID, chainID v1.Hash) error {
	f, err := os.Open(s.blobPath(blob))
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", chainID, err)
	}
	defer f.Close()
	return s.UnpackLayer(f, blob, diffID, chainID)
}
