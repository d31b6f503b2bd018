package plan

import (
	"bytes"
	"errors"
	"os"
	"regexp"
	"strconv"
	"testing"
)

func TestMarshalRoundTrip(t *testing.T) {
	p := &Plan{Flags: FlagExplain}
	p.Add("mounts", OpMount, []uint64{1, FlagMkdir}, []byte("proc"), []byte("/proc"), []byte("proc"), nil)
	p.Add("exec", OpExec, []uint64{ExecSearch}, []byte("sh"), []byte("sh\x00-c\x00"), []byte("A=1\x00"), []byte("/bin"))
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if q.Flags != p.Flags || len(q.Ops) != 2 || q.Ops[0].Step != "mounts" || !bytes.Equal(q.Ops[1].Strs[1], []byte("sh\x00-c\x00")) || q.Ops[0].Ints[1] != FlagMkdir {
		t.Fatalf("round trip: got %+v", q)
	}
}

func TestUnmarshalRefuses(t *testing.T) {
	p := &Plan{}
	p.Add("hostname", OpHostname, nil, []byte("box"))
	good, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	unknown := append([]byte(nil), good...)
	unknown[16] = 200
	for name, b := range map[string][]byte{
		"truncated":  good[:len(good)-1],
		"trailing":   append(append([]byte(nil), good...), 0),
		"no magic":   append([]byte("XXPLAN\x00\x01"), good[8:]...),
		"unknown op": unknown,
	} {
		if _, err := Unmarshal(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	bad := &Plan{}
	bad.Add("x", OpMount, []uint64{1}, nil)
	if _, err := bad.Marshal(); err == nil {
		t.Error("Marshal took an op of the wrong shape")
	}
}

// TestHeaderAgrees checks that plan.h, the C side, numbers the operations
// as this package does.
func TestHeaderAgrees(t *testing.T) {
	h, err := os.ReadFile("../../cmd/minimal-docker-helper/plan.h")
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^#define OP_([A-Z_]+) (\d+)$`).FindAllStringSubmatch(string(h), -1) {
		n, _ := strconv.Atoi(m[2])
		defs[m[1]] = n
	}
	if defs["NUM"] != int(numCodes) {
		t.Errorf("plan.h OP_NUM %d, package plan %d", defs["NUM"], numCodes)
	}
	want := map[string]Code{
		"WAIT_GO":     OpWaitGo,
		"HOOKS":       OpHooks,
		"READY":       OpReady,
		"WAIT_START":  OpWaitStart,
		"FIFO_OPEN":   OpFifoOpen,
		"FIFO_WAIT":   OpFifoWait,
		"FIFO_GO":     OpFifoGo,
		"PRCTL":       OpPrctl,
		"SETNS":       OpSetns,
		"UNSHARE":     OpUnshare,
		"HOSTNAME":    OpHostname,
		"DOMAINNAME":  OpDomainname,
		"LOOPBACK_UP": OpLoopbackUp,
		"WRITE_FILE":  OpWriteFile,
		"PIDS_OPEN":   OpPidsOpen,
		"PIDS_WRITE":  OpPidsWrite,
		"SET_ROOT":    OpSetRoot,
		"MOUNT":       OpMount,
		"SETATTR":     OpSetattr,
		"MASK":        OpMask,
		"MKNOD":       OpMknod,
		"CHECK_DEV":   OpCheckDev,
		"SYMLINK":     OpSymlink,
		"MKDIR":       OpMkdir,
		"PIVOT_ROOT":  OpPivotRoot,
		"CHROOT":      OpChroot,
		"CHDIR":       OpChdir,
		"HOOK":        OpHook,
		"RLIMIT":      OpRlimit,
		"BOUNDING":    OpBounding,
		"CAPS":        OpCaps,
		"SET_USER":    OpSetUser,
		"UMASK":       OpUmask,
		"SECCOMP":     OpSeccomp,
		"CONSOLE":     OpConsole,
		"PASS_FDS":    OpPassFDs,
		"EXEC":        OpExec,
		"MOVE_TREE":   OpMoveTree,
	}
	if len(want) != int(numCodes)-1 {
		t.Fatalf("the test lists %d codes, package plan has %d", len(want), numCodes-1)
	}
	for name, c := range want {
		if defs[name] != int(c) {
			t.Errorf("plan.h OP_%s is %d, package plan's %s is %d", name, defs[name], c, c)
		}
	}
}
