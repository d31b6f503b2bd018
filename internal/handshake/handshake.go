// Package handshake is the typed protocol between the parent (the launcher)
// and the child (the container's init), over a socketpair whose child end is
// inherited as an fd named in the environment variable EnvFD.
//
//	parent (launcher)                             child (init)
//	-----------------                             ------------
//	clone(new namespaces; a pid ------------------> starts, locks its thread
//	namespace given by path: forked from
//	a thread that joined it)
//	SendConfig(spec, settings) -------------------> WaitConfig (the parts of
//	                                                 the spec it reads)
//	create cgroup (limits but pids), move child
//	in
//	SendGo ---------------------------------------> WaitGo
//	(a foreground run's network:                     parent-death signal
//	CNI ADD, beside the child's setup)               (KillWithParent),
//	                                                 joins namespaces by path,
//	                                                 runs the setup steps up
//	                                                 to pivot_root (mounts)
//	(prestart/createRuntime hooks only:)
//	WaitHooks <------------------------------------- SendHooks
//	runs those hooks (runtime's namespaces)
//	SendResume -----------------------------------> WaitResume
//	                                                 createContainer hooks,
//	                                                 pivot_root, the rest
//	(process.terminal only:)                         after pivot_root, a new pty
//	                                                 from the container's /dev/ptmx
//	WaitConsole <----------------------------------- SendConsole(pty master)
//	(to --console-socket, or kept to relay)
//	WaitReady <------------------------------------- SendReady | SendError
//	(the network's ADD ended)
//	write the pids limit (cgroups.SplitAtReady)
//	(create: return; start: later)
//	SendStart ------------------------------------> WaitStart
//	                                                 execve(command)
//	WaitExec  <--------- EOF (the fd is close-on-exec) | SendError
//	(poststart hooks)
//
// For create and start the child, once ready, closes its end instead and
// waits on the exec fifo (Settings.ExecFifo): start opens it, the child
// writes "0" (or "1" and a startContainer hook's error), and keeps its
// close-on-exec end open until execve, so start reads the fifo's end only
// once the command runs, and runs the poststart hooks after that (package
// initproc's startMsg).
//
// A process exec'd into a running container (package nsenter) speaks the
// same protocol without Ready and Start: Config, Go, Console when its
// process.terminal is set, then EOF at execve.
//
// The child is either the plan's interpreter (the C init in the helper's
// constructor, started with EnvPlanFD; package plan) or, until it is
// removed, the Go init (EnvFD; MINIMAL_DOCKER_INIT=go). With the
// interpreter the parent sends the plan (SendPlan) as the Config frame's
// body, the wait points are ops of the plan (plan.OpWaitGo, OpHooks,
// OpReady, OpWaitStart, OpFifoWait), and the child's Ready and Error
// bodies are binary (package plan's doc): an Error names an op by its
// index, which the parent turns into "init STEP: WHAT PATH: strerror"
// from the op it kept. A plan with plan.FlagExplain makes the child send
// a Report after each op; every Wait hands those to OnReport.
//
// Each message is one frame: a 4-byte big-endian length, one kind byte, and
// a body: JSON, or a binary one of package plan's. Any step may instead answer with an Error, which carries the
// step's name, the path involved and, when the command could not be run,
// why (its Cause, from which the runtime tells the exit status: package
// exitcode); the child then exits. The Console frame alone carries a descriptor, the pty
// master, as SCM_RIGHTS with its bytes; every frame is read with recvmsg so
// that the descriptor is kept (a plain read would drop it).
package handshake

import (
	"encoding/binary"
	"encoding/json"
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

// EnvFD names the environment variable holding the child's fd number.
const EnvFD = "_MINIMAL_DOCKER_INIT_FD"

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

// Config is what the child needs to set itself up: the spec and the
// parent's Settings. The child sees only part of the spec (childSpec): add
// a field there when the init starts reading it.
type Config struct {
	Spec *specs.Spec `json:"spec"`
	Settings
}

// Settings are Config's fields besides the spec.
type Settings struct {
	LogLevel string `json:"logLevel,omitempty"`
	// CgroupMode is the cgroup layout in force ("v1", "hybrid", "v2"): the
	// child mounts the matching cgroup tree.
	CgroupMode string `json:"cgroupMode,omitempty"`
	// CgroupV1 lists the v1 hierarchies to mount inside (mount point name ->
	// controller options), empty on v2.
	CgroupV1 map[string]string `json:"cgroupV1,omitempty"`
	// ExecFifo, when set, is a fifo on the host: the ready child opens it
	// for writing, which blocks until start opens it for reading, and then
	// execs (create/start). Without it the child waits for SendStart (run).
	ExecFifo string `json:"execFifo,omitempty"`
	// Seccomp is linux.seccomp compiled by the parent (package seccomp):
	// the child installs it right before execve, without libseccomp
	// (package bpf). Nil when the spec has none.
	Seccomp *bpf.Filter `json:"seccomp,omitempty"`
	// PreserveFDs is how many descriptors from 3 up the child passes on to
	// the container's process (--preserve-fds); EnvFD names the one after.
	PreserveFDs int `json:"preserveFds,omitempty"`
	// State is the container's state for the hooks the child runs
	// (createContainer, startContainer); the child sets its pid and status.
	State *specs.State `json:"state,omitempty"`
	// TinyInit: the child stays on as PID 1, a tiny init that forwards
	// signals to the process and reaps orphans (spec.WantsInit).
	TinyInit bool `json:"tinyInit,omitempty"`
	// KillWithParent: the child has itself SIGKILLed when the parent dies
	// (a foreground run; prctl PR_SET_PDEATHSIG, kept across its execve).
	// Not Go's SysProcAttr.Pdeathsig: that kills at once a child that
	// cannot see its parent and is not its pid namespace's init (one
	// started in a joined pid namespace, where getppid is 0). Until the
	// child has set it, the parent's death shows as the socket's end.
	KillWithParent bool `json:"killWithParent,omitempty"`
	// RootOverlay, when set, is the container's root: an overlay the child
	// mounts on root.path (an empty directory) in its own mount namespace,
	// in place of binding root.path onto itself (an image's container).
	// The mount goes with the namespace: nothing is left on the host.
	RootOverlay *Overlay `json:"rootOverlay,omitempty"`
	// PidsMax, when set, is the container's pids.max file on the host and
	// PidsLimit the limit to write there: the child opens the file before
	// anything else changes its view, and writes the limit right before
	// execve (unless an update has set one since create), so that a small
	// limit counts against the user's program and never against the
	// child's own runtime, which may start threads up to then.
	PidsMax   string `json:"pidsMax,omitempty"`
	PidsLimit int64  `json:"pidsLimit,omitempty"`
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
}

// childSpec is the part of the spec the child reads, and what WaitConfig
// decodes the spec into. Not specs.Spec: the first time encoding/json
// decodes a type it builds its codecs for every type reachable from it —
// Windows, Solaris, VM, all of linux.resources — which costs the child
// milliseconds at start-up, on every container's critical path.
// linux.seccomp comes compiled (Settings.Seccomp); linux.resources is the
// parent's.
type childSpec struct {
	Version     string            `json:"ociVersion"`
	Process     *specs.Process    `json:"process,omitempty"`
	Root        *specs.Root       `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Mounts      []specs.Mount     `json:"mounts,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *childLinux       `json:"linux,omitempty"`
}

// childLinux is the part of linux the child reads.
type childLinux struct {
	Namespaces        []specs.LinuxNamespace `json:"namespaces,omitempty"`
	Devices           []specs.LinuxDevice    `json:"devices,omitempty"`
	Sysctl            map[string]string      `json:"sysctl,omitempty"`
	RootfsPropagation string                 `json:"rootfsPropagation,omitempty"`
	MaskedPaths       []string               `json:"maskedPaths,omitempty"`
	ReadonlyPaths     []string               `json:"readonlyPaths,omitempty"`
	// Seccomp only says whether linux.seccomp is set: its filter comes
	// compiled (Settings.Seccomp), and a child told to expect one that
	// did not come fails rather than run unfiltered.
	Seccomp *struct{} `json:"seccomp,omitempty"`
}

// spec is the child's view as a specs.Spec.
func (c *childSpec) spec() *specs.Spec {
	s := &specs.Spec{
		Version: c.Version, Process: c.Process, Root: c.Root,
		Hostname: c.Hostname, Domainname: c.Domainname,
		Mounts: c.Mounts, Hooks: c.Hooks, Annotations: c.Annotations,
	}
	if l := c.Linux; l != nil {
		s.Linux = &specs.Linux{
			Namespaces: l.Namespaces, Devices: l.Devices, Sysctl: l.Sysctl,
			RootfsPropagation: l.RootfsPropagation,
			MaskedPaths:       l.MaskedPaths, ReadonlyPaths: l.ReadonlyPaths,
		}
		if l.Seccomp != nil {
			s.Linux.Seccomp = &specs.LinuxSeccomp{} // its rules: Settings.Seccomp
		}
	}
	return s
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

// Ready carries the child's step timings (for --log-level debug).
type Ready struct {
	Steps []StepTime `json:"steps,omitempty"`
	// Ops, from the plan's interpreter, are the times of each op done
	// (Steps then sums them by step).
	Ops []OpTime `json:"-"`
}

// StepTime is one setup step and how long it took, in microseconds.
type StepTime struct {
	Name   string `json:"name"`
	Micros int64  `json:"us"`
}

// Console names the pty master that comes with the console message: its
// path in the container (runc's name for it, "/dev/ptmx").
type Console struct {
	Name string `json:"name"`
}

// Conn is one end of the socketpair.
type Conn struct {
	f *os.File
	// fds are descriptors received with frames (SCM_RIGHTS) and not yet
	// taken by WaitConsole; Close closes them.
	fds []int
	// plan is the plan SendPlan sent (nil: the peer is the Go init, which
	// speaks JSON), planBytes its size; onReport gets the child's reports.
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

// FromEnv opens the child's end named by EnvFD and marks it close-on-exec
// so that a successful execve closes it (which the parent reads as EOF).
func FromEnv() (*Conn, error) {
	v := os.Getenv(EnvFD)
	var fd int
	if _, err := fmt.Sscanf(v, "%d", &fd); err != nil || fd < 3 {
		return nil, fmt.Errorf("handshake: %s=%q is not an inherited fd", EnvFD, v)
	}
	unix.CloseOnExec(fd)
	os.Unsetenv(EnvFD)
	return &Conn{f: os.NewFile(uintptr(fd), "handshake")}, nil
}

// Close closes this end, and any received descriptor not taken.
func (c *Conn) Close() error {
	for _, fd := range c.fds {
		unix.Close(fd)
	}
	c.fds = nil
	return c.f.Close()
}

// Fd is the raw descriptor (for the child to keep it out of the container).
func (c *Conn) Fd() int { return int(c.f.Fd()) }

func frame(k Kind, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("handshake send %s: %w", k, err)
	}
	return rawFrame(k, b)
}

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

func (c *Conn) send(k Kind, body any) error {
	f, err := frame(k, body)
	if err != nil {
		return err
	}
	if _, err := c.f.Write(f); err != nil {
		return fmt.Errorf("handshake send %s: %w", k, err)
	}
	return nil
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

// peerError decodes an Error frame's body: binary from the plan's
// interpreter (decodeError), JSON from the Go init.
func (c *Conn) peerError(body []byte) error {
	if c.plan != nil {
		return c.decodeError(body)
	}
	e := &Error{}
	if err := json.Unmarshal(body, e); err != nil {
		return fmt.Errorf("handshake: bad error message: %w", err)
	}
	return e
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

// wait reads the next frame and requires kind want; an Error frame from the
// peer is returned as *Error.
func (c *Conn) wait(want Kind, into any) error {
	body, err := c.waitBody(want)
	if err != nil || into == nil {
		return err
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("handshake: bad %s message: %w", want, err)
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
		return nil, c.peerError(body)
	}
	if k != want {
		return nil, fmt.Errorf("handshake: got %s, want %s", k, want)
	}
	return body, nil
}

// SendConfig sends the child its configuration (parent).
func (c *Conn) SendConfig(cfg *Config) error { return c.send(KindConfig, cfg) }

// WaitConfig waits for the configuration (child).
// Its spec holds only what the child reads (childSpec).
func (c *Conn) WaitConfig() (*Config, error) {
	var w struct {
		Spec *childSpec `json:"spec"`
		Settings
	}
	if err := c.wait(KindConfig, &w); err != nil {
		return nil, err
	}
	if w.Spec == nil {
		return nil, errors.New("handshake: config without a spec")
	}
	return &Config{Spec: w.Spec.spec(), Settings: w.Settings}, nil
}

// SendGo tells the child that its cgroup (and network) are in place (parent).
func (c *Conn) SendGo() error { return c.send(KindGo, struct{}{}) }

// WaitGo waits for the go-ahead (child).
func (c *Conn) WaitGo() error { return c.wait(KindGo, nil) }

// SendHooks tells the parent that the child waits before pivot_root for
// the runtime's prestart and createRuntime hooks (child).
func (c *Conn) SendHooks() error { return c.send(KindHooks, struct{}{}) }

// WaitHooks waits until the child is ready for the runtime's hooks; a
// failed step before comes back as *Error (parent).
func (c *Conn) WaitHooks() error { return c.wait(KindHooks, nil) }

// SendResume lets the child go on once the runtime's hooks ran (parent).
func (c *Conn) SendResume() error { return c.send(KindResume, struct{}{}) }

// WaitResume waits until the runtime's hooks ran (child).
func (c *Conn) WaitResume() error { return c.wait(KindResume, nil) }

// SendReady reports that every setup step succeeded (child).
func (c *Conn) SendReady(r *Ready) error { return c.send(KindReady, r) }

// WaitReady waits for the child's setup; a failed step comes back as *Error
// (parent).
func (c *Conn) WaitReady() (*Ready, error) {
	if c.plan != nil {
		body, err := c.waitBody(KindReady)
		if err != nil {
			return nil, err
		}
		return c.decodeReady(body)
	}
	r := &Ready{}
	if err := c.wait(KindReady, r); err != nil {
		return nil, err
	}
	return r, nil
}

// SendStart lets the child exec the user's program (parent).
func (c *Conn) SendStart() error { return c.send(KindStart, struct{}{}) }

// WaitStart waits for the start message (child).
func (c *Conn) WaitStart() error { return c.wait(KindStart, nil) }

// SendConsole sends the pty master, named by name, to the parent (child):
// the console frame with the descriptor as SCM_RIGHTS. The caller closes
// master afterwards; the parent has its own.
func (c *Conn) SendConsole(master *os.File, name string) error {
	f, err := frame(KindConsole, &Console{Name: name})
	if err != nil {
		return err
	}
	rc, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	var n int
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		n, serr = unix.SendmsgN(int(fd), f, unix.UnixRights(int(master.Fd())), nil, 0)
		return serr != unix.EAGAIN
	})
	if err == nil && serr != nil {
		err = os.NewSyscallError("sendmsg", serr)
	}
	if err == nil && n < len(f) {
		// The descriptor went with the first bytes; the rest follow.
		_, err = c.f.Write(f[n:])
	}
	if err != nil {
		return fmt.Errorf("handshake send %s: %w", KindConsole, err)
	}
	return nil
}

// WaitConsole waits for the pty master (parent). A failed step before it
// comes back as *Error. The caller closes the file.
func (c *Conn) WaitConsole() (*os.File, error) {
	body, err := c.waitBody(KindConsole)
	if err != nil {
		return nil, err
	}
	// The plan's interpreter names the pty's slave ({"name":
	// "/dev/pts/N"}); the master is the container's /dev/ptmx, as the Go
	// init names it (runc's name, which console sockets get).
	m := &Console{Name: "/dev/ptmx"}
	if c.plan == nil {
		if err := json.Unmarshal(body, m); err != nil {
			return nil, fmt.Errorf("handshake: bad %s message: %w", KindConsole, err)
		}
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
	return os.NewFile(uintptr(fd), m.Name), nil
}

// SendError reports a failed step (child).
func (c *Conn) SendError(e *Error) error { return c.send(KindError, e) }

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
	return c.peerError(body)
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
		return c.peerError(body)
	}
	return fmt.Errorf("handshake: got %s, want the close", k)
}
