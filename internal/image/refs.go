package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrNotFound is wrapped by errors about an image, reference or layer that
// is not in the store.
var ErrNotFound = errors.New("not found")

// ErrInUse is wrapped when Remove refuses an image whose layers are in use.
var ErrInUse = errors.New("image is in use")

// ErrConflict is wrapped when Remove refuses an image id that several
// references name (Docker's "image is referenced in multiple repositories").
var ErrConflict = errors.New("image is referenced by several references")

// Image is an image's record.
type Image struct {
	// ID is the digest of the image's config blob (Docker's image id).
	ID v1.Hash `json:"id"`
	// Manifest is the digest of the image's manifest (for this platform).
	Manifest  v1.Hash `json:"manifest"`
	MediaType string  `json:"mediaType"`
	Config    v1.Hash `json:"config"`
	// Layers are bottom first.
	Layers  []Layer   `json:"layers"`
	Created time.Time `json:"created"`
	// Pulled is when the record was written.
	Pulled time.Time `json:"pulled"`

	// RepoTags and RepoDigests are filled from the references when the
	// record is read.
	RepoTags    []string `json:"-"`
	RepoDigests []string `json:"-"`
}

// Layer is one layer of an image.
type Layer struct {
	Blob      v1.Hash `json:"blob"` // the compressed blob's digest
	MediaType string  `json:"mediaType"`
	Size      int64   `json:"size"` // the compressed blob's size
	DiffID    v1.Hash `json:"diffId"`
	ChainID   v1.Hash `json:"chainId"`
}

// Size is the image's compressed size (the sum of its layer blobs).
func (img *Image) Size() int64 {
	var n int64
	for _, l := range img.Layers {
		n += l.Size
	}
	return n
}

// LowerDirs are the image's layer directories, top layer first, as
// overlayfs's lowerdir= lists them.
func (s *Store) LowerDirs(img *Image) []string {
	out := make([]string, 0, len(img.Layers))
	for i := len(img.Layers) - 1; i >= 0; i-- {
		out = append(out, s.LayerDir(img.Layers[i].ChainID))
	}
	return out
}

// ConfigFile reads the image's config (verified against its digest).
func (s *Store) ConfigFile(img *Image) (*v1.ConfigFile, error) {
	data, err := s.ReadBlob(img.Config)
	if err != nil {
		return nil, fmt.Errorf("image %s config: %w", img.ID, err)
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("image %s config: %w", img.ID, err)
	}
	return &cfg, nil
}

// RunConfig is the part of an image's config that a container starts
// from (the config's "config" object, Docker's names). Decoded on run's
// path instead of v1.ConfigFile: encoding/json builds its codecs for every
// type reachable from the one it decodes, on first use, and a short-lived
// process pays for each.
type RunConfig struct {
	User         string
	Env          []string
	Entrypoint   []string
	Cmd          []string
	WorkingDir   string
	StopSignal   string              // for the verbs that stop a container
	ExposedPorts map[string]struct{} // for -P
	Volumes      map[string]struct{} // VOLUME: an anonymous volume each
}

// RunConfig reads the image's config (verified against its digest) for a
// container.
func (s *Store) RunConfig(img *Image) (*RunConfig, error) {
	data, err := s.ReadBlob(img.Config)
	if err != nil {
		return nil, fmt.Errorf("image %s config: %w", img.ID, err)
	}
	var cfg struct{ Config RunConfig }
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("image %s config: %w", img.ID, err)
	}
	return &cfg.Config, nil
}

// refsFile is refs.json.
type refsFile struct {
	// Refs maps a normalized reference to an image id.
	Refs map[string]v1.Hash `json:"refs"`
}

func (s *Store) readRefs() (*refsFile, error) {
	rf := &refsFile{Refs: map[string]v1.Hash{}}
	err := readJSON(s.path("refs.json"), rf)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read references: %w", err)
	}
	if rf.Refs == nil {
		rf.Refs = map[string]v1.Hash{}
	}
	return rf, nil
}

func (s *Store) writeRefs(rf *refsFile) error {
	data, err := json.MarshalIndent(rf, "", "\t")
	if err != nil {
		return fmt.Errorf("write references: %w", err)
	}
	return s.writeFileAtomic(s.path("refs.json"), data)
}

func (s *Store) recordPath(id v1.Hash) string { return s.path("records", id.Hex+".json") }

func (s *Store) readRecord(id v1.Hash, rf *refsFile) (*Image, error) {
	if err := checkHash(id); err != nil {
		return nil, err
	}
	var img Image
	err := readJSON(s.recordPath(id), &img)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("image %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", id, err)
	}
	for r, rid := range rf.Refs {
		if rid != id {
			continue
		}
		if strings.Contains(r, "@") {
			img.RepoDigests = append(img.RepoDigests, r)
		} else {
			img.RepoTags = append(img.RepoTags, r)
		}
	}
	sort.Strings(img.RepoTags)
	sort.Strings(img.RepoDigests)
	return &img, nil
}

// Lookup finds an image by reference ("busybox", "repo@sha256:..."), by
// id ("sha256:<hex>") or by a unique prefix of at least 4 hex digits of
// its id, as Docker does.
func (s *Store) Lookup(ref string) (*Image, error) {
	unlock, img, _, _, err := s.lockedImage(ref, lockSH)
	if err != nil {
		return nil, err
	}
	unlock()
	return img, nil
}

// lockedImage takes index.lock (how: lockSH or lockEX) and reads the image
// that ref names, with the references file and ref's normalized key
// (resolve). On success the caller calls unlock; on failure it is held no
// more.
func (s *Store) lockedImage(ref string, how int) (func(), *Image, *refsFile, string, error) {
	unlock, err := s.lock("index.lock", how)
	if err != nil {
		return nil, nil, nil, "", err
	}
	rf, err := s.readRefs()
	if err != nil {
		unlock()
		return nil, nil, nil, "", err
	}
	id, key, err := s.resolve(ref, rf)
	if err != nil {
		unlock()
		return nil, nil, nil, "", err
	}
	img, err := s.readRecord(id, rf)
	if err != nil {
		unlock()
		return nil, nil, nil, "", err
	}
	return unlock, img, rf, key, nil
}

// resolve finds the image id that ref names; key is the normalized
// reference when ref is one ("" when ref is an id).
func (s *Store) resolve(ref string, rf *refsFile) (id v1.Hash, key string, err error) {
	if h, ok := idPrefix(ref); ok {
		ids, err := s.recordIDs()
		if err != nil {
			return id, "", err
		}
		var found []v1.Hash
		for _, cand := range ids {
			if strings.HasPrefix(cand.Hex, h) {
				found = append(found, cand)
			}
		}
		switch len(found) {
		case 1:
			return found[0], "", nil
		case 0:
			// Fall through: "abcd" may be a repository name too.
		default:
			return id, "", fmt.Errorf("image id prefix %q is ambiguous", ref)
		}
	}
	r, err := ParseReference(ref)
	if err != nil {
		return id, "", err
	}
	key = r.String()
	id, ok := rf.Refs[key]
	if !ok {
		return id, "", fmt.Errorf("image %s: %w", ref, ErrNotFound)
	}
	return id, key, nil
}

// idPrefix says whether s can be an image id or a prefix of one, and
// returns its hex.
func idPrefix(s string) (string, bool) {
	h, full := strings.CutPrefix(s, "sha256:")
	if len(h) < 4 || len(h) > 64 || (full && len(h) != 64) {
		return "", false
	}
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	return h, true
}

func (s *Store) recordIDs() ([]v1.Hash, error) {
	ents, err := os.ReadDir(s.path("records"))
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var ids []v1.Hash
	for _, e := range ents {
		h, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		ids = append(ids, v1.Hash{Algorithm: "sha256", Hex: h})
	}
	return ids, nil
}

// Images lists the images in the store, newest first.
func (s *Store) Images() ([]*Image, error) {
	unlock, err := s.lock("index.lock", lockSH)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out, err := s.readImages()
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// readImages reads every image record, with its references; the caller
// holds index.lock.
func (s *Store) readImages() ([]*Image, error) {
	rf, err := s.readRefs()
	if err != nil {
		return nil, err
	}
	ids, err := s.recordIDs()
	if err != nil {
		return nil, err
	}
	var out []*Image
	for _, id := range ids {
		img, err := s.readRecord(id, rf)
		if errors.Is(err, ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// Tag adds the reference target to the image that src names.
func (s *Store) Tag(src, target string) error {
	r, err := ParseReference(target)
	if err != nil {
		return err
	}
	if r.Digest != "" {
		return fmt.Errorf("tag %s: a tag, not a digest, is needed", target)
	}
	unlock, err := s.lock("index.lock", lockEX)
	if err != nil {
		return err
	}
	defer unlock()
	rf, err := s.readRefs()
	if err != nil {
		return err
	}
	id, _, err := s.resolve(src, rf)
	if err != nil {
		return err
	}
	rf.Refs[r.String()] = id
	return s.writeRefs(rf)
}

// addImage writes an image's record and points refs at it.
func (s *Store) addImage(img *Image, refs ...string) error {
	unlock, err := s.lock("index.lock", lockEX)
	if err != nil {
		return err
	}
	defer unlock()
	data, err := json.MarshalIndent(img, "", "\t")
	if err != nil {
		return fmt.Errorf("write image %s: %w", img.ID, err)
	}
	if err := s.writeFileAtomic(s.recordPath(img.ID), data); err != nil {
		return err
	}
	rf, err := s.readRefs()
	if err != nil {
		return err
	}
	for _, r := range refs {
		rf.Refs[r] = img.ID
	}
	return s.writeRefs(rf)
}

func (s *Store) removeRecord(id v1.Hash) error {
	err := os.Remove(s.recordPath(id))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove image %s: %w", id, err)
	}
	return nil
}
