package docker

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/image"
)

func newRmiCmd(g *globals, st Streams) *cobra.Command {
	c := rmiCmd(g, st)
	c.Use = "rmi [-f] IMAGE [IMAGE...]"
	return c
}

// rmiCmd is `rmi`, also `image rm`.
func rmiCmd(g *globals, st Streams) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:     "rm [-f] IMAGE [IMAGE...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more images",
		Long: "Remove references (NAME[:TAG], NAME@DIGEST) or images (by id or id prefix).\n" +
			"An image goes with its last reference; its layers go when no image needs\n" +
			"them. Goes on past an image it cannot remove, and then exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			store, err := g.images()
			if err != nil {
				return imageError(args[0], err)
			}
			failed := false
			for _, ref := range args {
				removed, err := store.Remove(ref, image.RemoveOptions{Force: force})
				if removed != nil {
					printRemoved(st, removed, "Untagged", "Deleted")
				}
				if err != nil {
					printErr(st, ref, err)
					failed = true
				}
			}
			if failed {
				return exitOne
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "remove an image id that several references name, or whose layers are in use")
	return c
}

// printRemoved prints what Remove did in Docker's words: "Untagged: REF"
// per reference, "Deleted: sha256:..." per image.
func printRemoved(st Streams, r *image.Removed, untagged, deleted string) {
	for _, ref := range r.Untagged {
		fmt.Fprintf(st.Out, "%s: %s\n", untagged, image.Familiar(ref))
	}
	for _, id := range r.Deleted {
		fmt.Fprintf(st.Out, "%s: %s\n", deleted, id)
	}
}
