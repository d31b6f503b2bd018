//go:build !lean

package docker

import (
	"fmt"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/image"
)

func newPullCmd(g *globals, st Streams) *cobra.Command {
	var (
		quiet    bool
		platform string
		maxDL    int
	)
	c := &cobra.Command{
		Use:   "pull [-q] [--platform os/arch] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Long: "Download an image from a registry into the image store (--root). Progress\n" +
			"goes to stderr: on a terminal a line per layer redrawn in place (status, and\n" +
			"a bar, bytes and speed while downloading), else a line per layer status\n" +
			"change. stdout gets the digest, the status and the full reference, as\n" +
			"`docker pull` prints them.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts := image.PullOptions{MaxConcurrentDownloads: maxDL}
			if platform != "" {
				p, err := v1.ParsePlatform(platform)
				if err != nil {
					return imageError(args[0], fmt.Errorf("invalid --platform %q: %w", platform, err))
				}
				opts.Platform = p
			}
			if maxDL < 1 {
				return imageError(args[0], fmt.Errorf("invalid --max-concurrent-downloads %d: want a positive number", maxDL))
			}
			return imageError(args[0], pull(c, g, st, args[0], quiet, opts))
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "suppress verbose output: print only the reference")
	c.Flags().StringVar(&platform, "platform", "", `platform of the image to pull from a multi-platform index, "os/arch[/variant]" (default: this machine's)`)
	c.Flags().IntVar(&maxDL, "max-concurrent-downloads", image.DefaultMaxConcurrentDownloads, "layers downloaded at once")
	return c
}

// pull pulls ref and prints what Docker prints: "Using default tag",
// "TAG: Pulling from REPO" and the layers' progress on stderr (unless
// quiet), then the digest, the status and the normalised reference on
// stdout (only the reference if quiet).
func pull(c *cobra.Command, g *globals, st Streams, ref string, quiet bool, opts image.PullOptions) error {
	parsed, err := image.ParseReference(ref)
	if err != nil {
		return err
	}
	full := parsed.String()
	store, err := g.images()
	if err != nil {
		return err
	}
	before, _ := store.Lookup(full) // what ref named before, to tell "up to date"
	finish := func() {}
	if !quiet {
		_, tag := splitRef(image.Familiar(full))
		if !strings.Contains(ref, ":") && !strings.Contains(ref, "@") {
			fmt.Fprintf(st.Err, "Using default tag: %s\n", tag)
		}
		fmt.Fprintf(st.Err, "%s: Pulling from %s\n", tag, parsed.Repository)
		progress := newPullProgress(st)
		opts.Progress = progress
		finish = progress.done
	}
	img, err := store.Pull(c.Context(), ref, opts)
	finish() // the bars' final frame, before the lines below
	if err != nil {
		return err
	}
	if quiet {
		fmt.Fprintln(st.Out, full)
		return nil
	}
	status := "Downloaded newer image for"
	if before != nil && before.ID == img.ID {
		status = "Image is up to date for"
	}
	fmt.Fprintf(st.Out, "Digest: %s\n", pulledDigest(img, image.Familiar(full)))
	fmt.Fprintf(st.Out, "Status: %s %s\n", status, image.Familiar(full))
	fmt.Fprintln(st.Out, full)
	return nil
}

// imageBinary is nil: this build pulls, loads, saves and imports itself
// (a lean one hands them to minimal-docker-image: transfer_lean.go).
var imageBinary func() (string, error)

// pullForRun is run's and create's pull of an image the store lacks:
// Docker prints the pull's lines on stderr, stdout being the container's.
func pullForRun(c *cobra.Command, g *globals, st Streams, ref string) error {
	return pull(c, g, Streams{In: st.In, Out: st.Err, Err: st.Err}, ref, false, image.PullOptions{})
}

// pulledDigest is the digest the registry gave for ref's repository (an
// index's, for a multi-platform image), else the manifest's.
func pulledDigest(img *image.Image, ref string) string {
	repo, _ := splitRef(ref)
	for _, d := range img.RepoDigests {
		r, digest := splitRef(image.Familiar(d))
		if r == repo {
			return digest
		}
	}
	return img.Manifest.String()
}

// progressLines prints a line each time a layer's status changes:
// "<short id>: Downloading". Pull calls it from several goroutines.
type progressLines struct {
	st   Streams
	mu   sync.Mutex
	last map[v1.Hash]image.Status
}

func newProgressLines(st Streams) *progressLines {
	return &progressLines{st: st, last: map[v1.Hash]image.Status{}}
}

func (p *progressLines) Update(e image.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last[e.Layer] == e.Status {
		return
	}
	p.last[e.Layer] = e.Status
	fmt.Fprintf(p.st.Err, "%s: %s\n", shortID(e.Layer.Hex), e.Status)
}
