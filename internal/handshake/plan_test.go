package handshake

import (
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/plan"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// testPlan is a small plan as the compiler makes one.
func testPlan() *plan.Plan {
	p := &plan.Plan{}
	p.Add("pdeathsig", plan.OpPrctl, []uint64{1, 9})
	p.Add("", plan.OpWaitGo, nil)
	m := p.Add("mounts", plan.OpMount, []uint64{0, 0}, []byte("proc"), []byte("/proc"), []byte("proc"), nil)
	m.What, m.Path = "mount proc", "/proc"
	m = p.Add("mounts", plan.OpMount, []uint64{0, 0}, []byte("tmpfs"), []byte("/dev"), []byte("tmpfs"), nil)
	m.What, m.Path = "mount tmpfs", "/dev"
	p.Add("", plan.OpReady, nil)
	e := p.Add("exec", plan.OpExec, []uint64{plan.ExecSearch}, []byte("sh"), []byte("sh\x00"), nil, []byte("/bin"))
	e.What, e.Path = "execute", "sh"
	return p
}

// planPair is a parent Conn that has sent testPlan, and the child's end,
// whose Config frame (the plan) has been read.
func planPair(t *testing.T) (*Conn, *Conn, *plan.Plan) {
	t.Helper()
	parent, childFile, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	child := &Conn{f: childFile}
	t.Cleanup(func() { parent.Close(); child.Close() })
	p := testPlan()
	if err := parent.SendPlan(p); err != nil {
		t.Fatal(err)
	}
	k, body, err := child.recv()
	if err != nil || k != KindConfig {
		t.Fatalf("the child got %s, %v; want the config", k, err)
	}
	got, err := plan.Unmarshal(body)
	if err != nil {
		t.Fatalf("the plan sent does not decode: %v", err)
	}
	if len(got.Ops) != len(p.Ops) || parent.PlanSize() != len(body) {
		t.Fatalf("sent %d ops in %d bytes (PlanSize %d), want %d ops", len(got.Ops), len(body), parent.PlanSize(), len(p.Ops))
	}
	return parent, child, p
}

func le32(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

type report struct {
	op    *plan.Op
	d     time.Duration
	errno int
}

// TestPlanReadyAndReports: the reports before Ready go to the callback,
// in order, and Ready's binary timings come back per op and summed per
// step.
func TestPlanReadyAndReports(t *testing.T) {
	parent, child, p := planPair(t)
	var got []report
	parent.OnReport(func(op *plan.Op, d time.Duration, errno int) { got = append(got, report{op, d, errno}) })
	minus1 := uint32(0xffffffff)
	for _, r := range [][]byte{le32(0, 5, 0), le32(2, 40, 0), le32(3, 60, minus1)} {
		if err := child.sendRaw(KindReport, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := child.sendRaw(KindReady, le32(3, 0, 5, 2, 40, 3, 60)); err != nil {
		t.Fatal(err)
	}
	r, err := parent.WaitReady()
	if err != nil {
		t.Fatal(err)
	}
	want := []report{{&p.Ops[0], 5 * time.Microsecond, 0}, {&p.Ops[2], 40 * time.Microsecond, 0}, {&p.Ops[3], 60 * time.Microsecond, -1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("reports %+v, want %+v", got, want)
	}
	wantSteps := []StepTime{{"pdeathsig", 5}, {"mounts", 100}}
	if !reflect.DeepEqual(r.Steps, wantSteps) {
		t.Errorf("steps %+v, want %+v", r.Steps, wantSteps)
	}
	if len(r.Ops) != 3 || r.Ops[1].Op != &p.Ops[2] || r.Ops[1].Micros != 40 {
		t.Errorf("ops %+v", r.Ops)
	}
}

// TestPlanErrors: an Error frame names the op's step, what it did and its
// path, with strerror and the detail; a cause of the exec unwraps to
// rootfs's error (the exit status 127 or 126).
func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  []byte
		wait  func(*Conn) error
		want  string
		path  string
		cause error
	}{
		{"errno", append(le32(2, uint32(unix.ENOENT)), 0), func(c *Conn) error { _, err := c.WaitReady(); return err },
			"init mounts: mount proc /proc: no such file or directory", "/proc", nil},
		{"errno and detail", append(le32(3, uint32(unix.EPERM)), append([]byte{0}, "on a read-only filesystem"...)...),
			func(c *Conn) error { return c.WaitClosed() },
			"init mounts: mount tmpfs /dev: operation not permitted: on a read-only filesystem", "/dev", nil},
		{"detail alone", append(le32(0, 0), append([]byte{0}, "bad option"...)...), func(c *Conn) error { return c.WaitHooks() },
			"init pdeathsig: prctl: bad option", "", nil},
		{"not found", append(le32(5, uint32(unix.ENOENT)), plan.CauseNotFound), func(c *Conn) error { return c.WaitExec() },
			"init exec: execute sh: no such file or directory", "sh", rootfs.ErrNotFound},
		{"not executable", append(le32(5, uint32(unix.EACCES)), plan.CauseNotExecutable), func(c *Conn) error { return c.WaitExec() },
			"init exec: execute sh: permission denied", "sh", rootfs.ErrNotExecutable},
		{"the plan refused", append(le32(0xffffffff, uint32(unix.EINVAL)), append([]byte{0}, "op 3: unknown code"...)...), func(c *Conn) error { _, err := c.WaitConsole(); return err },
			"init plan: the plan was refused: invalid argument: op 3: unknown code", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, child, _ := planPair(t)
			if err := child.sendRaw(KindError, tt.body); err != nil {
				t.Fatal(err)
			}
			err := tt.wait(parent)
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("got %v, want a *handshake.Error", err)
			}
			if he.Error() != tt.want || he.Path != tt.path {
				t.Errorf("got %q (path %q), want %q (path %q)", he.Error(), he.Path, tt.want, tt.path)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) || tt.cause == nil && he.Cause != "" {
				t.Errorf("cause %q, want %v", he.Cause, tt.cause)
			}
		})
	}
}

// TestPlanBadFrames: a truncated report, a report or timing of an op not
// in the plan, and a short error are errors, not panics.
func TestPlanBadFrames(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		body []byte
	}{
		{"short report", KindReport, le32(0, 1)},
		{"report out of the plan", KindReport, le32(99, 1, 0)},
		{"ready count too big", KindReady, le32(5, 0, 1)},
		{"ready out of the plan", KindReady, le32(1, 99, 1)},
		{"ready empty", KindReady, nil},
		{"short error", KindError, le32(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, child, _ := planPair(t)
			if err := child.sendRaw(tt.kind, tt.body); err != nil {
				t.Fatal(err)
			}
			_, err := parent.WaitReady()
			var he *Error
			if err == nil || errors.As(err, &he) {
				t.Fatalf("got %v, want a protocol error", err)
			}
		})
	}
}

// TestPlanConsole: the interpreter's console frame (the slave's name)
// brings the pty master's descriptor, named /dev/ptmx as runc names it.
func TestPlanConsole(t *testing.T) {
	for _, body := range []string{`{"name":"/dev/pts/3"}`, "console"} {
		parent, child, _ := planPair(t)
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		f, err := rawFrame(KindConsole, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Sendmsg(child.Fd(), f, unix.UnixRights(int(r.Fd())), nil, 0); err != nil {
			t.Fatal(err)
		}
		r.Close()
		m, err := parent.WaitConsole()
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if m.Name() != "/dev/ptmx" {
			t.Errorf("%q: name %q, want /dev/ptmx", body, m.Name())
		}
		m.Close()
		w.Close()
	}
}

// TestPlanWaitClosed: the reports up to the close are handed on; the
// close itself is no error.
func TestPlanWaitClosed(t *testing.T) {
	parent, child, _ := planPair(t)
	n := 0
	parent.OnReport(func(*plan.Op, time.Duration, int) { n++ })
	if err := child.sendRaw(KindReport, le32(4, 1, 0)); err != nil {
		t.Fatal(err)
	}
	child.Close()
	if err := parent.WaitClosed(); err != nil || n != 1 {
		t.Fatalf("WaitClosed: %v after %d reports, want nil after 1", err, n)
	}
}
