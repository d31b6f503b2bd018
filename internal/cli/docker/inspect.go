package docker

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/image"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

func newInspectCmd(g *globals, st Streams) *cobra.Command {
	var kind string
	c := &cobra.Command{
		Use:   "inspect [--type container|image] NAME|ID [NAME|ID...]",
		Short: "Display detailed information on containers or images",
		Long: "Print a JSON array with an object per container (its record, with Docker's\n" +
			"field names: Id, Name, State, Config, HostConfig, Mounts, ...) or image (as\n" +
			"image inspect prints it). A name is looked up among the containers first,\n" +
			"then the images, as Docker's inspect does. One that is neither is reported\n" +
			"on stderr; the others are printed and the command exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if kind != "" && kind != "container" && kind != "image" {
				return dockerError(fmt.Errorf("invalid --type %q: want container or image", kind))
			}
			return inspect(g, st, args, kind)
		},
	}
	c.Flags().StringVar(&kind, "type", "", "only look NAME up as a container or as an image")
	return c
}

// newContainerInspectCmd is `container inspect`: containers only.
func newContainerInspectCmd(g *globals, st Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect CONTAINER [CONTAINER...]",
		Short: "Display detailed information on one or more containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return inspect(g, st, args, "container")
		},
	}
}

// inspect prints the objects args name, as containers or images (kind
// "" for either, a container first).
func inspect(g *globals, st Streams, args []string, kind string) error {
	ctrs, err := g.containers()
	if err != nil {
		return dockerError(err)
	}
	out := []any{}
	failed := false
	for _, ref := range args {
		obj, err := inspectOne(g, ctrs, ref, kind)
		if err != nil {
			fmt.Fprintf(st.Err, "Error: %v\n", err)
			failed = true
			continue
		}
		out = append(out, obj)
	}
	b, err := json.MarshalIndent(out, "", "    ")
	if err != nil {
		return dockerError(err)
	}
	fmt.Fprintf(st.Out, "%s\n", b)
	if failed {
		return exitOne
	}
	return nil
}

// inspectOne is the container or image ref names; Docker's "No such
// object" (container, or an image too) when none.
func inspectOne(g *globals, ctrs *store.Store, ref, kind string) (any, error) {
	if kind != "image" {
		c, err := ctrs.Get(ref)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if kind == "container" {
			return nil, fmt.Errorf("No such container: %s", ref)
		}
	}
	images, err := g.images()
	if err != nil {
		return nil, err
	}
	img, err := inspectImage(images, ref)
	if err != nil {
		if !errors.Is(err, image.ErrNotFound) {
			return nil, err
		}
		if kind == "image" {
			return nil, fmt.Errorf("No such image: %s", ref)
		}
		return nil, fmt.Errorf("No such object: %s", ref)
	}
	return img, nil
}
