package docker

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/image"
)

// imagesFlags are `images`'s flags (Docker's).
type imagesFlags struct {
	quiet, digests, noTrunc bool
	format                  string
}

func newImagesCmd(g *globals, st Streams) *cobra.Command {
	c := imagesCmd(g, st)
	c.Use = "images [OPTIONS]"
	return c
}

// imagesCmd is `images`, also `image ls`.
func imagesCmd(g *globals, st Streams) *cobra.Command {
	var f imagesFlags
	c := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List images",
		Long: "List the images in the store (--root): a row per tag (an image without\n" +
			"tags shows as <none>), newest first, with Docker's columns.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			store, err := g.images()
			if err != nil {
				return imageError("", err)
			}
			imgs, err := store.Images()
			if err != nil {
				return imageError("", err)
			}
			return imageError("", writeImages(st.Out, imageRows(imgs, f.digests, f.noTrunc, time.Now()), f))
		},
	}
	c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "only show image IDs")
	c.Flags().BoolVar(&f.digests, "digests", false, "show digests")
	c.Flags().BoolVar(&f.noTrunc, "no-trunc", false, "don't truncate output")
	c.Flags().StringVar(&f.format, "format", "", "format output using a Go template ({{.Repository}}, {{.Tag}}, {{.ID}}, {{.Digest}}, {{.CreatedSince}}, {{.CreatedAt}}, {{.Size}}), \"table TEMPLATE\" for a table with headers, or \"json\"")
	return c
}

// imageRow is one row of `images`: the fields a --format template sees,
// by Docker's names.
type imageRow map[string]string

// imageHeaders are the columns' headers, by field.
var imageHeaders = imageRow{
	"Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST", "ID": "IMAGE ID",
	"CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
	"Containers": "CONTAINERS", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
	"VirtualSize": "VIRTUAL SIZE",
}

// imageRows are the rows of imgs: one per tag, or one <none> row for an
// image without tags (with its digest, if any). Digests are matched to
// tags by repository, as Docker does when showing --digests.
func imageRows(imgs []*image.Image, digests, noTrunc bool, now time.Time) []imageRow {
	var rows []imageRow
	for _, img := range imgs {
		id := shortID(img.ID.Hex)
		if noTrunc {
			id = img.ID.String()
		}
		base := imageRow{
			"ID":           id,
			"CreatedSince": humanDuration(now.Sub(img.Created)) + " ago",
			"CreatedAt":    img.Created.Local().Format("2006-01-02 15:04:05 -0700 MST"),
			"Size":         humanSize(img.Size()),
			"VirtualSize":  humanSize(img.Size()),
			"Containers":   "N/A", "SharedSize": "N/A", "UniqueSize": "N/A",
		}
		digestOf := map[string]string{} // repository -> digest
		for _, d := range img.RepoDigests {
			repo, digest := splitRef(image.Familiar(d))
			digestOf[repo] = digest
		}
		add := func(repo, tag string) {
			r := imageRow{"Repository": repo, "Tag": tag, "Digest": "<none>"}
			if d, ok := digestOf[repo]; ok {
				r["Digest"] = d
			}
			for k, v := range base {
				r[k] = v
			}
			rows = append(rows, r)
		}
		for _, t := range img.RepoTags {
			add(splitRef(image.Familiar(t)))
		}
		if len(img.RepoTags) == 0 {
			if len(img.RepoDigests) == 0 {
				add("<none>", "<none>")
			}
			for _, d := range img.RepoDigests {
				repo, _ := splitRef(image.Familiar(d))
				add(repo, "<none>")
			}
		}
	}
	return rows
}

// writeImages prints rows as f asks: Docker's table, IDs only (-q), a Go
// template per row, "table TEMPLATE" (with headers), or "json" (an object
// per line).
func writeImages(w io.Writer, rows []imageRow, f imagesFlags) error {
	format := f.format
	switch {
	case f.quiet:
		format = "{{.ID}}"
	case format == "" || format == "table":
		format = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
		if f.digests {
			format = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
		}
	}
	return writeList(w, format, f.format, imageHeaders, rows)
}
