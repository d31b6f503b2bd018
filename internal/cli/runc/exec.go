package runc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// execFlags are exec's flags.
type execFlags struct {
	process       string
	tty           bool
	consoleSocket string
	detach        bool
	pidFile       string
	cwd           string
	env           []string
	user          string
	extraGids     []uint
	preserveFds   int
}

func newExecCmd(g *globals, st Streams) *cobra.Command {
	f := &execFlags{}
	c := &cobra.Command{
		Use:   "exec [flags] ID [COMMAND [ARG...]]",
		Short: "Run a new process in a created or running container",
		Long: "Run a new process in the container's namespaces and cgroup: the one in --process\n" +
			"(a JSON process as in config.json), or COMMAND with the container's own process\n" +
			"settings (env, cwd, user) changed by --env, --cwd and --user. Without --detach,\n" +
			"wait for it and exit with its status (128+N when signal N killed it).",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			es, err := f.execSpec(args[1:])
			if err != nil {
				return err
			}
			store, err := g.store()
			if err != nil {
				return err
			}
			p, err := container.Exec(store, args[0], es, container.ExecOptions{
				Detach: f.detach,
				Stdin:  st.In, Stdout: st.Out, Stderr: st.Err,
				ConsoleSocket: f.consoleSocket,
				Explain:       g.explainLog(st.Err),
			})
			if err != nil {
				return err
			}
			if err := writePid(f.pidFile, p.Pid); err != nil {
				if !f.detach {
					_, _ = p.Wait()
				}
				return err
			}
			if f.detach {
				return nil
			}
			return cli.Exited(p.Wait())
		},
	}
	// COMMAND's own flags (sh -c ...) are not exec's.
	c.Flags().SetInterspersed(false)
	fl := c.Flags()
	fl.StringVarP(&f.process, "process", "p", "", "JSON file with the process to run (config.json's process); no COMMAND then")
	fl.BoolVarP(&f.tty, "tty", "t", false, "give the process a pty (relayed in the foreground; with --detach, sent to --console-socket)")
	fl.StringVar(&f.consoleSocket, "console-socket", "", "unix socket to receive the pty master (with --tty and --detach)")
	fl.BoolVarP(&f.detach, "detach", "d", false, "return once the process has started")
	fl.StringVar(&f.pidFile, "pid-file", "", "write the process's pid (in the host's pid namespace) to this file")
	fl.StringVar(&f.cwd, "cwd", "", "working directory in the container (absolute)")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set KEY=VALUE in the process's environment (repeatable)")
	fl.StringVarP(&f.user, "user", "u", "", "UID[:GID] to run as (numbers)")
	fl.UintSliceVarP(&f.extraGids, "additional-gids", "g", nil, "add a supplementary group (a gid; repeatable), to the container process's")
	fl.IntVar(&f.preserveFds, "preserve-fds", 0, "pass N more fds (from 3) to the process (not supported yet; must be 0)")
	return c
}

// execSpec turns the flags and COMMAND into what to exec.
func (f *execFlags) execSpec(command []string) (container.ExecSpec, error) {
	es := container.ExecSpec{Args: command, Env: f.env, Cwd: f.cwd, Terminal: f.tty}
	if f.preserveFds != 0 {
		return es, fmt.Errorf("--preserve-fds %d: not supported yet", f.preserveFds)
	}
	if f.cwd != "" {
		if err := spec.CheckWorkdir("--cwd", f.cwd); err != nil {
			return es, err
		}
	}
	if f.user != "" {
		u, err := container.ParseUser(f.user)
		if err != nil {
			return es, err
		}
		es.User = u
	}
	for _, g := range f.extraGids {
		if g > spec.MaxFlagID {
			return es, fmt.Errorf("invalid --additional-gids %d: out of range (0-%d)", g, spec.MaxFlagID)
		}
		es.AdditionalGids = append(es.AdditionalGids, uint32(g))
	}
	switch {
	case f.process != "" && len(command) > 0:
		return es, errors.New("give either --process or a COMMAND, not both")
	case f.process != "":
		b, err := os.ReadFile(f.process)
		if err != nil {
			return es, fmt.Errorf("--process: %w", err)
		}
		es.Process = &specs.Process{}
		if err := json.Unmarshal(b, es.Process); err != nil {
			return es, fmt.Errorf("--process %s: %w", f.process, err)
		}
	case len(command) == 0:
		return es, errors.New("exec: give a COMMAND or --process FILE")
	}
	terminal := f.tty || es.Process != nil && es.Process.Terminal
	return es, checkTerminal(f.detach, terminal, f.consoleSocket)
}

// writePid writes pid to path (if set), atomically: the engine may be
// watching the file.
func writePid(path string, pid int) error {
	if path == "" {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("--pid-file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("--pid-file: %w", err)
	}
	return nil
}
