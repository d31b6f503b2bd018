// Package docker is the Docker-like front door: one file per verb, flags to
// spec options, nothing else.
package docker

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/image"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
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
	args        []string // the command line (nil: every verb built; os.Args)
	logLevel    string
	imageRoot   string   // --root: the image store
	storageOpts []string // --storage-opt (storage.go)
	// overlay is how image containers' overlays are mounted, once
	// decided (overlayMount), and the error that decided none.
	overlay    *rootfs.OverlayMount
	overlayErr error
}

// images opens the image store under --root; the layers that a running
// image container uses are in use (layersInUse).
func (g *globals) images() (*image.Store, error) {
	return image.Open(g.imageRoot, image.Options{LayerInUse: layersInUse(g.imageRoot)})
}

// store opens the containers' store.
func (g *globals) store() (*container.Store, error) {
	root := os.Getenv(EnvRoot)
	if root == "" && rootless.Active() {
		var err error
		if root, err = rootless.RuntimeDir(filepath.Join(rootless.Name, "containers")); err != nil {
			return nil, err
		}
	}
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
func NewRoot(st Streams) *cobra.Command { return newRoot(st, nil) }

// newRoot builds the root command with the verb args name, or with every
// verb (cli.AddVerbs).
func newRoot(st Streams, args []string) *cobra.Command {
	g := &globals{args: args}
	if args == nil {
		g.args = os.Args[1:]
	}
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
			if _, err := parseStorageOpts(g.storageOpts); err != nil {
				return err
			}
			if g.imageRoot == "" { // rootless, without a data home
				_, err := rootless.DataDir()
				return err
			}
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
	root.PersistentFlags().StringVar(&g.imageRoot, "root", defaultImageRoot(), "directory of the image store (rootless: $XDG_DATA_HOME/minimal-docker)")
	root.PersistentFlags().StringArrayVar(&g.storageOpts, "storage-opt", nil, "image overlay option KEY=VALUE (Podman's): overlay.mount_program=PATH mounts image containers' overlays with PATH (fuse-overlayfs) in place of the kernel's overlay (rootless: the default where that can't be mounted)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help'.", err, c.CommandPath())
	})
	cli.AddVerbs(root, args, verbs(g, st))
	return root
}

// EnvDataRoot overrides --root's default (the test suites keep their
// own store: testenv.SuiteSetup).
const EnvDataRoot = "MINIMAL_DOCKER_DATA_ROOT"

// defaultImageRoot is --root's default: $MINIMAL_DOCKER_DATA_ROOT, else
// image.DefaultRoot, or for a rootless runtime the user's data home's
// (rootless.DataDir; "" when it has none, which PersistentPreRunE
// reports).
func defaultImageRoot() string {
	if d := os.Getenv(EnvDataRoot); d != "" {
		return d
	}
	if !rootless.Active() {
		return image.DefaultRoot
	}
	d, _ := rootless.DataDir()
	return d
}

// verbs are the commands of the tree, in the order help lists them.
func verbs(g *globals, st Streams) []cli.Verb {
	v := func(names string, build func() *cobra.Command) cli.Verb {
		return cli.Verb{Names: strings.Fields(names), Build: build}
	}
	return []cli.Verb{
		v("run", func() *cobra.Command { return newRunCmd(g, st) }),
		v("prune", func() *cobra.Command { return newPruneCmd(g, st) }),
		v("spec", newSpecCmd),
		v("volume", func() *cobra.Command { return newVolumeCmd(g, st) }),
		v("pull", func() *cobra.Command { return newPullCmd(g, st) }),
		v("images list", func() *cobra.Command { return newImagesCmd(g, st) }),
		v("tag", func() *cobra.Command { return newTagCmd(g) }),
		v("rmi remove", func() *cobra.Command { return newRmiCmd(g, st) }),
		v("image", func() *cobra.Command { return newImageCmd(g, st) }),
		v("ps", func() *cobra.Command { return newPsCmd(g, st) }),
		v("logs", func() *cobra.Command { return newLogsCmd(g, st) }),
		v("exec", func() *cobra.Command { return newExecCmd(g, st) }),
		v("wait", func() *cobra.Command { return newWaitCmd(g, st) }),
		v("attach", func() *cobra.Command { return newAttachCmd(g, st) }),
		v("load", func() *cobra.Command { return newLoadCmd(g, st) }),
		v("save", func() *cobra.Command { return newSaveCmd(g, st) }),
		v("import", func() *cobra.Command { return newImportCmd(g, st) }),
		v("stop", func() *cobra.Command { return newStopCmd(g, st) }),
		v("kill", func() *cobra.Command { return newKillCmd(g, st) }),
		v("rm", func() *cobra.Command { return newRmCmd(g, st) }),
		v("inspect", func() *cobra.Command { return newInspectCmd(g, st) }),
		v("container", func() *cobra.Command { return newContainerCmd(g, st) }),
		v("pause", func() *cobra.Command { return newPauseCmd(g, st) }),
		v("unpause", func() *cobra.Command { return newUnpauseCmd(g, st) }),
		v("top", func() *cobra.Command { return newTopCmd(g, st) }),
		v("stats", func() *cobra.Command { return newStatsCmd(g, st) }),
		v("cp", func() *cobra.Command { return newCpCmd(g, st) }),
		v("create", func() *cobra.Command { return newCreateCmd(g, st) }),
		v("start", func() *cobra.Command { return newStartCmd(g, st) }),
		v("restart", func() *cobra.Command { return newRestartCmd(g, st) }),
		v("network", func() *cobra.Command { return newNetworkCmd(g, st) }),
		v("port", func() *cobra.Command { return newPortCmd(g, st) }),
		v("check", func() *cobra.Command { return newCheckCmd(g, st) }),
		v("unshare", newUnshareCmd),
	}
}

// Execute runs the CLI with args and returns the process's exit status. It
// prints the error, if any, to st.Err.
func Execute(args []string, st Streams) int {
	root := newRoot(st, args)
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

// failed is an image verb's error, with the Docker CLI's exit status 1.
func failed(err error) error {
	if err == nil {
		return nil
	}
	return &cli.Status{Code: 1, Err: err}
}
