package handshake

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/plan"
)

// EnvPlanFD names the environment variable that holds the fd of the
// child's end: the child is the plan's interpreter (the C init in
// minimal-docker-helper's constructor, package plan).
const EnvPlanFD = "_MINIMAL_DOCKER_PLAN_FD"

// KindReport (child) follows each operation of a plan sent with
// plan.FlagExplain: which op, how long it took, its errno (0 done, -1
// skipped as the plan allowed). Every Wait of the parent hands the reports
// that come before the frame it waits for to the OnReport callback.
const KindReport Kind = 9

// SendPlan sends the child, the plan's interpreter, its plan as the Config
// frame's body (parent). The Conn keeps p: the child's reports, timings
// and errors name ops by their index in it.
func (c *Conn) SendPlan(p *plan.Plan) error {
	b, err := p.Marshal()
	if err != nil {
		return fmt.Errorf("handshake send %s: %w", KindConfig, err)
	}
	if err := c.sendRaw(KindConfig, b); err != nil {
		return err
	}
	c.plan = p
	c.planBytes = len(b)
	return nil
}

// PlanSize is the size in bytes of the plan SendPlan sent (0 before).
func (c *Conn) PlanSize() int { return c.planBytes }

// OnReport sets the function that gets each of the child's reports (a
// plan sent with plan.FlagExplain): the op, its time, its errno (0 done,
// -1 skipped). It is called from the Wait functions, on their goroutine.
func (c *Conn) OnReport(f func(op *plan.Op, d time.Duration, errno int)) { c.onReport = f }

// op is the sent plan's op i, or nil.
func (c *Conn) op(i uint32) *plan.Op {
	if c.plan == nil || uint64(i) >= uint64(len(c.plan.Ops)) {
		return nil
	}
	return &c.plan.Ops[i]
}

// report decodes a Report body (u32 op index | u32 micros | i32 errno,
// little-endian) and hands it to the callback.
func (c *Conn) report(body []byte) error {
	if len(body) != 12 {
		return fmt.Errorf("handshake: bad %s message: %d bytes, want 12", KindReport, len(body))
	}
	i := binary.LittleEndian.Uint32(body)
	op := c.op(i)
	if op == nil {
		return fmt.Errorf("handshake: %s of op %d, not in the plan", KindReport, i)
	}
	if c.onReport != nil {
		d := time.Duration(binary.LittleEndian.Uint32(body[4:])) * time.Microsecond
		c.onReport(op, d, int(int32(binary.LittleEndian.Uint32(body[8:]))))
	}
	return nil
}

// decodeReady decodes the interpreter's Ready body: u32 n | (u32 op
// index | u32 micros){n}, little-endian. Ready.Ops gets each op's time;
// Ready.Steps the sum of the ops of each step (named by the plan's step
// names), in the order the steps began.
func (c *Conn) decodeReady(body []byte) (*Ready, error) {
	bad := func(f string, a ...any) (*Ready, error) {
		return nil, fmt.Errorf("handshake: bad %s message: %s", KindReady, fmt.Sprintf(f, a...))
	}
	if len(body) < 4 {
		return bad("%d bytes", len(body))
	}
	n := binary.LittleEndian.Uint32(body)
	if uint64(len(body)-4) != 8*uint64(n) {
		return bad("%d timings in %d bytes", n, len(body))
	}
	r := &Ready{}
	at := map[string]int{}
	for k := uint32(0); k < n; k++ {
		e := body[4+8*k:]
		i := binary.LittleEndian.Uint32(e)
		op := c.op(i)
		if op == nil {
			return bad("op %d, not in the plan", i)
		}
		us := int64(binary.LittleEndian.Uint32(e[4:]))
		r.Ops = append(r.Ops, OpTime{Index: int(i), Op: op, Micros: us})
		name := op.Step
		if name == "" {
			name = op.Code.String()
		}
		j, seen := at[name]
		if !seen {
			j = len(r.Steps)
			at[name] = j
			r.Steps = append(r.Steps, StepTime{Name: name})
		}
		r.Steps[j].Micros += us
	}
	return r, nil
}

// OpTime is one op of a plan and how long the interpreter took for it.
type OpTime struct {
	Index  int
	Op     *plan.Op
	Micros int64
}

// decodeError turns the interpreter's Error body (u32 op index | i32 errno
// | u8 cause | detail, little-endian) into an *Error that names the op's
// step, what it did and its path: "init STEP: WHAT PATH: strerror[:
// detail]" (the detail alone when there is no errno).
func (c *Conn) decodeError(body []byte) error {
	if len(body) < 9 {
		return fmt.Errorf("handshake: bad %s message: %d bytes", KindError, len(body))
	}
	i := binary.LittleEndian.Uint32(body)
	errno := int32(binary.LittleEndian.Uint32(body[4:]))
	cause, detail := body[8], string(body[9:])
	reason := detail
	if errno != 0 {
		reason = unix.Errno(errno).Error()
		if detail != "" {
			reason += ": " + detail
		}
	}
	if reason == "" {
		reason = "failed"
	}
	e := &Error{Msg: reason}
	switch cause {
	case plan.CauseNotFound:
		e.Cause = CauseNotFound
	case plan.CauseNotExecutable:
		e.Cause = CauseNotExecutable
	}
	op := c.op(i)
	if op == nil {
		// Not an op of the plan: the interpreter refused the plan itself.
		e.Step = "plan"
		e.Msg = "the plan was refused: " + reason
		return e
	}
	e.Step, e.Path = op.Step, op.Path
	if e.Step == "" {
		e.Step = op.Code.String()
	}
	what := op.What
	if what == "" {
		what = op.Code.String()
	}
	if op.Path != "" {
		what += " " + op.Path
	}
	e.Msg = what + ": " + reason
	return e
}
