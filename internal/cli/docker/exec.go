package docker

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// execFlags are `exec`'s flags (Docker's).
type execFlags struct {
	interactive, tty, detach bool
	env                      []string
	workdir, user            string
}

func newExecCmd(g *globals, st Streams) *cobra.Command {
	var f execFlags
	c := &cobra.Command{
		Use:   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Run a command in a running container",
		Long: "Run COMMAND in a running detached container's namespaces and cgroup, with\n" +
			"the container's environment, working directory and user unless -e, -w, -u\n" +
			"say otherwise (through minimal-runc exec). The exit status is the\n" +
			"command's; -it gives it a pty relayed to this terminal, in raw mode.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return execInContainer(g, st, f, args[0], args[1:])
		},
	}
	fl := c.Flags()
	fl.SetInterspersed(false) // flags after CONTAINER are the command's
	fl.BoolVarP(&f.interactive, "interactive", "i", false, "keep STDIN open")
	fl.BoolVarP(&f.tty, "tty", "t", false, "allocate a pseudo-TTY")
	fl.BoolVarP(&f.detach, "detach", "d", false, "detached mode: run the command in the background")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set environment variables (KEY=VALUE)")
	fl.StringVarP(&f.workdir, "workdir", "w", "", "working directory inside the container (absolute)")
	fl.StringVarP(&f.user, "user", "u", "", "USER[:GROUP] to run as: numbers, or names from the container's /etc/passwd and /etc/group")
	return c
}

// execInContainer runs minimal-runc exec on the container ref names. Its
// own failures exit 1, as the Docker CLI's; the command's status is
// passed on.
func execInContainer(g *globals, st Streams, f execFlags, ref string, argv []string) error {
	if err := f.check(st); err != nil {
		return &cli.Status{Code: 1, Err: err}
	}
	s, err := g.containers()
	if err != nil {
		return dockerError(err)
	}
	c, err := s.Get(ref)
	if err != nil {
		return dockerError(err)
	}
	if c.State.Paused {
		return dockerError(fmt.Errorf("Container %s is paused, unpause the container before exec", c.ID))
	}
	if !c.State.Running {
		return dockerError(fmt.Errorf("container %s is not running", c.ID))
	}
	rt, err := g.runtime()
	if err != nil {
		return dockerError(err)
	}
	args := append(rt.globalArgs(), "exec")
	if f.tty {
		args = append(args, "--tty")
	}
	if f.detach {
		args = append(args, "--detach")
	}
	envAt := len(args)
	for _, e := range f.env {
		args = append(args, "--env", e)
	}
	if f.workdir != "" {
		args = append(args, "--cwd", f.workdir)
	}
	if f.user != "" {
		u, err := execUser(g, c.ID, f.user)
		if err != nil {
			return err
		}
		args = append(args, "--user", fmt.Sprintf("%d:%d", u.UID, u.GID))
		for _, gid := range u.AdditionalGids {
			args = append(args, "--additional-gids", strconv.FormatUint(uint64(gid), 10))
		}
		if u.Home != "" {
			// Before the -e flags: a -e HOME= wins.
			args = append(args[:envAt:envAt], append([]string{"--env", "HOME=" + u.Home}, args[envAt:]...)...)
		}
	}
	args = append(append(args, c.ID), argv...)
	cmd := exec.Command(rt.path, args...)
	null, err := os.Open(os.DevNull)
	if err != nil {
		return dockerError(err)
	}
	defer null.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, st.Out, st.Err
	if f.interactive {
		cmd.Stdin = st.In
	}
	if f.detach {
		cmd.Stdout = null
	}
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &cli.Status{Code: exit.ExitCode()} // the runtime said why
	}
	return dockerError(err)
}

// execUser resolves exec's -u USER[:GROUP] as run's -u does
// (spec.LookupUser: the uid's or name's primary group, supplementary
// groups and home directory), from the /etc/passwd and /etc/group of the
// running container id, read inside its root (containerRoot). A name it
// lacks is Docker's error, exit 126 as Docker's exec.
func execUser(g *globals, id, arg string) (spec.ResolvedUser, error) {
	r, err := containerRoot(g, id)
	if err != nil {
		return spec.ResolvedUser{}, dockerError(err)
	}
	defer r.close()
	u, err := spec.LookupUser(arg, func(file string) (*os.File, error) {
		fd, err := r.open(file, unix.O_RDONLY)
		if err != nil {
			return nil, err
		}
		return os.NewFile(uintptr(fd), file), nil
	})
	var missing *spec.NoEntryError
	if errors.As(err, &missing) {
		return u, &cli.Status{Code: 126, Err: err}
	}
	return u, dockerError(err)
}

// check refuses what Docker refuses, and what is not built yet.
func (f execFlags) check(st Streams) error {
	if f.interactive && f.tty && !term.IsTerminal(int(st.In.Fd())) {
		return errors.New("the input device is not a TTY")
	}
	if f.detach && f.tty {
		// Docker's shim keeps the pty's master open for the detached
		// process; here minimal-runc hands it to --console-socket and
		// nothing would hold it once exec returns: the process would get
		// a hangup (SIGHUP) at once.
		return errors.New("exec -d with -t: not supported (nothing would hold the pty's master once exec returns, and the process would get SIGHUP): use -d without -t, or -it")
	}
	if f.workdir != "" && !strings.HasPrefix(f.workdir, "/") {
		return fmt.Errorf("invalid -w %q: want an absolute path", f.workdir)
	}
	if f.user != "" {
		return spec.CheckUserFlag("--user", f.user)
	}
	return nil
}
