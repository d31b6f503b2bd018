package docker

import (
	"encoding/json"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/image"
)

// newImageCmd is `image`, Docker's group of image verbs.
func newImageCmd(g *globals, st Streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(imagesCmd(g, st), rmiCmd(g, st), newPullCmd(g, st), newTagCmd(g),
		newImageInspectCmd(g, st), newImagePruneCmd(g, st),
		newLoadCmd(g, st), newSaveCmd(g, st), newImportCmd(g, st))
	return c
}

// inspectedImage is `image inspect`'s object, with Docker's field names.
type inspectedImage struct {
	ID           string          `json:"Id"`
	RepoTags     []string        `json:"RepoTags"`
	RepoDigests  []string        `json:"RepoDigests"`
	Parent       string          `json:"Parent"`
	Comment      string          `json:"Comment"`
	Created      string          `json:"Created"`
	Author       string          `json:"Author"`
	Config       inspectedConfig `json:"Config"`
	Architecture string          `json:"Architecture"`
	Variant      string          `json:"Variant,omitempty"`
	Os           string          `json:"Os"`
	Size         int64           `json:"Size"`
	RootFS       inspectedRootFS `json:"RootFS"`
}

// inspectedConfig is the image's runtime configuration (Docker's Config).
type inspectedConfig struct {
	User         string              `json:"User"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts"`
	Env          []string            `json:"Env"`
	Cmd          []string            `json:"Cmd"`
	Volumes      map[string]struct{} `json:"Volumes"`
	WorkingDir   string              `json:"WorkingDir"`
	Entrypoint   []string            `json:"Entrypoint"`
	Labels       map[string]string   `json:"Labels"`
	StopSignal   string              `json:"StopSignal,omitempty"`
}

type inspectedRootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

func newImageInspectCmd(g *globals, st Streams) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "inspect [-f TEMPLATE] IMAGE [IMAGE...]",
		Short: "Display detailed information on one or more images",
		Long: "Print a JSON array with an object per image, with Docker's field names.\n" +
			"An image not in the store is reported on stderr; the others are printed\n" +
			"and the command exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if format != "" {
				return inspect(g, st, args, "image", format)
			}
			store, err := g.images()
			if err != nil {
				return imageError(args[0], err)
			}
			out := []inspectedImage{}
			failed := false
			for _, ref := range args {
				img, err := inspectImage(store, ref)
				if err != nil {
					printErr(st, ref, err)
					failed = true
					continue
				}
				out = append(out, *img)
			}
			b, err := json.MarshalIndent(out, "", "    ")
			if err != nil {
				return imageError(args[0], err)
			}
			fmt.Fprintf(st.Out, "%s\n", b)
			if failed {
				return exitOne
			}
			return nil
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "", "format the output using the given Go template")
	return c
}

// inspectImage looks ref up and describes it.
func inspectImage(store *image.Store, ref string) (*inspectedImage, error) {
	img, err := store.Lookup(ref)
	if err != nil {
		return nil, err
	}
	cf, err := store.ConfigFile(img)
	if err != nil {
		return nil, err
	}
	out := &inspectedImage{
		ID:           img.ID.String(),
		RepoTags:     familiars(img.RepoTags),
		RepoDigests:  familiars(img.RepoDigests),
		Comment:      "",
		Created:      cf.Created.Time.UTC().Format(time.RFC3339Nano),
		Author:       cf.Author,
		Architecture: cf.Architecture,
		Variant:      cf.Variant,
		Os:           cf.OS,
		Size:         img.Size(),
		Config: inspectedConfig{
			User: cf.Config.User, ExposedPorts: cf.Config.ExposedPorts, Env: cf.Config.Env,
			Cmd: cf.Config.Cmd, Volumes: cf.Config.Volumes, WorkingDir: cf.Config.WorkingDir,
			Entrypoint: cf.Config.Entrypoint, Labels: cf.Config.Labels, StopSignal: cf.Config.StopSignal,
		},
		RootFS: inspectedRootFS{Type: cf.RootFS.Type, Layers: hashes(cf.RootFS.DiffIDs)},
	}
	return out, nil
}

func familiars(refs []string) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, image.Familiar(r))
	}
	return out
}

func hashes(hs []v1.Hash) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		out = append(out, h.String())
	}
	return out
}

// imagePruneWarning is Docker's prompt of `image prune`.
const imagePruneWarning = "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] "

func newImagePruneCmd(g *globals, st Streams) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "prune [-f]",
		Short: "Remove dangling images (those without a tag)",
		Long: "Remove every image that no tag names (one pulled by digest only, or whose\n" +
			"tags went to another image), then the layers and blobs no image needs.\n" +
			"Prints what it removed as `docker image prune` does.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if !force && !confirmWith(st, imagePruneWarning) {
				return nil
			}
			store, err := g.images()
			if err != nil {
				return imageError("", err)
			}
			imgs, err := store.Images()
			if err != nil {
				return imageError("", err)
			}
			var reclaimed int64
			header := false
			for _, img := range imgs {
				if len(img.RepoTags) > 0 {
					continue
				}
				removed, err := store.Remove(img.ID.String(), image.RemoveOptions{})
				if removed != nil {
					if !header {
						fmt.Fprintln(st.Out, "Deleted Images:")
						header = true
					}
					printRemoved(st, removed, "untagged", "deleted")
					if len(removed.Deleted) > 0 {
						reclaimed += img.Size()
					}
				}
				if err != nil {
					return imageError(img.ID.String(), err)
				}
			}
			if _, err := store.GC(); err != nil {
				return imageError("", err)
			}
			if header {
				fmt.Fprintln(st.Out)
			}
			fmt.Fprintf(st.Out, "Total reclaimed space: %s\n", humanSize(reclaimed))
			return nil
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	return c
}
