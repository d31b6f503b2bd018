package runc

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// createFlags are create's (and run's) flags.
type createFlags struct {
	bundle        string
	pidFile       string
	consoleSocket string
	noPivot       bool
	noNewKeyring  bool
	preserveFds   int
}

func (f *createFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVarP(&f.bundle, "bundle", "b", ".", "path to the bundle directory (holding config.json)")
	fl.StringVar(&f.pidFile, "pid-file", "", "write the container's init pid to this file")
	fl.StringVar(&f.consoleSocket, "console-socket", "", "unix socket to receive the pty master (process.terminal; not supported yet)")
	fl.BoolVar(&f.noPivot, "no-pivot", false, "use chroot instead of pivot_root (not supported: pivot_root is always used)")
	fl.BoolVar(&f.noNewKeyring, "no-new-keyring", false, "do not create a new session keyring (accepted; no keyring is created)")
	fl.IntVar(&f.preserveFds, "preserve-fds", 0, "pass N more fds (from 3) to the container (not supported yet; must be 0)")
}

// prepare loads and checks the bundle's spec for create and run.
func (f *createFlags) prepare(g *globals, st Streams, id string) (string, *container.Options, error) {
	if err := container.ValidID(id); err != nil {
		return "", nil, err
	}
	bundle, err := filepath.Abs(f.bundle)
	if err != nil {
		return "", nil, err
	}
	s, err := spec.Load(bundle)
	if err != nil {
		return "", nil, err
	}
	if s.Process != nil && s.Process.Terminal || f.consoleSocket != "" {
		return "", nil, fmt.Errorf("process.terminal / --console-socket: a pty is not supported yet")
	}
	if f.noPivot {
		return "", nil, fmt.Errorf("--no-pivot: not supported; minimal-runc always uses pivot_root")
	}
	if f.preserveFds != 0 {
		return "", nil, fmt.Errorf("--preserve-fds %d: not supported yet", f.preserveFds)
	}
	o := &container.Options{
		ID: id, LogLevel: g.logLevel(), Log: st.Err,
		Stdin: st.In, Stdout: st.Out, Stderr: st.Err, Spec: s,
	}
	return bundle, o, nil
}

func newCreateCmd(g *globals, st Streams) *cobra.Command {
	f := &createFlags{}
	c := &cobra.Command{
		Use:   "create [flags] ID",
		Short: "Create a container from a bundle; its init waits for start",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			bundle, o, err := f.prepare(g, st, args[0])
			if err != nil {
				return cli.Runtime(err)
			}
			store, err := g.store()
			if err != nil {
				return cli.Runtime(err)
			}
			if err := container.Create(store, bundle, o.Spec, *o); err != nil {
				return err
			}
			return cli.Runtime(writePidFile(store, f.pidFile, args[0]))
		},
	}
	f.register(c)
	return c
}

// writePidFile writes the container's init pid, atomically (the engine may
// be watching the file).
func writePidFile(store *container.Store, path, id string) error {
	if path == "" {
		return nil
	}
	s, err := container.StateOf(store, id)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(s.Pid)), 0o644); err != nil {
		return fmt.Errorf("--pid-file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("--pid-file: %w", err)
	}
	return nil
}
