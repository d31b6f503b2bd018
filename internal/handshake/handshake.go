// Package handshake is the typed protocol between the parent (the launcher)
// and the child (the container's init: the plan's interpreter, in C, in
// minimal-docker-helper's constructor; package plan), over a socketpair
// whose child end is inherited as an fd named in the environment variable
// EnvPlanFD. The parent compiles the spec and its Settings (Config) into
// a plan (initproc.Build) and sends it as the Config frame's body; the
// child's wait points are ops of the plan (plan.OpWaitGo, OpHooks,
// OpReady, OpWaitStart, OpFifoWait).
//
//	parent (launcher)                             child (plan interpreter)
//	-----------------                             ------------------------
//	clone(new namespaces; a pid ------------------> starts; its constructor
//	namespace given by path: forked from           reads the plan, checks
//	a thread that joined it)                        every length and op
//	SendPlan(plan) -------------------------------> (Config frame)
//	create cgroup (limits but pids), move child
//	in
//	SendGo ---------------------------------------> OpWaitGo
//	(a foreground run's network:                     parent-death signal,
//	CNI ADD, beside the child's setup)               joins namespaces by path,
//	                                                 the ops up to pivot_root
//	                                                 (mounts)
//	(prestart/createRuntime hooks only:)
//	WaitHooks <------------------------------------- Hooks (OpHooks)
//	runs those hooks (runtime's namespaces)
//	SendResume -----------------------------------> (OpHooks goes on)
//	                                                 createContainer hooks,
//	                                                 pivot_root, the rest
//	(process.terminal only:)                         after pivot_root, a new pty
//	                                                 from the container's /dev/ptmx
//	WaitConsole <----------------------------------- Console (OpConsole: the pty
//	(to --console-socket, or kept to relay)          master as SCM_RIGHTS)
//	WaitReady <------------------------------------- Ready (OpReady) | Error
//	(the network's ADD ended)
//	write the pids limit (cgroups.SplitAtReady)
//	(create: return; start: later)
//	SendStart ------------------------------------> OpWaitStart
//	                                                 the final ops, execve
//	WaitExec  <--------- EOF (the fd is close-on-exec) | Error
//	(poststart hooks)
//
//	with plan.FlagExplain, before any of the child's frames:
//	OnReport's callback <--------------------------- Report, after each op
//
// For create and start the child, once ready, closes its end instead
// (WaitClosed) and waits on the exec fifo (Settings.ExecFifo, OpFifoWait):
// start opens it, the child writes "0" (or "1" and a startContainer
// hook's error), and keeps its close-on-exec end open until execve, so
// start reads the fifo's end only once the command runs, and runs the
// poststart hooks after that.
//
// A process exec'd into a running container (package nsenter) speaks the
// same protocol without Ready and Start: the plan (initproc.BuildExec),
// Go, Console when its process.terminal is set, then EOF at execve.
//
// Each message is one frame: a 4-byte big-endian length, one kind byte, and
// a body. The parent's Go, Resume and Start have none; the Config's is the
// plan (package plan's wire format); the child's Ready (each op's time),
// Report (op index, time, errno) and Error bodies are binary, as package
// plan's doc describes. Any op may fail instead: the Error names the op by
// its index, with an errno, a cause (the command not found or not
// executable, from which the runtime tells the exit status: package
// exitcode) and a detail; the parent turns it into an *Error, "init STEP:
// WHAT PATH: strerror[: detail]", from the op it kept. The child then
// exits. The Console frame alone carries a descriptor, the pty master, as
// SCM_RIGHTS with its bytes; every frame is read with recvmsg so that the
// descriptor is kept (a plain read would drop it).
package handshake

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/plan"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/seccomp/bpf"
)

// Kind is a message type.
type Kind byte

// The messages, in protocol order.
const (
	KindConfig Kind = iota + 1
	KindGo
	KindReady
	KindStart
	KindError
	// KindConsole comes between Go and Ready (Go and exec for exec), only
	// when process.terminal is set: the pty master, with its descriptor.
	KindConsole
	// KindHooks (child) and KindResume (parent) come between Go and Ready,
	// only when the spec has prestart or createRuntime hooks: the child
	// waits before pivot_root while the parent runs them.
	KindHooks
	KindResume
)

func (k Kind) String() string {
	switch k {
	case KindConfig:
		return "config"
	case KindGo:
		return "go"
	case KindReady:
		return "ready"
	case KindStart:
		return "start"
	case KindError:
		return "error"
	case KindConsole:
		return "console"
	case KindHooks:
		return "hooks"
	case KindResume:
		return "resume"
	case KindReport:
		return "report"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// MaxFrame bounds a message, its kind byte and body; a spec is a few
// kilobytes. A larger one is refused by the sender, naming the limit.
const MaxFrame = 16 << 20

// ErrClosed is the error of a Wait whose peer closed the connection before
// a message started: the peer exited (or, at exec, exec'd).
var ErrClosed = errors.New("peer closed the connection")

// Broken reports whether err says that the peer is gone: it closed the
// connection (ErrClosed, a short frame) or the kernel reset it or broke
// the pipe (the peer died with data unread). A typed *Error from the
// peer is not.
func Broken(err error) bool {
	return errors.Is(err, ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE)
}

// Config is what the child's setup is compiled from (initproc.Build): the
// spec and the parent's Settings. The child gets the plan, not Config.
type Config struct {
	Spec *specs.Spec
	Settings
}

// Settings are Config's fields besides the spec: what the parent
// decided, which the plan carries out.
type Settings struct {
	// CgroupMode is the cgroup layout in force ("v1", "hybrid", "v2"): the
	// child mounts the matching cgroup tree.
	CgroupMode string
	// CgroupV1 lists the v1 hierarchies to mount inside (mount point name ->
	// controller options), empty on v2.
	CgroupV1 map[string]string
	// CgroupBinds, when not nil, are the container's cgroup directories on
	// the host that the child binds in place of the cgroup mounts, which
	// the kernel refuses in a user namespace without a cgroup namespace
	// that it owns: mount point name (CgroupV1's; "" for cgroup2) ->
	// directory.
	CgroupBinds map[string]string
	// ExecFifo, when set, is a fifo on the host: the ready child opens it
	// for writing, which blocks until start opens it for reading, and then
	// execs (create/start). Without it the child waits for SendStart (run).
	ExecFifo string
	// ExecFifoDirFD, when not 0, is a descriptor the child inherits of the
	// exec fifo's directory (O_PATH), through which it opens the fifo: in
	// a user namespace of its own the child's root may not search the
	// host's directories on the way to it (runc passes the fifo itself).
	ExecFifoDirFD int
	// RootTree: the root is a mount the parent made, the first tree of
	// the Go frame (SendGoWith): root.path bound idmapped, or the image's
	// overlay on idmapped layers; the init moves it onto root.path in
	// place of its own bind or overlay.
	RootTree bool
	// MountTrees are the indices in the spec's mounts of the binds the
	// parent made idmapped (rootfs.IDMap), whose trees follow the root's
	// in the Go frame, in this order.
	MountTrees []int
	// Seccomp is linux.seccomp compiled by the parent (package seccomp):
	// the child installs it right before execve, without libseccomp
	// (package bpf). Nil when the spec has none.
	Seccomp *bpf.Filter
	// PreserveFDs is how many descriptors from 3 up the child passes on to
	// the container's process (--preserve-fds); the handshake's end is the one after
	// (EnvPlanFD).
	PreserveFDs int
	// State is the container's state for the hooks the child runs
	// (createContainer, startContainer); the child sets its pid and status.
	State *specs.State
	// NoSetgroups: the process's user namespace refuses setgroups (one
	// joined by path whose setgroups file says deny, or exec into a
	// container in one): its groups stay as they are (the spec asks for
	// no additional ones).
	NoSetgroups bool
	// TinyInit: the child stays on as PID 1, a tiny init that forwards
	// signals to the process and reaps orphans (spec.WantsInit).
	TinyInit bool
	// KillWithParent: the child has itself SIGKILLed when the parent dies
	// (a foreground run; prctl PR_SET_PDEATHSIG, kept across its execve).
	// Not Go's SysProcAttr.Pdeathsig: that kills at once a child that
	// cannot see its parent and is not its pid namespace's init (one
	// started in a joined pid namespace, where getppid is 0). Until the
	// child has set it, the parent's death shows as the socket's end.
	KillWithParent bool
	// RootOverlay, when set, is the container's root: an overlay the child
	// mounts on root.path (an empty directory) in its own mount namespace,
	// in place of binding root.path onto itself (an image's container).
	// The mount goes with the namespace: nothing is left on the host.
	RootOverlay *Overlay
	// PidsMax, when set, is the container's pids.max file on the host and
	// PidsLimit the limit to write there: the child opens the file before
	// anything else changes its view, and writes the limit right before
	// execve (unless an update has set one since create), so that a small
	// limit counts against the user's program and never against the
	// child's own setup (its hooks' processes).
	PidsMax   string
	PidsLimit int64
}

// Overlay is an overlayfs mount: read-only lower directories, top first,
// and the writable upper directory with its work directory (on the same
// filesystem as upper). Volatile asks for overlay's "volatile" option:
// no sync of the upper directory, for a container whose writes are
// removed with it (as Podman's --rm and CRI-O's containers).
type Overlay struct {
	Lower    []string `json:"lower"`
	Upper    string   `json:"upper"`
	Work     string   `json:"work"`
	Volatile bool     `json:"volatile,omitempty"`
	// MountProgram, when set, is the program that serves the overlay
	// (fuse-overlayfs, Podman's mount_program): the parent mounts it
	// and sends it as the root's tree (Settings.RootTree) in place of
	// the kernel's overlay, which the child does not mount then.
	MountProgram string `json:"mount_program,omitempty"`
}

// Error is a failure of one named step of the child. It is the error type
// returned by the parent's Wait functions when the child reported one.
type Error struct {
	Step string `json:"step"`
	Path string `json:"path,omitempty"`
	Msg  string `json:"msg"`
	// Cause says that the command could not be run: it was not found
	// or is not executable. Empty for any other failure (the runtime's).
	Cause Cause `json:"cause,omitempty"`
}

// Cause is why the child could not run the command.
type Cause string

// The causes, each with the error of package rootfs it stands for.
const (
	CauseNotFound      Cause = "not-found"      // rootfs.ErrNotFound
	CauseNotExecutable Cause = "not-executable" // rootfs.ErrNotExecutable
)

func (e *Error) Error() string {
	return "init " + e.Step + ": " + e.Msg
}

// Unwrap returns the error of package rootfs that e's cause stands for
// (nil for none), so that errors.Is tells a command that was not found or
// not executable on either side of the handshake (package exitcode).
func (e *Error) Unwrap() error {
	switch e.Cause {
	case CauseNotFound:
		return rootfs.ErrNotFound
	case CauseNotExecutable:
		return rootfs.ErrNotExecutable
	}
	return nil
}

// CauseOf is the cause of err: CauseNotFound or CauseNotExecutable when it
// wraps rootfs.ErrNotFound or rootfs.ErrNotExecutable, empty otherwise.
func CauseOf(err error) Cause {
	switch {
	case errors.Is(err, rootfs.ErrNotFound):
		return CauseNotFound
	case errors.Is(err, rootfs.ErrNotExecutable):
		return CauseNotExecutable
	}
	return ""
}

// StepError is err as the failure of the child's step named step: err
// itself when it is an *Error already; otherwise its message, the path of
// an *os.PathError in it, and its cause (CauseOf).
func StepError(step string, err error) *Error {
	var he *Error
	if errors.As(err, &he) {
		return he
	}
	e := &Error{Step: step, Msg: err.Error(), Cause: CauseOf(err)}
	var pe *os.PathError
	if errors.As(err, &pe) {
		e.Path = pe.Path
	}
	return e
}

// Ready carries the child's timings (for --log-level debug): each op's,
// and the sum of the ops of each step.
type Ready struct {
	Steps []StepTime
	Ops   []OpTime
}

// StepTime is one setup step and how long it took, in microseconds.
type StepTime struct {
	Name   string
	Micros int64
}

// Conn is one end of the socketpair.
type Conn struct {
	f *os.File
	// fds are descriptors received with frames (SCM_RIGHTS) and not yet
	// taken by WaitConsole; Close closes them.
	fds []int
	// plan is the plan SendPlan sent (nil before), planBytes its size;
	// onReport gets the child's reports.
	plan      *plan.Plan
	planBytes int
	onReport  func(op *plan.Op, d time.Duration, errno int)
}

// Pair makes the socketpair: the parent's end and the child's end. Both are
// close-on-exec; the child's end is passed to the child as an ExtraFile.
func Pair() (parent *Conn, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	return &Conn{f: os.NewFile(uintptr(fds[0]), "handshake-parent")},
		os.NewFile(uintptr(fds[1]), "handshake-child"), nil
}

// Close closes this end, and any received descriptor not taken.
func (c *Conn) Close() error {
	for _, fd := range c.fds {
		unix.Close(fd)
	}
	c.fds = nil
	return c.f.Close()
}

// Fd is the raw descriptor.
func (c *Conn) Fd() int { return int(c.f.Fd()) }

// rawFrame frames the body b as it is.
func rawFrame(k Kind, b []byte) ([]byte, error) {
	if len(b)+1 > MaxFrame {
		return nil, fmt.Errorf("handshake send %s: the message is %d bytes, over the limit of %d MiB (%d bytes) of a handshake message",
			k, len(b)+1, MaxFrame>>20, MaxFrame)
	}
	f := make([]byte, 5+len(b))
	binary.BigEndian.PutUint32(f, uint32(len(b)+1))
	f[4] = byte(k)
	copy(f[5:], b)
	return f, nil
}

// sendRaw sends a frame whose body is b as it is.
func (c *Conn) sendRaw(k Kind, b []byte) error {
	f, err := rawFrame(k, b)
	if err != nil {
		return err
	}
	if _, err := c.f.Write(f); err != nil {
		return fmt.Errorf("handshake send %s: %w", k, err)
	}
	return nil
}

// next reads the next frame that is not a Report, handing the Reports
// before it to the OnReport callback. io.EOF as recv's.
func (c *Conn) next() (Kind, []byte, error) {
	for {
		k, body, err := c.recv()
		if err != nil || k != KindReport {
			return k, body, err
		}
		if err := c.report(body); err != nil {
			return 0, nil, err
		}
	}
}

// recv reads one frame. io.EOF is returned as is when the peer closed
// cleanly before a frame started.
func (c *Conn) recv() (Kind, []byte, error) {
	var hdr [4]byte
	if err := c.readFull(hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > MaxFrame {
		return 0, nil, fmt.Errorf("handshake: bad frame length %d", n)
	}
	buf := make([]byte, n)
	if err := c.readFull(buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, fmt.Errorf("handshake: short frame: %w", err)
	}
	return Kind(buf[0]), buf[1:], nil
}

// maxRecvFDs bounds the descriptors one read takes; more are closed by the
// kernel (the protocol sends one).
const maxRecvFDs = 4

// readFull fills b with recvmsg, keeping the descriptors that come with the
// bytes (close-on-exec) in c.fds. io.EOF when the peer closed before b
// started, io.ErrUnexpectedEOF when it closed in the middle.
func (c *Conn) readFull(b []byte) error {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	oob := make([]byte, unix.CmsgSpace(4*maxRecvFDs))
	for got := 0; got < len(b); {
		var n, oobn int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, oobn, _, _, rerr = unix.Recvmsg(int(fd), b[got:], oob, unix.MSG_CMSG_CLOEXEC)
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = c.keepFDs(oob[:oobn])
		}
		switch {
		case err != nil:
			return err
		case rerr == unix.EINTR:
			continue
		case rerr != nil:
			return os.NewSyscallError("recvmsg", rerr)
		case n == 0 && got == 0:
			return io.EOF
		case n == 0:
			return io.ErrUnexpectedEOF
		}
		got += n
	}
	return nil
}

// keepFDs appends the descriptors of SCM_RIGHTS messages in oob to c.fds.
func (c *Conn) keepFDs(oob []byte) error {
	if len(oob) == 0 {
		return nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return fmt.Errorf("handshake: control message: %w", err)
	}
	for i := range msgs {
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err == nil {
			c.fds = append(c.fds, fds...)
		}
	}
	return nil
}

// waitBody reads the next frame (Reports aside), requires kind want and
// returns its body; an Error frame from the peer is returned as *Error.
func (c *Conn) waitBody(want Kind) ([]byte, error) {
	k, body, err := c.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("handshake wait %s: %w", want, ErrClosed)
		}
		return nil, fmt.Errorf("handshake wait %s: %w", want, err)
	}
	if k == KindError {
		return nil, c.decodeError(body)
	}
	if k != want {
		return nil, fmt.Errorf("handshake: got %s, want %s", k, want)
	}
	return body, nil
}

// SendGo tells the child that its cgroup (and network) are in place.
func (c *Conn) SendGo() error { return c.sendRaw(KindGo, nil) }

// MaxTrees is the most mount trees a Go frame carries (the init's
// PLAN_MAX_TREES).
const MaxTrees = 64

// SendGoWith is SendGo carrying the mount trees (detached mounts, as
// open_tree or fsmount return them) that the plan's OpMoveTree ops move,
// in order, as one SCM_RIGHTS message.
func (c *Conn) SendGoWith(trees []int) error {
	if len(trees) == 0 {
		return c.SendGo()
	}
	if len(trees) > MaxTrees {
		return fmt.Errorf("handshake send %s: %d mount trees, more than %d", KindGo, len(trees), MaxTrees)
	}
	f, err := rawFrame(KindGo, nil)
	if err != nil {
		return err
	}
	rc, err := c.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("handshake send %s: %w", KindGo, err)
	}
	var serr error
	if err := rc.Write(func(fd uintptr) bool {
		var n int
		n, serr = unix.SendmsgN(int(fd), f, unix.UnixRights(trees...), nil, unix.MSG_NOSIGNAL)
		if serr == nil && n != len(f) {
			serr = io.ErrShortWrite
		}
		return serr != unix.EAGAIN
	}); err != nil {
		return fmt.Errorf("handshake send %s: %w", KindGo, err)
	}
	if serr != nil {
		return fmt.Errorf("handshake send %s with %d mount trees: %w", KindGo, len(trees), serr)
	}
	return nil
}

// WaitHooks waits until the child is ready for the runtime's hooks
// (OpHooks); a failed op before comes back as *Error.
func (c *Conn) WaitHooks() error {
	_, err := c.waitBody(KindHooks)
	return err
}

// SendResume lets the child go on once the runtime's hooks ran.
func (c *Conn) SendResume() error { return c.sendRaw(KindResume, nil) }

// WaitReady waits for the child's setup (OpReady); a failed op comes back
// as *Error.
func (c *Conn) WaitReady() (*Ready, error) {
	body, err := c.waitBody(KindReady)
	if err != nil {
		return nil, err
	}
	return c.decodeReady(body)
}

// SendStart lets the child exec the user's program (OpWaitStart).
func (c *Conn) SendStart() error { return c.sendRaw(KindStart, nil) }

// WaitConsole waits for the pty master (OpConsole). A failed op before it
// comes back as *Error. The caller closes the file, named /dev/ptmx (the
// container's, runc's name for it, which console sockets get; the frame's
// body names the slave, {"name": "/dev/pts/N"}).
func (c *Conn) WaitConsole() (*os.File, error) {
	if _, err := c.waitBody(KindConsole); err != nil {
		return nil, err
	}
	if len(c.fds) != 1 {
		n := len(c.fds)
		for _, fd := range c.fds {
			unix.Close(fd)
		}
		c.fds = nil
		return nil, fmt.Errorf("handshake: console message with %d descriptors, want 1", n)
	}
	fd := c.fds[0]
	c.fds = nil
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

// WaitExec waits until the child has exec'd the user's program: the
// close-on-exec fd gives EOF. A failed exec comes back as *Error (parent).
func (c *Conn) WaitExec() error {
	k, body, err := c.next()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("handshake wait exec: %w", err)
	}
	if k != KindError {
		return fmt.Errorf("handshake: got %s, want EOF at exec", k)
	}
	return c.decodeError(body)
}

// WaitClosed reads until the child closes its end, handing its Reports to
// the OnReport callback (parent): a created container's init, once
// ready, closes it before it waits on the exec fifo. A frame other than
// a Report, or an Error, is an error.
func (c *Conn) WaitClosed() error {
	k, body, err := c.next()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return fmt.Errorf("handshake wait for the close: %w", err)
	case k == KindError:
		return c.decodeError(body)
	}
	return fmt.Errorf("handshake: got %s, want the close", k)
}
