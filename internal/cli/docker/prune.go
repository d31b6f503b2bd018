package docker

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// pruneWarning is Docker's prompt of `container prune`.
const pruneWarning = "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "

func newPruneCmd(g *globals, st Streams) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "prune [-f]",
		Short: "Remove all stopped containers (detached ones, and what a killed run left)",
		Long: "Remove every detached container that is not running (as rm does), and every\n" +
			"container that is stopped and whose run command is gone (a foreground\n" +
			"`minimal-docker run` that was killed): its processes, cgroups and state.\n" +
			"Prints the IDs removed, as `docker container prune` does.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := validLogLevel(g.logLevel); err != nil {
				return err
			}
			if !force && !confirmWith(st, pruneWarning) {
				return nil // cancelled: nothing to do, as Docker
			}
			store, err := g.store()
			if err != nil {
				return err
			}
			removed, err := container.Prune(store, g.logger(st.Err))
			detached, derr := pruneDetached(g)
			removed = append(removed, detached...)
			// What the removed ones (killed runs) left on the networks.
			err = errors.Join(err, derr, sweepNetworks(g))
			if len(removed) > 0 {
				fmt.Fprintf(st.Out, "Deleted Containers:\n%s\n\n", strings.Join(removed, "\n"))
			}
			fmt.Fprintln(st.Out, "Total reclaimed space: 0B")
			return err
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	return c
}

// pruneDetached removes every detached container that is not running
// (created or exited), and what killed commands left (Sweep, sweepRunDirs),
// and returns the containers' IDs.
func pruneDetached(g *globals) ([]string, error) {
	// The writable layers of runs killed before their record was made
	// (a record keeps its container's: runDirKept).
	sweepRunDirs(filepath.Join(g.imageRoot, runDirs))
	if _, err := os.Stat(filepath.Join(g.imageRoot, store.DirName)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // no store: none (and prune makes none)
	}
	s, err := g.containers()
	if err != nil {
		return nil, err
	}
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	var first error
	var r runtime
	for _, c := range list {
		if c.State.Running {
			continue
		}
		if r.path == "" {
			if r, err = g.runtime(); err != nil {
				return removed, err
			}
		}
		// Refused if it started meanwhile (removeContainer checks again
		// under its lock).
		if err := removeContainer(g, s, r, c.ID, false, false); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		removed = append(removed, c.ID)
	}
	if err := s.Sweep(); err != nil && first == nil {
		first = err
	}
	return removed, first
}

// confirmWith asks Docker's question on stdout and reads the answer from
// stdin: "y" or "Y" goes on.
func confirmWith(st Streams, question string) bool {
	fmt.Fprint(st.Out, question)
	answer, _ := bufio.NewReader(st.In).ReadString('\n')
	answer = strings.TrimSpace(answer)
	return answer == "y" || answer == "Y"
}
