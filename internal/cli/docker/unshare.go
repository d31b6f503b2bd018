package docker

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
)

// newUnshareCmd is Podman's unshare: a command run in the rootless user
// namespace, as its root (the user's first subordinate id). What the
// containers and the store make belongs to the user's subordinate ids on
// the host, which the user can't change from outside; there, as root,
// it can (`minimal-docker unshare rm -rf ~/.local/share/minimal-docker`).
func newUnshareCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "unshare [COMMAND [ARG...]]",
		Short: "Run a command in the rootless user namespace (default: $SHELL)",
		Args:  cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			return unshare(args) // 125, or 126/127 as run says of a command
		},
	}
	c.Flags().SetInterspersed(false) // flags after COMMAND are its own
	return c
}

// unshare executes args (or the user's shell) in place of this process,
// which a rootless user's command runs in the namespace (rootless.Enter).
func unshare(args []string) error {
	if !rootless.Entered() {
		return errors.New("unshare: only for a rootless user (as root, the host's user namespace is the containers' already)")
	}
	if len(args) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		args = []string{sh}
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return fmt.Errorf("unshare: %q: %w", args[0], rootfs.ErrNotFound)
	}
	err = syscall.Exec(path, args, os.Environ())
	return fmt.Errorf("unshare: %s: %w (%w)", path, rootfs.ErrNotExecutable, err)
}
