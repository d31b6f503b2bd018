// Package nsenter starts a process inside the namespaces of a running
// process: exec into a container; and a container's init in a user
// namespace joined by path (Cmd.Init), in new namespaces that namespace
// owns.
//
// Joining a mount or user namespace takes a single-threaded process, and a
// Go process never is one. So a small C constructor does the joining: it
// is in minimal-docker-helper (cmd/minimal-docker-helper/nsenter.c), the
// runtimes' cgo half, and runs before that binary's Go runtime would. It
// then forks, and the child, in the namespaces, executes nothing: it runs
// the plan that the runtime sends on the handshake (its fd named by
// handshake.EnvPlanFD in Cmd.Env; the helper's plan_main), as the
// container's init runs its own, and ends in the plan's exec.
//
//	runtime (Start)                       minimal-docker-helper (sealed)
//	---------------                       ------------------------------
//	Open: /proc/PID/ns/* that differ
//	from ours, in Order
//	execute the helper with the ns
//	files, a pipe and the handshake's
//	end inherited  ---------------------> constructor: setns each, in order
//	                                      fork -----------------> child, in every
//	read the child's pid  <-------------- write its pid,          namespace: close the
//	(or "error: ...") to the              exit 0                  pipe, run the plan
//	pipe's end (the child closed it)                              sent on the handshake
//	reap the helper's process                                     (plan_main), exec
//	send the plan (handshake) ----------------------------------> Cmd's process
//
// Start makes the caller a child subreaper (PR_SET_CHILD_SUBREAPER) until
// it has reaped the helper: the child, orphaned when its parent exits, is
// then re-parented to the caller, which can wait for it, forward signals
// to it, and kill and reap it on failure. What the caller was before is
// then restored, so that later orphans of the container's processes are
// not the caller's to reap.
package nsenter

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/sealed"
)

// The environment of the re-executed binary, read by the constructor.
const (
	// EnvJoin lists the namespaces to join, in order, as NAME:FD pairs of
	// inherited descriptors: "ipc:4,uts:5,pid:6,mnt:7".
	EnvJoin = "_MINIMAL_DOCKER_NSENTER"
	// EnvPipe is the descriptor to which the constructor writes the pid
	// of the process in the namespaces, or its error.
	EnvPipe = "_MINIMAL_DOCKER_NSENTER_PIPE"
	// EnvUnshare, set for a container's init (Cmd.Init), holds the
	// CLONE_NEW* flags (decimal) of the namespaces to make after the
	// joins.
	EnvUnshare = "_MINIMAL_DOCKER_NSENTER_UNSHARE"
)

// Order is the order in which namespaces are joined: the user namespace
// first, as it grants the rights to join the others; the mount namespace
// last, as it changes the root. The pid namespace applies only to children:
// the constructor forks after the last setns.
var Order = []string{"user", "cgroup", "ipc", "uts", "net", "pid", "time", "mnt"}

// Namespace is an open namespace file (/proc/PID/ns/NAME) to join.
type Namespace struct {
	Name string // as in /proc/PID/ns: "mnt", "pid", ...
	File *os.File
}

// Open opens the namespaces of pid that differ from this process's own, in
// Order; the kernel's missing ones (no time namespace) are skipped. The
// caller closes them (Close), and checks after Open that pid is still the
// process it meant: a pid reused before Open would name another's.
func Open(pid int) (nss []Namespace, err error) {
	defer func() {
		if err != nil {
			Close(nss)
			nss = nil
		}
	}()
	for _, name := range Order {
		p := "/proc/" + strconv.Itoa(pid) + "/ns/" + name
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat("/proc/" + strconv.Itoa(pid)); serr != nil {
				return nss, fmt.Errorf("namespaces of pid %d: %w", pid, serr)
			}
			continue
		}
		if err != nil {
			return nss, fmt.Errorf("namespaces of pid %d: %w", pid, err)
		}
		same, err := sameAsOwn(f, name)
		if err != nil || same {
			f.Close()
			if err != nil {
				return nss, err
			}
			continue
		}
		nss = append(nss, Namespace{Name: name, File: f})
	}
	return nss, nil
}

// sameAsOwn reports whether f is this process's own namespace of the type.
func sameAsOwn(f *os.File, name string) (bool, error) {
	theirs, err := f.Stat()
	if err != nil {
		return false, err
	}
	return namespaces.IsOwn(theirs, name)
}

// Close closes the namespace files.
func Close(nss []Namespace) {
	for _, ns := range nss {
		ns.File.Close()
	}
}

// Cmd is a process to start in the namespaces: the helper, whose child
// there runs the plan sent on the handshake named in Env.
type Cmd struct {
	// Helper is minimal-docker-helper's path; empty, the one beside this
	// binary (sealed.Helper).
	Helper string
	// Args are the helper's arguments, Args[0] its name (what ps shows
	// until the plan's exec).
	Args []string
	// Env is its environment: handshake.EnvPlanFD names the handshake's
	// end among Files (besides EnvJoin and EnvPipe, which the constructor
	// reads and removes).
	Env []string
	// Files are inherited as descriptors 3, 4, ...; Env names them.
	Files []*os.File
	// Stdio of the process.
	Stdin, Stdout, Stderr *os.File
	// Namespaces are joined in this order (see Open).
	Namespaces []Namespace
	// Init starts a container's init in a user namespace joined by path
	// (Namespaces[0], "user"): after the joins the constructor becomes
	// that namespace's root (uid and gid 0) and makes the namespaces of
	// Unshare (CLONE_NEWNS, NEWUTS, NEWIPC, NEWNET, NEWPID: a new pid
	// namespace is the forked child's, whose pid 1 it is), which that
	// user namespace then owns, as a clone with CLONE_NEWUSER would make
	// them.
	Init    bool
	Unshare uintptr
}

// Start starts minimal-docker-helper (c.Helper, or the one beside this
// binary) in the namespaces, in a new session, and returns the pid (in
// this process's pid namespace) of the process that runs the plan there,
// re-parented to this process (see the package doc); on failure nothing
// is left running.
func Start(c *Cmd) (int, error) {
	if !slices.ContainsFunc(c.Env, func(e string) bool { return strings.HasPrefix(e, handshake.EnvPlanFD+"=") }) {
		return 0, errors.New("nsenter: no plan to run (" + handshake.EnvPlanFD + " unset)")
	}
	restore, err := subreaper()
	if err != nil {
		return 0, err
	}
	defer restore()
	r, w, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("nsenter: %w", err)
	}
	defer r.Close()
	// Closed right after the start below too (the report's end is when
	// the child's copies close); this one is for the failures before it.
	defer w.Close()
	// Only the ExtraFiles reach the joined process (see container's
	// startChild).
	if err := proc.CloseExecFrom(3); err != nil {
		return 0, err
	}
	// Executed from a read-only handle on the helper (package sealed), so
	// that the joined process can't be used to overwrite it.
	minFD := 3 + len(c.Files) + 2 + len(c.Namespaces) + 16
	var exe *os.File
	path := c.Helper
	if path == "" {
		exe, path, _, err = sealed.Helper(minFD)
	} else {
		exe, _, err = sealed.Open(path, minFD)
	}
	if err != nil {
		return 0, fmt.Errorf("nsenter: %w", err)
	}
	defer exe.Close()
	files := append(slices.Clone(c.Files), w)
	pipeFd := 2 + len(files)
	join := make([]string, 0, len(c.Namespaces))
	for _, ns := range c.Namespaces {
		files = append(files, ns.File)
		join = append(join, ns.Name+":"+strconv.Itoa(2+len(files)))
	}
	cmd := &exec.Cmd{
		Path:        fmt.Sprintf("/proc/self/fd/%d", exe.Fd()),
		Args:        c.Args,
		Env:         append(slices.Clone(c.Env), EnvPipe+"="+strconv.Itoa(pipeFd), EnvJoin+"="+strings.Join(join, ",")),
		Stdin:       c.Stdin,
		Stdout:      c.Stdout,
		Stderr:      c.Stderr,
		ExtraFiles:  files,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if c.Init {
		cmd.Env = append(cmd.Env, EnvUnshare+"="+strconv.FormatUint(uint64(c.Unshare), 10))
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return 0, fmt.Errorf("nsenter: execute %s: %w", path, err)
	}
	report, readErr := io.ReadAll(io.LimitReader(r, 4096))
	waitErr := cmd.Wait()
	pid, err := parseReport(string(report))
	if err == nil && readErr != nil {
		err = readErr
	}
	if err == nil && waitErr != nil {
		err = fmt.Errorf("nsenter: %w", waitErr)
	}
	if err != nil {
		if pid > 0 {
			Kill(pid)
		}
		if waitErr != nil && len(report) == 0 {
			err = fmt.Errorf("nsenter: joining the namespaces failed (%v) without a report", waitErr)
		}
		return 0, err
	}
	return pid, nil
}

// subreaper makes this process a child subreaper; restore gives it back
// the setting it had.
func subreaper() (restore func(), err error) {
	var was int32
	if err := unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&was)), 0, 0, 0); err != nil {
		return nil, os.NewSyscallError("prctl(PR_GET_CHILD_SUBREAPER)", err)
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, os.NewSyscallError("prctl(PR_SET_CHILD_SUBREAPER)", err)
	}
	return func() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, uintptr(was), 0, 0, 0) }, nil
}

// parseReport reads the constructor's report: "PID\n", and "error:
// MSG\n" from either process on failure, in either order. With an error
// the pid is still returned when it was reported (the child to kill).
func parseReport(s string) (pid int, err error) {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) > 2 {
		return 0, fmt.Errorf("nsenter: bad report %q from the constructor", s)
	}
	for _, l := range lines {
		if msg, ok := strings.CutPrefix(l, "error: "); ok {
			if strings.HasPrefix(msg, "fork: ") && strings.HasSuffix(strings.ToLower(msg), unix.ENOMEM.Error()) {
				// What fork says in a pid namespace whose init has exited.
				msg += " (is the target's pid namespace without its init, exiting?)"
			}
			if err == nil {
				err = fmt.Errorf("nsenter: %s", msg)
			}
			continue
		}
		n, aerr := strconv.Atoi(l)
		if aerr != nil || n <= 0 || pid != 0 {
			return 0, fmt.Errorf("nsenter: bad report %q from the constructor", s)
		}
		pid = n
	}
	if pid == 0 && err == nil {
		err = fmt.Errorf("nsenter: bad report %q from the constructor", s)
	}
	return pid, err
}

// Kill SIGKILLs a process that Start returned and reaps it (the caller is
// its subreaper, hence its parent).
func Kill(pid int) {
	_ = unix.Kill(pid, unix.SIGKILL)
	_, _ = Wait(pid)
}

// Wait waits for a process that Start returned (re-parented to the
// caller) and returns its wait status.
func Wait(pid int) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err != unix.EINTR {
			if err != nil {
				return ws, os.NewSyscallError("wait4", err)
			}
			return ws, nil
		}
	}
}
