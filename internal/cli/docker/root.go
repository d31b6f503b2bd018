// Package docker is the Docker-like front door: one file per verb, flags to
// spec options, nothing else.
package docker

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/image"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// Streams are the process's standard files.
type Streams struct {
	In       *os.File
	Out, Err *os.File
}

// DefaultRoot is where minimal-docker records each container while it
// exists (a directory per container: see container.Store), so that a later
// command (prune) finds what a killed run left. It is on a tmpfs, as no
// container outlives a reboot; $MINIMAL_DOCKER_ROOT names another (the
// test suites keep their own).
const DefaultRoot = "/run/minimal-docker-containers"

// EnvRoot is the environment variable that overrides DefaultRoot.
const EnvRoot = "MINIMAL_DOCKER_ROOT"

// globals are the flags every verb sees.
type globals struct {
	logLevel  string
	imageRoot string // --root: the image store
}

// images opens the image store under --root; the layers that a running
// image container uses are in use (layersInUse).
func (g *globals) images() (*image.Store, error) {
	return image.Open(g.imageRoot, image.Options{LayerInUse: layersInUse(g.imageRoot)})
}

// store opens the containers' store.
func (g *globals) store() (*container.Store, error) {
	root := os.Getenv(EnvRoot)
	if root == "" {
		root = DefaultRoot
	}
	return container.OpenStore(root)
}

// containers opens the containers' records under --root (the detached
// containers').
func (g *globals) containers() (*store.Store, error) {
	return store.Open(g.imageRoot, nil)
}

func (g *globals) logger(w io.Writer) container.Logger {
	return container.Logger{W: w, Level: g.logLevel}
}

// NewRoot builds the command tree.
func NewRoot(st Streams) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "minimal-docker",
		Short: "A small, readable Linux container runtime",
		Long: "minimal-docker runs a command from an image (pulled from a registry, run on an\n" +
			"overlay) or a root filesystem directory as an isolated container: new\n" +
			"namespaces, pivot_root, its own /proc and /dev, cgroup limits.",
		Version:       cli.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		// An absolute --root: a detached container's monitor runs in /,
		// with the paths under --root it is given.
		PersistentPreRunE: func(*cobra.Command, []string) error {
			abs, err := filepath.Abs(g.imageRoot)
			if err != nil {
				return fmt.Errorf("--root %s: %w", g.imageRoot, err)
			}
			g.imageRoot = abs
			return nil
		},
	}
	root.SetIn(st.In)
	root.SetOut(st.Out)
	root.SetErr(st.Err)
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", `log level: "debug" prints each setup step and its duration to stderr (debug, info, warn, error)`)
	root.PersistentFlags().StringVar(&g.imageRoot, "root", image.DefaultRoot, "directory of the image store")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help'.", err, c.CommandPath())
	})
	root.AddCommand(newRunCmd(g, st), newPruneCmd(g, st), newSpecCmd(), cli.InitCommand(), newVolumeCmd(g, st),
		newPullCmd(g, st), newImagesCmd(g, st), newTagCmd(g), newRmiCmd(g, st), newImageCmd(g, st), newPsCmd(g, st), newLogsCmd(g, st), newExecCmd(g, st), newWaitCmd(g, st), newAttachCmd(g, st))
	root.AddCommand(newLoadCmd(g, st), newSaveCmd(g, st), newImportCmd(g, st))
	root.AddCommand(newStopCmd(g, st), newKillCmd(g, st), newRmCmd(g, st), newInspectCmd(g, st), newContainerCmd(g, st))
	root.AddCommand(newPauseCmd(g, st), newUnpauseCmd(g, st), newTopCmd(g, st), newStatsCmd(g, st), newCpCmd(g, st))
	root.AddCommand(newCreateCmd(g, st), newStartCmd(g, st), newRestartCmd(g, st))
	root.AddCommand(newNetworkCmd(g, st), newPortCmd(g, st))
	return root
}

// Execute runs the CLI with args and returns the process's exit status. It
// prints the error, if any, to st.Err.
func Execute(args []string, st Streams) int {
	root := NewRoot(st)
	root.SetArgs(args)
	err := root.Execute()
	code, print := cli.ExitCode(err)
	if print {
		fmt.Fprintf(st.Err, "minimal-docker: %v\n", err)
	}
	return code
}

func validLogLevel(l string) error {
	switch l {
	case "debug", "info", "warn", "error":
		return nil
	}
	return fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", l)
}
