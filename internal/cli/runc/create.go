package runc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

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
	fl.StringVar(&f.consoleSocket, "console-socket", "", "unix socket to receive the pty master of the container's process (process.terminal)")
	fl.BoolVar(&f.noPivot, "no-pivot", false, "use chroot instead of pivot_root (not supported: pivot_root is always used)")
	fl.BoolVar(&f.noNewKeyring, "no-new-keyring", false, "do not create a new session keyring (accepted; no keyring is created)")
	fl.IntVar(&f.preserveFds, "preserve-fds", 0, "pass N more fds (3 to 3+N-1) to the container's process, as the same numbers")
}

// prepare loads and checks the bundle's spec for create and run (detach:
// create, run -d).
func (f *createFlags) prepare(g *globals, st Streams, id string, detach bool) (string, *specs.Spec, *container.Options, error) {
	if err := container.ValidID(id); err != nil {
		return "", nil, nil, err
	}
	// Before this process holds files of its own, which could take the
	// numbers of missing ones.
	if err := checkPreserveFds(f.preserveFds); err != nil {
		return "", nil, nil, err
	}
	bundle, err := filepath.Abs(f.bundle)
	if err != nil {
		return "", nil, nil, err
	}
	s, err := spec.Load(bundle)
	if err != nil {
		return "", nil, nil, err
	}
	if err := checkTerminal(detach, s.Process != nil && s.Process.Terminal, f.consoleSocket); err != nil {
		return "", nil, nil, err
	}
	if f.noPivot {
		return "", nil, nil, fmt.Errorf("--no-pivot: not supported; minimal-runc always uses pivot_root")
	}
	overlay, err := spec.RootOverlay(s)
	if err != nil {
		return "", nil, nil, err
	}
	o := &container.Options{
		ID: id, LogLevel: g.logLevel(), Log: st.Err,
		Stdin: st.In, Stdout: st.Out, Stderr: st.Err,
		ConsoleSocket: f.consoleSocket,
		PreserveFDs:   f.preserveFds,
		RootOverlay:   overlay,
		Explain:       g.explainLog(st.Err),
	}
	return bundle, s, o, nil
}

// checkPreserveFds checks that the fds --preserve-fds passes on (3 to
// 3+n-1) were inherited: a missing one is an error, never a descriptor of
// the runtime's own passed on by mistake (the Go runtime keeps cgroup
// files open at the lowest free numbers). An inherited fd is one without
// close-on-exec: execve closed the others, and what this process opens
// has it.
func checkPreserveFds(n int) error {
	if n < 0 {
		return fmt.Errorf("--preserve-fds %d: want 0 or more", n)
	}
	for fd := 3; fd < 3+n; fd++ {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			return fmt.Errorf("--preserve-fds %d: fd %d is not open (not passed by the caller)", n, fd)
		}
	}
	return nil
}

func newCreateCmd(g *globals, st Streams) *cobra.Command {
	f := &createFlags{}
	c := &cobra.Command{
		Use:   "create [flags] ID",
		Short: "Create a container from a bundle; its init waits for start",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			bundle, s, o, err := f.prepare(g, st, args[0], true)
			if err != nil {
				return err
			}
			store, err := g.store()
			if err != nil {
				return err
			}
			if err := container.Create(store, bundle, s, *o); err != nil {
				return err
			}
			return writePidFile(store, f.pidFile, args[0])
		},
	}
	f.register(c)
	return c
}

// checkTerminal is runc's rule for a terminal (checkTerminal in its
// utils_linux.go): a detached process with a terminal needs
// --console-socket, to hand its pty master to; --console-socket is only for
// a detached process with a terminal. In the foreground, minimal-runc
// relays the pty itself.
func checkTerminal(detach, terminal bool, socket string) error {
	switch {
	case detach && terminal && socket == "":
		return errors.New("process.terminal is true and minimal-runc detaches (create, run -d, exec -d): give --console-socket to receive the pty master")
	case socket != "" && !terminal:
		return errors.New("--console-socket: the process has no terminal (process.terminal, or exec --tty)")
	case socket != "" && !detach:
		return errors.New("--console-socket: only for a detached process (create, run -d, exec -d); in the foreground minimal-runc relays the terminal itself")
	}
	return nil
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
