package runc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/container"
)

func newPsCmd(g *globals, st Streams) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "ps [--format table|json] ID [PS-OPTIONS...]",
		Short: "List the processes of a container",
		Long: "List the processes in the container's cgroup. --format json prints their host\n" +
			"pids as a JSON array; table (the default) runs ps(1) on the host with\n" +
			"PS-OPTIONS (default -ef) and prints its header and the container's rows.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("invalid --format %q: want table or json", format)
			}
			if format == "json" && len(args) > 1 {
				return errors.New("ps options are for --format table only")
			}
			store, err := g.store()
			if err != nil {
				return err
			}
			pids, err := container.Ps(store, args[0])
			if err != nil {
				return err
			}
			if format == "json" {
				return printPidsJSON(st.Out, pids)
			}
			return printPsTable(st.Out, pids, args[1:])
		},
	}
	// Everything after the ID is for ps(1), as with runc ps.
	c.Flags().SetInterspersed(false)
	c.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	return c
}

// printPidsJSON prints pids as a JSON array ([] when there are none).
func printPidsJSON(w io.Writer, pids []int) error {
	if pids == nil {
		pids = []int{}
	}
	b, err := json.Marshal(pids)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// printPsTable runs ps(1) with psArgs (default -ef) and prints its header
// and the rows of pids, as runc does. Without ps on the host, and no
// psArgs, it prints a PID and CMD table read from /proc.
func printPsTable(w io.Writer, pids []int, psArgs []string) error {
	if len(psArgs) == 0 {
		path, err := exec.LookPath("ps")
		if err != nil {
			return printProcTable(w, pids)
		}
		return filterPs(w, pids, path, []string{"-ef"})
	}
	return filterPs(w, pids, "ps", psArgs)
}

func filterPs(w io.Writer, pids []int, ps string, psArgs []string) error {
	var stderr bytes.Buffer
	cmd := exec.Command(ps, psArgs...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("ps %s: %w: %s", strings.Join(psArgs, " "), err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := slices.Index(strings.Fields(lines[0]), "PID")
	if col < 0 {
		return fmt.Errorf("ps %s: no PID column in its header %q", strings.Join(psArgs, " "), lines[0])
	}
	fmt.Fprintln(w, lines[0])
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= col {
			continue
		}
		if pid, err := strconv.Atoi(f[col]); err == nil && slices.Contains(pids, pid) {
			fmt.Fprintln(w, line)
		}
	}
	return nil
}

// printProcTable prints each pid and its command line from /proc.
func printProcTable(w io.Writer, pids []int) error {
	fmt.Fprintf(w, "%7s %s\n", "PID", "CMD")
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue // gone meanwhile
		}
		cmd := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		if cmd == "" {
			if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
				cmd = "[" + strings.TrimSpace(string(comm)) + "]"
			}
		}
		fmt.Fprintf(w, "%7d %s\n", pid, cmd)
	}
	return nil
}
