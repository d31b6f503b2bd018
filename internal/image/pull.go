//go:build !lean

package image

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// DefaultMaxConcurrentDownloads is Docker's default number of layers
// fetched at once.
const DefaultMaxConcurrentDownloads = 3

// PullOptions tune Pull.
type PullOptions struct {
	// Platform picks the image from a multi-platform index; nil is this
	// machine's (linux/GOARCH).
	Platform *v1.Platform
	// MaxConcurrentDownloads bounds the layers fetched at once; 0 is
	// DefaultMaxConcurrentDownloads.
	MaxConcurrentDownloads int
	// Progress, if set, hears about each layer. It is called from several
	// goroutines at once.
	Progress Progress
	// Transport is the HTTP transport under the registry client; nil is
	// remote.DefaultTransport. Plain HTTP is refused to hosts that are not
	// loopback whatever it is.
	Transport http.RoundTripper
}

// Progress hears what a pull does.
type Progress interface {
	Update(Event)
}

// ProgressFunc adapts a function to Progress.
type ProgressFunc func(Event)

// Update calls f.
func (f ProgressFunc) Update(e Event) { f(e) }

// Status is a layer's stage in a pull.
type Status string

// The stages a layer goes through, in Docker's words.
const (
	StatusExists      Status = "Already exists"
	StatusWaiting     Status = "Waiting"
	StatusDownloading Status = "Downloading"
	StatusExtracting  Status = "Extracting"
	StatusComplete    Status = "Pull complete"
)

// Event is one progress report about a layer.
type Event struct {
	Layer   v1.Hash // the compressed blob's digest
	Status  Status
	Current int64 // bytes so far (Downloading)
	Total   int64 // the blob's size
}

func platformOf(p *v1.Platform) v1.Platform {
	if p != nil {
		return *p
	}
	plat := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm" {
		plat.Variant = "v7"
	}
	return plat
}

// Pull fetches the image that ref names from its registry into the store
// and points ref at it. Layers already in the store are not fetched again.
// Every blob is verified against its digest and every layer against its
// diff_id before it is used. Two pulls of one image may run at once (in
// goroutines or processes); both succeed.
func (s *Store) Pull(ctx context.Context, ref string, opts PullOptions) (*Image, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	nr, err := name.ParseReference(r.String())
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	tr := opts.Transport
	if tr == nil {
		tr = remote.DefaultTransport
	}
	plat := platformOf(opts.Platform)
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithPlatform(plat),
		remote.WithTransport(loopbackHTTPOnly{tr}),
	}

	if err := s.sweepTmp(); err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	// GC must not remove what this pull makes before its record exists.
	unlock, err := s.lock("gc.lock", lockSH)
	if err != nil {
		return nil, err
	}
	defer unlock()

	desc, err := remote.Get(nr, ropts...)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	img, err := desc.Image() // an index is resolved to plat's image
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	if desc.MediaType.IsIndex() {
		// Keep the index: the repo digest names it.
		if _, err := s.putBytes(desc.Manifest, desc.Digest); err != nil {
			return nil, fmt.Errorf("pull %s: %w", ref, err)
		}
	}
	rec, err := s.fetchImage(ctx, img, opts)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}

	key := r.String()
	refs := []string{key}
	if r.Digest == "" {
		refs = append(refs, r.WithDigest(desc.Digest.String()).String())
	}
	if err := s.addImage(rec, refs...); err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	return s.Lookup(key)
}

// fetchImage stores an image's manifest, config and layers.
func (s *Store) fetchImage(ctx context.Context, img v1.Image, opts PullOptions) (*Image, error) {
	rawManifest, err := img.RawManifest()
	if err != nil {
		return nil, err
	}
	manifest, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	mdigest := sha256Hash(rawManifest)
	mt, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	if _, err := s.putBytes(rawConfig, manifest.Config.Digest); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	if len(cfg.RootFS.DiffIDs) != len(manifest.Layers) {
		return nil, fmt.Errorf("manifest has %d layers, config %d diff_ids", len(manifest.Layers), len(cfg.RootFS.DiffIDs))
	}
	chains := ChainIDs(cfg.RootFS.DiffIDs)
	rec := &Image{
		ID:        manifest.Config.Digest,
		Manifest:  mdigest,
		MediaType: string(mt),
		Config:    manifest.Config.Digest,
		Created:   cfg.Created.Time,
		Pulled:    time.Now().UTC(),
	}
	for i, l := range manifest.Layers {
		rec.Layers = append(rec.Layers, Layer{
			Blob: l.Digest, MediaType: string(l.MediaType), Size: l.Size,
			DiffID: cfg.RootFS.DiffIDs[i], ChainID: chains[i],
		})
	}

	n := opts.MaxConcurrentDownloads
	if n <= 0 {
		n = DefaultMaxConcurrentDownloads
	}
	report := func(Event) {}
	if opts.Progress != nil {
		report = opts.Progress.Update
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(n)
	for _, l := range rec.Layers {
		// The blob is kept too (save writes it), even when an image
		// that was loaded or imported made the layer from another blob.
		if s.HasLayer(l.ChainID) && s.HasBlob(l.Blob) {
			report(Event{Layer: l.Blob, Status: StatusExists, Total: l.Size})
			continue
		}
		report(Event{Layer: l.Blob, Status: StatusWaiting, Total: l.Size})
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			return s.fetchLayer(img, l, report)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if _, err := s.putBytes(rawManifest, mdigest); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return rec, nil
}

// fetchLayer downloads a layer's blob into the store (streamed, verified)
// and unpacks it.
func (s *Store) fetchLayer(img v1.Image, l Layer, report func(Event)) error {
	if !s.HasBlob(l.Blob) {
		rl, err := img.LayerByDigest(l.Blob)
		if err != nil {
			return fmt.Errorf("layer %s: %w", l.Blob, err)
		}
		rc, err := rl.Compressed()
		if err != nil {
			return fmt.Errorf("layer %s: %w", l.Blob, err)
		}
		_, err = s.PutBlob(rc, l.Blob, func(n int64) {
			report(Event{Layer: l.Blob, Status: StatusDownloading, Current: n, Total: l.Size})
		})
		rc.Close()
		if err != nil {
			return fmt.Errorf("layer %s: %w", l.Blob, err)
		}
	}
	report(Event{Layer: l.Blob, Status: StatusExtracting, Total: l.Size})
	if err := s.unpackBlob(l.Blob, l.DiffID, l.ChainID); err != nil {
		return err
	}
	report(Event{Layer: l.Blob, Status: StatusComplete, Total: l.Size})
	return nil
}

func (s *Store) putBytes(data []byte, want v1.Hash) (int64, error) {
	if s.HasBlob(want) {
		if got := sha256Hash(data); got != want {
			return 0, &DigestError{What: "blob", Want: want, Got: got}
		}
		return int64(len(data)), nil
	}
	return s.PutBlob(bytes.NewReader(data), want, nil)
}

// loopbackHTTPOnly refuses plain HTTP to hosts that are not loopback
// (go-containerregistry falls back to HTTP for private addresses too).
type loopbackHTTPOnly struct{ next http.RoundTripper }

func (t loopbackHTTPOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !isLoopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("plain HTTP to %s refused: only loopback registries may use HTTP", req.URL.Host)
	}
	return t.next.RoundTrip(req)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
