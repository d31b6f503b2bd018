//go:build !lean

package docker

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/minimal-docker/minimal-docker/internal/image"
)

// The image archive verbs: load, save, import. Like every image verb of
// Docker's CLI they exit 1 on an error (failed). Not in a lean build:
// transfer_lean.go.

func newLoadCmd(g *globals, st Streams) *cobra.Command {
	var input string
	var quiet bool
	c := &cobra.Command{
		Use:   "load [-i FILE] [-q]",
		Short: "Load images from an archive (docker save's, or an OCI image layout in a tar)",
		Long: "Load the images of an archive read from FILE, or from stdin: the archive\n" +
			"`docker save` writes, or an OCI image layout in a tar (plain, gzip or zstd).\n" +
			"Every layer is verified against its digest before it is used; an archive\n" +
			"that fails leaves nothing behind. Prints \"Loaded image: REF\" per tag, or\n" +
			"\"Loaded image ID: ID\" for an image without one.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return failed(load(g, st, input))
		},
	}
	c.Flags().StringVarP(&input, "input", "i", "", "read from FILE instead of stdin")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "suppress the load output (accepted for Docker's sake: there is no progress to suppress)")
	return c
}

func load(g *globals, st Streams, input string) error {
	r, from := io.Reader(st.In), "stdin"
	if input == "" {
		if term.IsTerminal(int(st.In.Fd())) {
			return errors.New("requested load from stdin, but stdin is a terminal: use -i FILE or redirect stdin")
		}
	} else {
		f, err := os.Open(input)
		if err != nil {
			return err
		}
		defer f.Close()
		r, from = f, input
	}
	store, err := g.images()
	if err != nil {
		return err
	}
	refs, err := store.Load(r)
	for _, ref := range refs {
		if strings.HasPrefix(ref, "sha256:") {
			fmt.Fprintf(st.Out, "Loaded image ID: %s\n", ref)
		} else {
			fmt.Fprintf(st.Out, "Loaded image: %s\n", image.Familiar(ref))
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	return nil
}

func newSaveCmd(g *globals, st Streams) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "save [-o FILE] IMAGE...",
		Short: "Save images to an archive (docker save's, also an OCI image layout)",
		Long: "Write the images to FILE, or to stdout, as one tar archive that `docker load`\n" +
			"reads and that is an OCI image layout too (index.json, oci-layout), as\n" +
			"Docker 25 and later write it. An image given by id is saved without tags.\n" +
			"An archive is never written to a terminal.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return failed(save(g, st, output, args))
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "write to FILE instead of stdout")
	return c
}

func save(g *globals, st Streams, output string, refs []string) error {
	if output == "" && term.IsTerminal(int(st.Out.Fd())) {
		return errors.New("cowardly refusing to save to a terminal: use the -o flag or redirect")
	}
	store, err := g.images()
	if err != nil {
		return err
	}
	if output == "" {
		return store.Save(st.Out, refs)
	}
	return writeFileAtomic(output, func(w io.Writer) error {
		return store.Save(w, refs)
	})
}

// writeFileAtomic writes p through a temp file beside it, renamed into
// place when write succeeded (as Docker's CLI writes save's -o): a failed
// save leaves no partial archive.
func writeFileAtomic(p string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(p), ".minimal-docker-save-")
	if err != nil {
		return fmt.Errorf("save to %s: %w", p, err)
	}
	tmp := f.Name()
	err = write(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("save to %s: %w", p, cerr)
	}
	if err == nil {
		if err = os.Chmod(tmp, 0o644); err == nil {
			err = os.Rename(tmp, p)
		}
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func newImportCmd(g *globals, st Streams) *cobra.Command {
	var opts image.ImportOptions
	c := &cobra.Command{
		Use:   "import [-c CHANGE]... [-m MESSAGE] TARBALL|- [REPOSITORY[:TAG]]",
		Short: "Make a one-layer image from a root filesystem tarball",
		Long: "Make an image whose one layer is the root filesystem in TARBALL (a tar,\n" +
			"plain, gzip or zstd; - reads stdin), tagged REPOSITORY[:TAG] if given. Prints\n" +
			"the image's id. --change applies a Dockerfile instruction to its config:\n" +
			"CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR.",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			return failed(importTarball(g, st, args[0], ref, opts))
		},
	}
	c.Flags().StringArrayVarP(&opts.Changes, "change", "c", nil, "apply a Dockerfile instruction to the image's config")
	c.Flags().StringVarP(&opts.Message, "message", "m", "", "the history comment of the image")
	return c
}

func importTarball(g *globals, st Streams, src, ref string, opts image.ImportOptions) error {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		return fmt.Errorf("import %s: importing from a URL is not supported: download it and import the file", src)
	}
	r := io.Reader(st.In)
	if src != "-" {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	store, err := g.images()
	if err != nil {
		return err
	}
	opts.Source = "-" // as Docker's CLI sends a file: its body
	img, err := store.Import(r, ref, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	fmt.Fprintln(st.Out, img.ID)
	return nil
}
