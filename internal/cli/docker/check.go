package docker

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/hostcheck"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
)

func newCheckCmd(g *globals, st Streams) *cobra.Command {
	var probeOverlay string
	c := &cobra.Command{
		Use:   "check",
		Short: "Say whether this host is ready for run by you, and how to fix what is missing",
		Long: "Check this host for what `minimal-docker run` needs when you run it (as root,\n" +
			"or rootless: as a user without privileges): the kernel, each namespace type,\n" +
			"user namespaces for unprivileged users (and the setting that forbids them),\n" +
			"your subordinate ids (/etc/subuid, /etc/subgid), newuidmap/newgidmap, cgroups\n" +
			"(mode, controllers, delegation), overlay (also in a user namespace, on the\n" +
			"store's file system), fuse-overlayfs and which of the two images will run on,\n" +
			"seccomp, the CNI plugins, slirp4netns/pasta. Each missing\n" +
			"piece is listed with what it means and how to fix it.\n\n" +
			"It only reads: what only trying tells (a user namespace, an overlay mount) is\n" +
			"tried in a child in namespaces of its own, which ends with it.\n\n" +
			"Exit status 0 when run works for you, 1 when something is MISSING.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if probeOverlay != "" {
				return hostcheck.ChildMountOverlay(probeOverlay)
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("check: find this binary (it probes the kernel in a child): %w", err)
			}
			h := hostcheck.Current(exe)
			h.ImageBinary = imageBinary
			h.Store = g.imageRoot
			// check runs as the user, outside the user namespace run
			// enters: --root's default is the one run will have there.
			if rootless.Needed() && !c.Flags().Changed("root") && os.Getenv(EnvDataRoot) == "" {
				if d, err := rootless.DataDir(); err == nil {
					h.Store = d
				}
			}
			if h.MountProgram, err = parseStorageOpts(g.storageOpts); err != nil {
				return err
			}
			found := hostcheck.Run(h)
			hostcheck.Print(st.Out, h, found)
			if !hostcheck.Ready(found) {
				return cli.Exited(1, nil)
			}
			return nil
		},
	}
	c.Flags().StringVar(&probeOverlay, "probe-overlay", "", "(the check's own child) mount an overlay of DIR/{lower,upper,work} on DIR/merged in this mount namespace")
	c.Flags().MarkHidden("probe-overlay")
	return c
}
