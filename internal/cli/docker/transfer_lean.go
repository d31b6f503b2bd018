//go:build lean

package docker

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/sealed"
)

// A lean minimal-docker (make build's: the build tag lean) does not link
// what moves images into and out of the store: the registry client (HTTP,
// TLS, credentials), the archive formats and the zstd decoder. Their
// packages' initialisers alone cost every start ~3.5 ms, `run` included.
// It hands pull, load, save and import, command line and all, to
// minimal-docker-image beside it: the same CLI built whole. The verbs that
// read the store (run, create, images, rmi, tag, image inspect) stay here.

func newPullCmd(g *globals, _ Streams) *cobra.Command {
	return handedOver(g, "pull [-q] [--platform os/arch] NAME[:TAG|@DIGEST]", "Download an image from a registry")
}

func newLoadCmd(g *globals, _ Streams) *cobra.Command {
	return handedOver(g, "load [-i FILE] [-q]", "Load images from an archive (docker save's, or an OCI image layout in a tar)")
}

func newSaveCmd(g *globals, _ Streams) *cobra.Command {
	return handedOver(g, "save [-o FILE] IMAGE...", "Save images to an archive (docker save's, also an OCI image layout)")
}

func newImportCmd(g *globals, _ Streams) *cobra.Command {
	return handedOver(g, "import [-c CHANGE]... [-m MESSAGE] FILE|- [REPOSITORY[:TAG]]", "Import a root filesystem tarball as a one-layer image")
}

// handedOver is a verb that minimal-docker-image runs: its flags, --help
// included, are that binary's to parse.
func handedOver(g *globals, use, short string) *cobra.Command {
	return &cobra.Command{
		Use:                use,
		Short:              short,
		DisableFlagParsing: true,
		RunE: func(*cobra.Command, []string) error {
			return execImage(g.args)
		},
	}
}

// execImage replaces this process with minimal-docker-image, given the
// command line args (argv[0] kept: messages still say minimal-docker).
func execImage(args []string) error {
	path, err := sealed.Beside(sealed.ImageName)
	if err != nil {
		return failed(err)
	}
	err = syscall.Exec(path, append([]string{os.Args[0]}, args...), os.Environ())
	return failed(&os.PathError{Op: "exec", Path: path, Err: err})
}

// imageBinary finds minimal-docker-image, for check.
var imageBinary = func() (string, error) { return sealed.Beside(sealed.ImageName) }

// pullForRun is run's and create's pull of an image the store lacks, by
// minimal-docker-image: its lines on stderr, stdout being the container's.
// That pull reports its own error; run then exits 125, as Docker's does.
func pullForRun(c *cobra.Command, g *globals, st Streams, ref string) error {
	path, err := sealed.Beside(sealed.ImageName)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(c.Context(), path, "--root", g.imageRoot, "--log-level", g.logLevel, "pull", ref)
	cmd.Args[0] = os.Args[0]
	cmd.Stdout, cmd.Stderr = st.Err, st.Err
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); ok {
			return &cli.Status{Code: exitcode.Runtime}
		}
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	return nil
}
