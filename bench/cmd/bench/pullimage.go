package main

// The pull bench's image: five gzip layers of about 20 MB each, pushed to
// the loopback registry with go-containerregistry.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const (
	pullLayers = 5
	// Each layer: randomFiles files of randomFileSize pseudo-random bytes
	// (they do not compress) and textFiles files of textFileSize bytes of
	// numbered text lines (they compress about 4:1), and its marker.
	randomFiles, randomFileSize = 4, 4 << 20
	textFiles, textFileSize     = 3, 1 << 20
	// pullSeed makes every run's image the same.
	pullSeed = 14
)

// markerPath is the file of layer i (1-based) that each tool's store must
// hold after a pull, with markerText(i) in it.
func markerPath(i int) string { return fmt.Sprintf("mdbench/layer%d/marker", i) }
func markerText(i int) string {
	return fmt.Sprintf("minimal-docker pull bench, layer %d of %d\n", i, pullLayers)
}
func layerDir(i int) string      { return fmt.Sprintf("mdbench/layer%d/", i) }
func randomName(i, j int) string { return fmt.Sprintf("%srandom-%d.bin", layerDir(i), j) }
func textName(i, j int) string   { return fmt.Sprintf("%stext-%d.txt", layerDir(i), j) }

// pullImage is what was pushed.
type pullImage struct {
	ref                  string
	unpacked, compressed int64 // bytes: file contents; gzip blobs
}

// pushPullImage builds the bench image and pushes it as ref.
func pushPullImage(ref string) (pullImage, error) {
	im := pullImage{ref: ref}
	rng := rand.New(rand.NewChaCha8([32]byte{pullSeed}))
	img := empty.Image
	for i := 1; i <= pullLayers; i++ {
		gz, size, err := benchLayer(i, rng)
		if err != nil {
			return im, fmt.Errorf("layer %d: %w", i, err)
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(gz)), nil
		})
		if err != nil {
			return im, fmt.Errorf("layer %d: %w", i, err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			return im, err
		}
		im.unpacked += size
		im.compressed += int64(len(gz))
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return im, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Created = v1.Time{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cf.Config.Cmd = []string{"/bin/sh"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return im, err
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return im, err
	}
	if err := remote.Write(r, img); err != nil {
		return im, fmt.Errorf("push %s: %w", ref, err)
	}
	return im, nil
}

// benchLayer is layer i as a gzip tarball (Go's default level, as Docker
// pushes), and the size of its files' contents.
func benchLayer(i int, rng *rand.Rand) (gz []byte, size int64, err error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, data []byte) error {
		size += int64(len(data))
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, dir := range []string{"mdbench/", layerDir(i)} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Mode: 0o755, ModTime: time.Unix(0, 0), Typeflag: tar.TypeDir}); err != nil {
			return nil, 0, err
		}
	}
	data := make([]byte, randomFileSize)
	for j := range randomFiles {
		for k := 0; k < len(data); k += 8 {
			v := rng.Uint64()
			for b := range 8 {
				data[k+b] = byte(v >> (8 * b))
			}
		}
		if err := add(randomName(i, j), data); err != nil {
			return nil, 0, err
		}
	}
	for j := range textFiles {
		var text bytes.Buffer
		for n := 0; text.Len() < textFileSize; n++ {
			fmt.Fprintf(&text, "%08d layer %d file %d: the quick brown fox jumps over the lazy dog %08x\n", n, i, j, rng.Uint32())
		}
		if err := add(textName(i, j), text.Bytes()[:textFileSize]); err != nil {
			return nil, 0, err
		}
	}
	if err := add(markerPath(i), []byte(markerText(i))); err != nil {
		return nil, 0, err
	}
	if err := tw.Close(); err != nil {
		return nil, 0, err
	}
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), size, nil
}
