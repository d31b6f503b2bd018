// Package handshake is the typed protocol between the parent (the launcher)
// and the child (the container's init), over a socketpair whose child end is
// inherited as an fd named in the environment variable EnvFD.
//
//	parent (launcher)                             child (init)
//	-----------------                             ------------
//	clone(new namespaces) ------------------------> starts, locks its thread
//	SendConfig(spec, log level) ------------------> WaitConfig
//	create cgroup, move child in, network
//	SendGo ---------------------------------------> WaitGo
//	                                                 runs the setup steps
//	WaitReady <------------------------------------- SendReady | SendError
//	(create: return; start: later)
//	SendStart ------------------------------------> WaitStart
//	                                                 execve(command)
//	WaitExec  <--------- EOF (the fd is close-on-exec) | SendError
//
// Each message is one frame: a 4-byte big-endian length, one kind byte, and
// a JSON body. Any step may instead answer with an Error, which carries the
// step's name, the path involved and the exit code the user should see; the
// child then exits.
package handshake

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// maxFrame bounds a message; a spec is a few kilobytes.
const maxFrame = 16 << 20

// Config is what the child needs to set itself up.
type Config struct {
	Spec     *specs.Spec `json:"spec"`
	LogLevel string      `json:"logLevel,omitempty"`
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
}

// Error is a failure of one named step of the child. It is the error type
// returned by the parent's Wait functions when the child reported one.
type Error struct {
	Step string `json:"step"`
	Path string `json:"path,omitempty"`
	Msg  string `json:"msg"`
	// Code is the exit status the user sees: 125 runtime failure, 126 not
	// executable, 127 not found.
	Code int `json:"code"`
}

func (e *Error) Error() string {
	return "init " + e.Step + ": " + e.Msg
}

// Ready carries the child's step timings (for --log-level debug).
type Ready struct {
	Steps []StepTime `json:"steps,omitempty"`
}

// StepTime is one setup step and how long it took, in microseconds.
type StepTime struct {
	Name   string `json:"name"`
	Micros int64  `json:"us"`
}

// Conn is one end of the socketpair.
type Conn struct {
	f *os.File
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

// Close closes this end.
func (c *Conn) Close() error { return c.f.Close() }

// Fd is the raw descriptor (for the child to keep it out of the container).
func (c *Conn) Fd() int { return int(c.f.Fd()) }

func (c *Conn) send(k Kind, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("handshake send %s: %w", k, err)
	}
	frame := make([]byte, 5+len(b))
	binary.BigEndian.PutUint32(frame, uint32(len(b)+1))
	frame[4] = byte(k)
	copy(frame[5:], b)
	if _, err := c.f.Write(frame); err != nil {
		return fmt.Errorf("handshake send %s: %w", k, err)
	}
	return nil
}

// recv reads one frame. io.EOF is returned as is when the peer closed
// cleanly before a frame started.
func (c *Conn) recv() (Kind, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c.f, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxFrame {
		return 0, nil, fmt.Errorf("handshake: bad frame length %d", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.f, buf); err != nil {
		return 0, nil, fmt.Errorf("handshake: short frame: %w", err)
	}
	return Kind(buf[0]), buf[1:], nil
}

// wait reads the next frame and requires kind want; an Error frame from the
// peer is returned as *Error.
func (c *Conn) wait(want Kind, into any) error {
	k, body, err := c.recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("handshake wait %s: peer closed the connection", want)
		}
		return fmt.Errorf("handshake wait %s: %w", want, err)
	}
	if k == KindError {
		e := &Error{}
		if err := json.Unmarshal(body, e); err != nil {
			return fmt.Errorf("handshake: bad error message: %w", err)
		}
		return e
	}
	if k != want {
		return fmt.Errorf("handshake: got %s, want %s", k, want)
	}
	if into == nil {
		return nil
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("handshake: bad %s message: %w", want, err)
	}
	return nil
}

// SendConfig sends the child its configuration (parent).
func (c *Conn) SendConfig(cfg *Config) error { return c.send(KindConfig, cfg) }

// WaitConfig waits for the configuration (child).
func (c *Conn) WaitConfig() (*Config, error) {
	cfg := &Config{}
	if err := c.wait(KindConfig, cfg); err != nil {
		return nil, err
	}
	if cfg.Spec == nil {
		return nil, errors.New("handshake: config without a spec")
	}
	return cfg, nil
}

// SendGo tells the child that its cgroup (and network) are in place (parent).
func (c *Conn) SendGo() error { return c.send(KindGo, struct{}{}) }

// WaitGo waits for the go-ahead (child).
func (c *Conn) WaitGo() error { return c.wait(KindGo, nil) }

// SendReady reports that every setup step succeeded (child).
func (c *Conn) SendReady(r *Ready) error { return c.send(KindReady, r) }

// WaitReady waits for the child's setup; a failed step comes back as *Error
// (parent).
func (c *Conn) WaitReady() (*Ready, error) {
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

// SendError reports a failed step (child).
func (c *Conn) SendError(e *Error) error { return c.send(KindError, e) }

// WaitExec waits until the child has exec'd the user's program: the
// close-on-exec fd gives EOF. A failed exec comes back as *Error (parent).
func (c *Conn) WaitExec() error {
	k, body, err := c.recv()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("handshake wait exec: %w", err)
	}
	if k != KindError {
		return fmt.Errorf("handshake: got %s, want EOF at exec", k)
	}
	e := &Error{}
	if err := json.Unmarshal(body, e); err != nil {
		return fmt.Errorf("handshake: bad error message: %w", err)
	}
	return e
}
