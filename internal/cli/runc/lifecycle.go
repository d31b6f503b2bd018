package runc

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

func newStartCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "start ID",
		Short: "Start a created container: its init execs the user's process",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			store, err := g.store()
			if err != nil {
				return err
			}
			return container.Start(store, args[0], g.logger(c.ErrOrStderr()))
		},
	}
}

func newStateCmd(g *globals, st Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "state ID",
		Short: "Print the container's state as the OCI spec's JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			store, err := g.store()
			if err != nil {
				return err
			}
			s, err := container.StateOf(store, args[0])
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(s.OCI(), "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintf(st.Out, "%s\n", b)
			return nil
		},
	}
}

func newKillCmd(g *globals) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "kill [--all] ID [SIGNAL]",
		Short: "Send a signal (name or number, default SIGTERM) to the container's init",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			sig := unix.SIGTERM
			if len(args) == 2 {
				s, err := cli.ParseSignal(args[1])
				if err != nil {
					return err
				}
				sig = s
			}
			store, err := g.store()
			if err != nil {
				return err
			}
			return container.Kill(store, args[0], sig, all)
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "send the signal to every process in the container's cgroup")
	return c
}

func newDeleteCmd(g *globals) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "delete [--force] ID",
		Short: "Delete a stopped container (--force: kill a running one first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			store, err := g.store()
			if err != nil {
				return err
			}
			err = container.Delete(store, args[0], force, g.logger(c.ErrOrStderr()))
			if force && errors.Is(err, container.ErrNotExist) {
				return nil // nothing left to delete: done, as runc says
			}
			return err
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "kill the container first if it is running")
	return c
}

func newRunCmd(g *globals, st Streams) *cobra.Command {
	f := &createFlags{}
	var detach bool
	c := &cobra.Command{
		Use:   "run [flags] ID",
		Short: "Create and start a container; without --detach wait for it and delete it",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			bundle, s, o, err := f.prepare(g, st, args[0], detach)
			if err != nil {
				return err
			}
			store, err := g.store()
			if err != nil {
				return err
			}
			code, err := container.RunOCI(store, bundle, s, *o, detach)
			if err == nil && detach {
				err = writePidFile(store, f.pidFile, args[0])
			}
			return cli.Exited(code, err)
		},
	}
	f.register(c)
	c.Flags().BoolVarP(&detach, "detach", "d", false, "return once the container has started")
	return c
}

func newListCmd(g *globals, st Streams) *cobra.Command {
	var format string
	var quiet bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List containers",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			store, err := g.store()
			if err != nil {
				return err
			}
			ids, err := store.List()
			if err != nil {
				return err
			}
			var states []*container.State
			for _, id := range ids {
				if s, err := container.StateOf(store, id); err == nil {
					states = append(states, s)
				}
			}
			return printList(st, states, format, quiet)
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only IDs")
	return c
}

func printList(st Streams, states []*container.State, format string, quiet bool) error {
	if quiet {
		for _, s := range states {
			fmt.Fprintln(st.Out, s.ID)
		}
		return nil
	}
	switch format {
	case "json":
		out := make([]any, 0, len(states))
		for _, s := range states {
			out = append(out, map[string]any{
				"ociVersion": s.OCIVersion, "id": s.ID, "pid": s.OCI().Pid, "status": s.Status,
				"bundle": s.Bundle, "rootfs": s.Rootfs, "created": s.Created, "annotations": s.Annotations,
			})
		}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		fmt.Fprintf(st.Out, "%s\n", b)
		return nil
	case "table":
		w := tabwriter.NewWriter(st.Out, 12, 1, 3, ' ', 0)
		fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, s := range states {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\troot\n", s.ID, s.OCI().Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano))
		}
		return w.Flush()
	}
	return fmt.Errorf("invalid --format %q: want table or json", format)
}

func newSpecCmd(st Streams) *cobra.Command {
	var bundle string
	c := &cobra.Command{
		Use:   "spec",
		Short: "Write a default config.json into the bundle directory",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return spec.WriteBundle(bundle)
		},
	}
	c.Flags().StringVarP(&bundle, "bundle", "b", ".", "the bundle directory")
	return c
}
