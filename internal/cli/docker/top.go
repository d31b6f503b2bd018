package docker

// top: the processes of a running detached container, as Docker lists
// them: the runtime names the pids in the container's cgroup (minimal-runc
// ps --format json), the host's ps(1) describes every process, and the
// rows of those pids are kept, in Docker's table.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/sealed"
)

func newTopCmd(g *globals, st Streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "top CONTAINER [ps OPTIONS]",
		Short: "Display the running processes of a container",
		Long: "List the processes in a running container's cgroup. As Docker does, this\n" +
			"runs the host's ps(1) with the ps OPTIONS given (default -ef: UID PID PPID\n" +
			"C STIME TTY TIME CMD) and keeps the rows of the container's processes; the\n" +
			"pids are the host's.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return dockerError(top(g, st, args[0], args[1:]))
		},
	}
	c.Flags().SetInterspersed(false) // what follows CONTAINER is ps's
	return c
}

func top(g *globals, st Streams, ref string, psArgs []string) error {
	s, err := g.containers()
	if err != nil {
		return err
	}
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	if !c.State.Running {
		return fmt.Errorf("Container %s is not running", c.ID)
	}
	if c.State.Restarting {
		return fmt.Errorf("Container %s is restarting, wait until the container is running", c.ID)
	}
	r, err := g.runtime()
	if err != nil {
		return err
	}
	pids, err := r.pids(c.ID)
	if err != nil {
		return err
	}
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	var stderr bytes.Buffer
	cmd := exec.Command("ps", psArgs...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("ps %s: %w: %s", strings.Join(psArgs, " "), err, strings.TrimSpace(stderr.String()))
	}
	titles, rows, err := parsePs(string(out), pids)
	if err != nil {
		return err
	}
	return writeTop(st.Out, titles, rows)
}

// pids are the host pids of the processes in container id's cgroup.
func (r runtime) pids(id string) ([]int, error) {
	cmd := exec.Command(r.path, append(r.globalArgs(), "ps", "--format", "json", id)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("%s ps %s: %s", sealed.RuncName, id, msg)
	}
	var pids []int
	if err := json.Unmarshal(out, &pids); err != nil {
		return nil, fmt.Errorf("%s ps %s: %w", sealed.RuncName, id, err)
	}
	return pids, nil
}

// parsePs splits ps's output into its titles and the rows of pids, each
// cut into as many fields as there are titles (the last, the command,
// keeps its spaces), as Docker's parsePSOutput does.
func parsePs(out string, pids []int) ([]string, [][]string, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	titles := strings.Fields(lines[0])
	col := slices.Index(titles, "PID")
	if col < 0 {
		return nil, nil, fmt.Errorf("couldn't find PID field in ps output %q", lines[0])
	}
	var rows [][]string
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < len(titles) {
			continue
		}
		pid, err := strconv.Atoi(f[col])
		if err != nil || !slices.Contains(pids, pid) {
			continue
		}
		row := append(f[:len(titles)-1:len(titles)-1], strings.Join(f[len(titles)-1:], " "))
		rows = append(rows, row)
	}
	return titles, rows, nil
}

// writeTop prints the titles and rows in the Docker CLI's top table.
func writeTop(w io.Writer, titles []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 20, 1, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(titles, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
