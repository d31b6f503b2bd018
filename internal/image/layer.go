package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// LayerInfo is what layers/<chain hex>/layer.json records about a layer.
type LayerInfo struct {
	ChainID v1.Hash `json:"chainId"`
	DiffID  v1.Hash `json:"diffId"`
	// Size is the uncompressed size of the layer's tar stream.
	Size int64 `json:"size"`
}

func (s *Store) layerPath(chainID v1.Hash) string { return s.path("layers", chainID.Hex) }

// LayerDir is the directory of a layer's files (an overlay lower directory).
func (s *Store) LayerDir(chainID v1.Hash) string { return filepath.Join(s.layerPath(chainID), "fs") }

// HasLayer says whether the layer is unpacked in the store.
func (s *Store) HasLayer(chainID v1.Hash) bool {
	if checkHash(chainID) != nil {
		return false
	}
	_, err := os.Stat(filepath.Join(s.layerPath(chainID), "layer.json"))
	return err == nil
}

// Layer reads a layer's record.
func (s *Store) Layer(chainID v1.Hash) (LayerInfo, error) {
	var info LayerInfo
	if err := checkHash(chainID); err != nil {
		return info, err
	}
	err := readJSON(filepath.Join(s.layerPath(chainID), "layer.json"), &info)
	if errors.Is(err, os.ErrNotExist) {
		return info, fmt.Errorf("layer %s: %w", chainID, ErrNotFound)
	}
	return info, err
}
