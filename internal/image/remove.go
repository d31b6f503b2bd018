package image

import (
	"errors"
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// RemoveOptions tune Remove.
type RemoveOptions struct {
	// Force removes an image that several references name (given by id),
	// or whose layers are in use (its layers stay until they are not).
	Force bool
}

// Removed says what Remove did, in Docker's terms.
type Removed struct {
	Untagged []string  // references removed
	Deleted  []v1.Hash // image ids whose records were removed
}

// Remove removes a reference, or an image given by id (or id prefix). An
// image's record goes with its last reference; the layers and blobs that
// no image needs any more are then garbage-collected, unless a pull is
// running (the next GC takes them).
func (s *Store) Remove(ref string, opts RemoveOptions) (*Removed, error) {
	out, err := s.remove(ref, opts)
	if err != nil {
		return nil, err
	}
	if len(out.Deleted) > 0 {
		if _, err := s.gc(false); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (s *Store) remove(ref string, opts RemoveOptions) (*Removed, error) {
	unlock, img, rf, key, err := s.lockedImage(ref, lockEX)
	if err != nil {
		return nil, err
	}
	defer unlock()
	id := img.ID
	var drop []string
	if key != "" {
		drop = []string{key}
		// A repo@digest of the same repository goes with the repository's
		// last tag, as Docker does.
		if !strings.Contains(key, "@") && len(img.RepoTags) == 1 {
			drop = append(drop, img.RepoDigests...)
		}
	} else {
		if len(img.RepoTags) > 1 && !opts.Force {
			return nil, fmt.Errorf("remove image %s: %w (%s); remove them or force", id, ErrConflict, strings.Join(img.RepoTags, ", "))
		}
		drop = append(append(drop, img.RepoTags...), img.RepoDigests...)
	}
	last := true
	for r, rid := range rf.Refs {
		if rid == id && !contains(drop, r) {
			last = false
		}
	}
	if last && !opts.Force {
		if used, err := s.inUse(img); err != nil {
			return nil, err
		} else if used {
			return nil, fmt.Errorf("remove image %s (%s): %w", ref, id, ErrInUse)
		}
	}
	out := &Removed{}
	for _, r := range drop {
		delete(rf.Refs, r)
		out.Untagged = append(out.Untagged, r)
	}
	if err := s.writeRefs(rf); err != nil {
		return nil, err
	}
	if last {
		if err := s.removeRecord(id); err != nil {
			return out, err
		}
		out.Deleted = append(out.Deleted, id)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Store) inUse(img *Image) (bool, error) {
	if s.opts.LayerInUse == nil {
		return false, nil
	}
	for _, l := range img.Layers {
		used, err := s.opts.LayerInUse(l.ChainID)
		if err != nil {
			return false, fmt.Errorf("image %s: is layer %s in use: %w", img.ID, l.ChainID, err)
		}
		if used {
			return true, nil
		}
	}
	return false, nil
}

// GCReport says what GC removed.
type GCReport struct {
	Layers []v1.Hash // chain ids
	Blobs  []v1.Hash
}

// GC removes the layers and blobs that no image record needs (and no
// container uses, by Options.LayerInUse), and what interrupted pulls left
// under tmp/. It waits for running pulls to finish.
func (s *Store) GC() (*GCReport, error) { return s.gc(true) }

func (s *Store) gc(wait bool) (*GCReport, error) {
	how := lockEX
	if !wait {
		how |= unix.LOCK_NB
	}
	unlockGC, err := s.lock("gc.lock", how)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return &GCReport{}, nil // a pull is running; the next GC
	}
	if err != nil {
		return nil, err
	}
	defer unlockGC()
	unpin, err := s.lock("use.lock", lockEX) // no run between lookup and LayerInUse
	if err != nil {
		return nil, err
	}
	defer unpin()
	unlock, err := s.lock("index.lock", lockSH)
	if err != nil {
		return nil, err
	}
	defer unlock()

	imgs, err := s.readImages()
	if err != nil {
		return nil, err
	}
	keepBlobs := map[string]bool{}
	keepLayers := map[string]bool{}
	for _, img := range imgs {
		keepBlobs[img.Manifest.Hex] = true
		keepBlobs[img.Config.Hex] = true
		for _, l := range img.Layers {
			keepBlobs[l.Blob.Hex] = true
			keepLayers[l.ChainID.Hex] = true
		}
		for _, d := range img.RepoDigests {
			if _, h, ok := strings.Cut(d, "@"); ok {
				keepBlobs[hexOf(h)] = true // the index a tag named
			}
		}
	}
	rep := &GCReport{}
	layers, err := os.ReadDir(s.path("layers"))
	if err != nil {
		return nil, fmt.Errorf("gc: %w", err)
	}
	for _, e := range layers {
		if keepLayers[e.Name()] {
			continue
		}
		chain := v1.Hash{Algorithm: "sha256", Hex: e.Name()}
		if s.opts.LayerInUse != nil {
			used, err := s.opts.LayerInUse(chain)
			if err != nil {
				return rep, fmt.Errorf("gc: is layer %s in use: %w", chain, err)
			}
			if used {
				continue
			}
		}
		if err := s.removeLayerDir(e.Name()); err != nil {
			return rep, err
		}
		rep.Layers = append(rep.Layers, chain)
	}
	blobs, err := os.ReadDir(s.path("blobs", "sha256"))
	if err != nil {
		return nil, fmt.Errorf("gc: %w", err)
	}
	for _, e := range blobs {
		if keepBlobs[e.Name()] {
			continue
		}
		if err := os.Remove(s.path("blobs", "sha256", e.Name())); err != nil {
			return rep, fmt.Errorf("gc: %w", err)
		}
		rep.Blobs = append(rep.Blobs, v1.Hash{Algorithm: "sha256", Hex: e.Name()})
	}
	if err := s.removeTmp(); err != nil {
		return rep, fmt.Errorf("gc: %w", err)
	}
	return rep, nil
}

// removeTmp removes what interrupted pulls, loads and imports left under
// tmp/; the caller holds gc.lock exclusively (every writer of tmp/ holds
// it shared).
func (s *Store) removeTmp() error {
	tmp, err := os.ReadDir(s.path("tmp"))
	if err != nil {
		return err
	}
	for _, e := range tmp {
		if err := os.RemoveAll(s.path("tmp", e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// sweepTmp removes what a killed pull, load or import left under tmp/,
// when none runs now (gc.lock free), before a new one starts: a kill -9
// leaves nothing behind for longer than the next of them.
func (s *Store) sweepTmp() error {
	unlock, err := s.lock("gc.lock", lockEX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return nil // another one runs: its tmp entries are live
	}
	if err != nil {
		return err
	}
	defer unlock()
	return s.removeTmp()
}

// removeLayerDir removes a layer directory: first renamed out of layers/
// (so that no half-removed layer is ever seen there), then removed.
func (s *Store) removeLayerDir(hex string) error {
	tmp, err := s.tempDir("rm-")
	if err != nil {
		return err
	}
	dst := tmp + "/layer"
	if err := os.Rename(s.path("layers", hex), dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("gc: remove layer %s: %w", hex, err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("gc: remove layer %s: %w", hex, err)
	}
	return nil
}
