package docker

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/volume"
)

// `volume create|ls|inspect|rm|prune`: Docker's verbs for the local
// driver's volumes under --root. Their errors exit 1, as Docker's CLI.

func newVolumeCmd(g *globals, st Streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "volume",
		Short: "Manage volumes",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(volumeCreateCmd(g, st), volumeLsCmd(g, st), volumeInspectCmd(g, st),
		volumeRmCmd(g, st), volumePruneCmd(g, st))
	return c
}

// volumes is the volume store; a volume a detached container attached is
// in use while the container has its record.
func (g *globals) volumes() *volume.Store {
	return volume.Open(g.imageRoot, func(id string) bool {
		s, err := g.containers()
		return err != nil || s.Has(id) // unsure: in use
	})
}

// volumeFailed is the error of a volume verb: printed, exit 1.
func volumeFailed(err error) error { return &cli.Status{Code: 1, Err: err} }

// randomVolumeName is Docker's name for a volume made without one: 64 hex
// digits.
func randomVolumeName() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("volume name: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func volumeCreateCmd(g *globals, st Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "create [VOLUME]",
		Short: "Create a volume (a random 64-hex name when none is given); prints its name",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
				if err := checkVolumeName(name); err != nil {
					return volumeFailed(fmt.Errorf("create %s: %w", name, err))
				}
			} else {
				var err error
				if name, err = randomVolumeName(); err != nil {
					return volumeFailed(err)
				}
			}
			v, err := g.volumes().Create(name, false)
			if err != nil {
				return volumeFailed(err)
			}
			fmt.Fprintln(st.Out, v.Name)
			return nil
		},
	}
}

func volumeLsCmd(g *globals, st Streams) *cobra.Command {
	var quiet bool
	c := &cobra.Command{
		Use:     "ls [-q]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			vols, err := g.volumes().List()
			if err != nil {
				return volumeFailed(err)
			}
			if quiet {
				for _, v := range vols {
					fmt.Fprintln(st.Out, v.Name)
				}
				return nil
			}
			tw := tabwriter.NewWriter(st.Out, 10, 1, 3, ' ', 0) // Docker's table
			fmt.Fprintln(tw, "DRIVER\tVOLUME NAME")
			for _, v := range vols {
				fmt.Fprintf(tw, "local\t%s\n", v.Name)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "only display volume names")
	return c
}

// inspectedVolume is `volume inspect`'s object, with Docker's field names.
type inspectedVolume struct {
	CreatedAt  string            `json:"CreatedAt"`
	Driver     string            `json:"Driver"`
	Labels     map[string]string `json:"Labels"`
	Mountpoint string            `json:"Mountpoint"`
	Name       string            `json:"Name"`
	Options    map[string]string `json:"Options"`
	Scope      string            `json:"Scope"`
}

// anonymousLabel is the label Docker gives a volume made by -v TARGET.
const anonymousLabel = "com.docker.volume.anonymous"

func volumeInspectCmd(g *globals, st Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect VOLUME [VOLUME...]",
		Short: "Display detailed information on one or more volumes (a JSON array)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			out := []inspectedVolume{}
			var failed error
			for _, name := range args {
				v, err := g.volumes().Get(name)
				if err != nil {
					fmt.Fprintf(st.Err, "minimal-docker: %v\n", err)
					failed = exitOne
					continue
				}
				iv := inspectedVolume{
					CreatedAt: v.CreatedAt.Format(time.RFC3339), Driver: "local",
					Labels: map[string]string{}, Mountpoint: v.Mountpoint, Name: v.Name,
					Options: map[string]string{}, Scope: "local",
				}
				if v.Anonymous {
					iv.Labels[anonymousLabel] = ""
				}
				out = append(out, iv)
			}
			b, err := json.MarshalIndent(out, "", "    ")
			if err != nil {
				return volumeFailed(err)
			}
			fmt.Fprintln(st.Out, string(b))
			return failed
		},
	}
}

func volumeRmCmd(g *globals, st Streams) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:     "rm [-f] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes; a volume a container uses (running or not) is not removed, even with -f",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			failed := false
			for _, name := range args {
				err := g.volumes().Remove(name)
				if force && errors.Is(err, volume.ErrNotFound) {
					continue // Docker's -f: a missing volume is not an error
				}
				if err != nil {
					fmt.Fprintf(st.Err, "minimal-docker: %v\n", err)
					failed = true
					continue
				}
				fmt.Fprintln(st.Out, name)
			}
			if failed {
				return exitOne
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "do not fail on a volume that does not exist (one in use is still refused)")
	return c
}

// Docker's prompts of `volume prune`.
const (
	volumePruneWarning    = "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] "
	volumePruneAllWarning = "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] "
)

func volumePruneCmd(g *globals, st Streams) *cobra.Command {
	var force, all bool
	c := &cobra.Command{
		Use:   "prune [-f] [-a]",
		Short: "Remove unused volumes: anonymous ones, or every one with -a (Docker's default since 23.0)",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			warning := volumePruneWarning
			if all {
				warning = volumePruneAllWarning
			}
			if !force && !confirmWith(st, warning) {
				return nil
			}
			removed, err := g.volumes().Prune(all)
			if len(removed) > 0 {
				fmt.Fprintf(st.Out, "Deleted Volumes:\n%s\n\n", strings.Join(removed, "\n"))
			}
			fmt.Fprintln(st.Out, "Total reclaimed space: 0B")
			if err != nil {
				return volumeFailed(err)
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	c.Flags().BoolVarP(&all, "all", "a", false, "remove all unused volumes, not just anonymous ones")
	return c
}
