package nsenter

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/initproc"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/seccomp/bpf"
)

// child is what the steps of the joined process share.
type child struct {
	p    *specs.Process
	exe  string          // the command, resolved inside the container
	conn *handshake.Conn // the runtime (the console step sends the pty master)
	// filter is the container's seccomp filter (nil for none), installed
	// by the final steps.
	filter *bpf.Filter
	// root, when set, is the container's root to chroot into: the
	// container shares the caller's mount namespace, so joining gave no
	// root (Config.Spec.Root).
	root string
}

// childSteps run in the container's namespaces, once the runtime has put
// the process in the container's cgroup. A failing step is reported as
// "init NAME: ...". The user, capabilities, umask and no_new_privs come
// first (the container init's own final steps), so that the working
// directory and the command are checked with the user's rights; only the
// console (process.terminal: a pty from the container's /dev/ptmx, as
// the init makes one, without /dev/console) comes before them, as root.
var childSteps = []struct {
	name string
	run  func(*child) error
}{
	{"root", func(c *child) error {
		if c.root == "" {
			return nil
		}
		return rootfs.Chroot(c.root)
	}},
	{"console", func(c *child) error {
		if !c.p.Terminal {
			return nil
		}
		return initproc.Terminal(c.conn, c.p, false)
	}},
	{"final", func(c *child) error { return initproc.Finalize(c.p, c.filter) }},
	{"cwd", chdir},
	{"lookup", lookup},
}

func lookup(c *child) (err error) {
	c.exe, err = initproc.Lookup(c.p)
	return err
}

// Main is the Go side of the joined process (the init's hidden exec-init
// command, InitCommand): the constructor has joined the namespaces and
// executed it there; it reads
// the process to run from the handshake (a Config whose Spec holds only
// the Process), waits for the go-ahead, runs childSteps and execs. It
// returns only on failure, with the exit status, having sent the error to
// the runtime.
func Main() int {
	// The credentials set below and execve belong to one thread.
	runtime.LockOSThread()
	// The constructor's process was not dumpable; executing the init made
	// this one dumpable again. Not until the user's program: processes of
	// the container may not ptrace it or open /proc/PID/exe and fds.
	// (Until here it held every capability the runtime has, so only a
	// holder of CAP_SYS_PTRACE could, which dumpable does not stop.)
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "minimal-docker exec: prctl(PR_SET_DUMPABLE): %v\n", err)
		return exitcode.Runtime
	}
	conn, err := handshake.FromEnv()
	if err != nil {
		fmt.Fprintf(os.Stderr, "minimal-docker exec: %v\n", err)
		return exitcode.Runtime
	}
	err = initproc.CloseExecFrom(3)
	if err == nil {
		err = run(conn)
	}
	return initproc.Fail(conn, err, "minimal-docker exec")
}

func run(conn *handshake.Conn) error {
	cfg, err := conn.WaitConfig()
	if err != nil {
		return err
	}
	if cfg.Spec.Process == nil || len(cfg.Spec.Process.Args) == 0 {
		return errors.New("exec: no process to run")
	}
	if err := conn.WaitGo(); err != nil {
		return err
	}
	c := &child{p: cfg.Spec.Process, conn: conn, filter: cfg.Seccomp}
	if cfg.Spec.Root != nil {
		c.root = cfg.Spec.Root.Path
	}
	for _, s := range childSteps {
		if err := s.run(c); err != nil {
			return handshake.StepError(s.name, err)
		}
	}
	return initproc.Exec(c.exe, c.p)
}

// chdir changes to process.cwd; unlike the container's init, exec does not
// create it.
func chdir(c *child) error {
	if c.p.Cwd == "" {
		c.p.Cwd = "/"
	}
	cwd := c.p.Cwd
	if err := unix.Chdir(cwd); err != nil {
		return &os.PathError{Op: "chdir", Path: cwd, Err: err}
	}
	return nil
}
