package plan

// The interpreter's tests: bin/minimal-docker-helper (make build) is
// started as a container's init would be, with a plan on a socketpair, in
// new mount, uts, pid and net namespaces (its pid namespace dies with it,
// its mounts with its mount namespace), against a temporary root; the
// test is the parent. They need root.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const helperPath = "../../bin/minimal-docker-helper"

// Frame kinds (package handshake's).
const (
	kindConfig  = 1
	kindGo      = 2
	kindReady   = 3
	kindStart   = 4
	kindError   = 5
	kindConsole = 6
	kindHooks   = 7
	kindResume  = 8
	kindReport  = 9
)

// report is a Report frame, or an entry of the Ready frame (Errno 0).
type report struct {
	Index, Micros uint32
	Errno         int32
}

// initError is an Error frame.
type initError struct {
	Index  uint32
	Errno  syscall.Errno
	Cause  uint8
	Detail string
}

// planRun is what the parent saw of a run.
type planRun struct {
	Kinds   []byte   // every frame's kind, in order
	Reports []report // Report frames
	Ready   []report // the Ready frame's entries
	Err     *initError
	Files   []*os.File // descriptors received (Console), closed at the test's end
	Status  int        // exit status, or -1 when killed by a signal
	Stderr  string
}

// runOpt says how the parent plays its part.
type runOpt struct {
	// At is called when the init waits at op i (OpWaitGo, OpHooks,
	// OpWaitStart), with its pid, before the parent answers; false makes
	// the parent close its end instead. The init is known to wait there
	// when the plan has FlagExplain (the Report of op i-1 came), or the
	// op is OpHooks (its Hooks frame came), or i is 0; otherwise At is
	// called when the parent answers (it may run before op i-1 ends).
	At func(pid, i int) bool
	// Frame, when set, is sent instead of the plan's Config frame; with
	// HalfFrame the parent then shuts its end for writing.
	Frame     []byte
	HalfFrame bool
	Stdout    io.Writer
}

// frame makes a handshake frame.
func frame(kind byte, body []byte) []byte {
	f := binary.BigEndian.AppendUint32(nil, uint32(len(body)+1))
	return append(append(f, kind), body...)
}

type recvd struct {
	kind byte
	body []byte
	fds  []int
}

// readFrames reads frames from fd (keeping the descriptors that come with
// them) until the end of the stream.
func readFrames(fd int, out chan<- recvd) {
	defer close(out)
	var pending []int
	read := func(b []byte) bool {
		for off := 0; off < len(b); {
			oob := make([]byte, unix.CmsgSpace(4*4))
			n, oobn, _, _, err := unix.Recvmsg(fd, b[off:], oob, unix.MSG_CMSG_CLOEXEC)
			if err == unix.EINTR {
				continue
			}
			if err != nil || n == 0 {
				return false
			}
			if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
				for _, m := range msgs {
					if fds, err := unix.ParseUnixRights(&m); err == nil {
						pending = append(pending, fds...)
					}
				}
			}
			off += n
		}
		return true
	}
	for {
		var h [5]byte
		if !read(h[:]) {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(h[:4])-1)
		if !read(body) {
			return
		}
		out <- recvd{h[4], body, pending}
		pending = nil
	}
}

// runPlan runs p (or opt.Frame) in bin/minimal-docker-helper as the
// container's init and plays the parent: it answers the wait points in
// order (Go, Resume after Hooks, Start), collects what the init sends and
// returns with its exit status. Everything it started is gone when it
// returns.
func runPlan(t *testing.T, p *Plan, opt runOpt) *planRun {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the interpreter's tests need root (new mount, pid and net namespaces)")
	}
	if _, err := os.Stat(helperPath); err != nil {
		t.Fatalf("%v: run make build", err)
	}
	f := opt.Frame
	if f == nil {
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		f = frame(kindConfig, b)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn, child := fds[0], os.NewFile(uintptr(fds[1]), "init's end")
	var stderr bytes.Buffer
	cmd := exec.Command(helperPath)
	cmd.Env = []string{"_MINIMAL_DOCKER_PLAN_FD=3"}
	cmd.ExtraFiles = []*os.File{child}
	cmd.Stdout, cmd.Stderr = opt.Stdout, &stderr
	// No Pdeathsig: it fires when the forking thread ends, which a test
	// that locks a thread may make happen. Should the test die, its end of
	// the socket closes, and the init exits at its next wait point.
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWPID | unix.CLONE_NEWNET,
	}
	err = cmd.Start()
	child.Close()
	if err != nil {
		unix.Close(conn)
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	run := &planRun{}
	defer func() {
		unix.Shutdown(conn, unix.SHUT_RDWR)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("the init did not exit: killed")
		}
		unix.Close(conn)
		run.Stderr = stderr.String()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Exited() {
			run.Status = ws.ExitStatus()
		} else {
			run.Status = -1
		}
		t.Cleanup(func() {
			for _, f := range run.Files {
				f.Close()
			}
		})
	}()
	if _, err := unix.Write(conn, f); err != nil {
		t.Errorf("send the plan: %v", err)
		return run
	}
	if opt.HalfFrame {
		unix.Shutdown(conn, unix.SHUT_WR)
	}

	// The wait points, in order, and how far the init has gone.
	var waits []int
	if opt.Frame == nil {
		for i, op := range p.Ops {
			if op.Code == OpWaitGo || op.Code == OpHooks || op.Code == OpWaitStart {
				waits = append(waits, i)
			}
		}
	}
	explain := p != nil && p.Flags&FlagExplain != 0
	done, closed := -1, false
	answer := func(hooks bool) {
		for ; len(waits) > 0 && !closed; waits = waits[1:] {
			i := waits[0]
			code := p.Ops[i].Code
			if (code == OpHooks) != hooks || (explain && !hooks && i > 0 && done < i-1) {
				return
			}
			if opt.At != nil && !opt.At(cmd.Process.Pid, i) {
				unix.Shutdown(conn, unix.SHUT_RDWR)
				closed = true
				return
			}
			kind := map[Code]byte{OpWaitGo: kindGo, OpHooks: kindResume, OpWaitStart: kindStart}[code]
			if _, err := unix.Write(conn, frame(kind, []byte("{}"))); err != nil {
				t.Errorf("answer op %d (%s): %v", i, code, err)
			}
			hooks = false
		}
	}
	answer(false)
	frames := make(chan recvd)
	go readFrames(conn, frames)
	timeout := time.After(60 * time.Second)
	for {
		var fr recvd
		var ok bool
		select {
		case fr, ok = <-frames:
		case <-timeout:
			cmd.Process.Kill()
			t.Errorf("no end of the init's frames in 60 s: killed it")
			for range frames {
			}
			return run
		}
		if !ok {
			return run
		}
		run.Kinds = append(run.Kinds, fr.kind)
		for _, fd := range fr.fds {
			run.Files = append(run.Files, os.NewFile(uintptr(fd), "received"))
		}
		le := binary.LittleEndian
		switch {
		case fr.kind == kindReport && len(fr.body) == 12:
			r := report{le.Uint32(fr.body), le.Uint32(fr.body[4:]), int32(le.Uint32(fr.body[8:]))}
			run.Reports = append(run.Reports, r)
			done = int(r.Index)
			answer(false)
		case fr.kind == kindReady && len(fr.body) >= 4:
			n := int(le.Uint32(fr.body))
			for k := 0; k < n && 12+8*k <= len(fr.body); k++ {
				run.Ready = append(run.Ready, report{Index: le.Uint32(fr.body[4+8*k:]), Micros: le.Uint32(fr.body[8+8*k:])})
			}
			done = n
			answer(false)
		case fr.kind == kindHooks:
			answer(true)
		case fr.kind == kindError && len(fr.body) >= 9:
			run.Err = &initError{le.Uint32(fr.body), syscall.Errno(le.Uint32(fr.body[4:])), fr.body[8], string(fr.body[9:])}
		case fr.kind == kindConsole:
		default:
			t.Errorf("a frame of kind %d, %d bytes, from the init", fr.kind, len(fr.body))
		}
	}
}

// privateRoot is the first op of the tests' plans: nothing they mount
// reaches the test's mount namespace.
func privateRoot(p *Plan) {
	p.Add("propagation", OpMount, []uint64{unix.MS_REC | unix.MS_PRIVATE, FlagHost}, nil, []byte("/"), nil, nil)
}

// inNS runs fn on a thread in the namespace nstype of pid (uts, net: a
// thread may join them alone), then puts the thread back.
func inNS(t *testing.T, pid int, nstype int, fn func()) {
	t.Helper()
	name := map[int]string{unix.CLONE_NEWUTS: "uts", unix.CLONE_NEWNET: "net"}[nstype]
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		own, err := unix.Open("/proc/thread-self/ns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer unix.Close(own)
		fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			err = unix.Setns(fd, nstype)
			unix.Close(fd)
		}
		if err == nil {
			fn()
		}
		if unix.Setns(own, nstype) == nil {
			runtime.UnlockOSThread() // else the thread ends with the goroutine
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		t.Fatalf("join the init's %s namespace: %v", name, err)
	}
}

func mustWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func b(s string) []byte { return []byte(s) }

// TestInterpBuildsARoot runs a plan that makes a root as a container's
// (tmpfs, mounts, binds, nodes, links, pivot_root, masked and read-only
// paths) and checks it from outside, through /proc/PID/root while the
// init waits for Start, and by a file the plan's last op writes.
func TestInterpBuildsARoot(t *testing.T) {
	tmp := t.TempDir()
	root, src, out := filepath.Join(tmp, "root"), filepath.Join(tmp, "src"), filepath.Join(tmp, "out")
	mustWrite(t, src+"/hello", "hello\n")
	mustWrite(t, tmp+"/file", "file\n")
	mustWrite(t, out+"/result", "")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	null := unix.Mkdev(1, 3)
	p := &Plan{Flags: FlagExplain}
	privateRoot(p)
	p.Add("root", OpSetRoot, nil, b(root))
	p.Add("root", OpMount, []uint64{0, 0}, b("tmpfs"), b("/"), b("tmpfs"), b("mode=0755"))
	p.Add("mounts", OpMount, []uint64{unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, FlagMkdir}, b("proc"), b("/proc"), b("proc"), nil)
	p.Add("mounts", OpMount, []uint64{unix.MS_NOSUID, FlagMkdir}, b("tmpfs"), b("/dev"), b("tmpfs"), b("mode=755"))
	p.Add("mounts", OpMount, []uint64{unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, FlagMkdir}, b(src), b("/mnt"), nil, nil)
	p.Add("mounts", OpMount, []uint64{unix.MS_BIND, FlagMkfile}, b(tmp+"/file"), b("/etc/file"), nil, nil)
	p.Add("mounts", OpMount, []uint64{unix.MS_BIND, FlagMkdir}, b(out), b("/out"), nil, nil)
	p.Add("mounts", OpMount, []uint64{unix.MS_BIND, FlagMkdir}, b(src), b("/ro"), nil, nil)
	p.Add("mounts", OpMount, []uint64{unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY, 0}, nil, b("/ro"), nil, nil)
	p.Add("mounts", OpMkdir, []uint64{0o700}, b("/etc/sub/dir"))
	p.Add("devices", OpMknod, []uint64{unix.S_IFCHR | 0o666, null, 0, 0}, b("/dev/null"))
	p.Add("devices", OpMknod, []uint64{unix.S_IFCHR | 0o666, null, 0, 0}, b("/dev/null")) // the same node again: fine
	p.Add("devices", OpSymlink, nil, b("/proc/self/fd"), b("/dev/fd"))
	p.Add("devices", OpSymlink, nil, b("etc/sub"), b("/link"))
	p.Add("pivot_root", OpPivotRoot, nil)
	p.Add("readonly-paths", OpMount, []uint64{unix.MS_BIND | unix.MS_REC, FlagSourceInRoot}, b("/etc"), b("/etc"), nil, nil)
	p.Add("readonly-paths", OpSetattr, []uint64{unix.MOUNT_ATTR_RDONLY, 0, 1, 0}, b("/etc"))
	p.Add("masked-paths", OpMask, nil, b("/etc/file"))
	p.Add("masked-paths", OpMask, nil, b("/etc/sub"))
	p.Add("masked-paths", OpMask, nil, b("/nonexistent")) // skipped
	p.Add("hostname", OpHostname, nil, b("planbox"))
	p.Add("loopback", OpLoopbackUp, nil)
	p.Add("cwd", OpChdir, []uint64{FlagMkdir}, b("/work/dir"))
	p.Add("ready", OpReady, nil)
	start := len(p.Ops)
	p.Add("start", OpWaitStart, nil)
	p.Add("done", OpWriteFile, []uint64{0}, b("/out/result"), b("done\n"))

	checked := false
	run := runPlan(t, p, runOpt{At: func(pid, i int) bool {
		if i != start {
			t.Errorf("At(%d), want only %d", i, start)
			return true
		}
		checked = true
		checkRoot(t, pid)
		return true
	}})
	if run.Status != 0 || run.Err != nil || !checked {
		t.Fatalf("status %d, error %+v, checked at the wait point: %v; stderr %q", run.Status, run.Err, checked, run.Stderr)
	}
	if len(run.Reports) != len(p.Ops) {
		t.Errorf("%d reports, want one per op (%d)", len(run.Reports), len(p.Ops))
	}
	for i, r := range run.Reports {
		want := int32(0)
		if p.Ops[i].Code == OpMask && string(p.Ops[i].Strs[0]) == "/nonexistent" {
			want = -1
		}
		if r.Index != uint32(i) || r.Errno != want {
			t.Errorf("report %d: %+v, want index %d errno %d", i, r, i, want)
		}
	}
	if len(run.Ready) != start-1 {
		t.Errorf("Ready has %d entries, want one per op before it (%d)", len(run.Ready), start-1)
	}
	if got, _ := os.ReadFile(out + "/result"); string(got) != "done\n" {
		t.Errorf("the last op wrote %q, want %q", got, "done\n")
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("the root's tmpfs leaked into the test's view: %v", ents)
	}
	if _, err := os.Stat(src + "/x"); err == nil {
		t.Error("a file was made in the read-only bind's source")
	}
}

// checkRoot checks the root that TestInterpBuildsARoot's plan made, as
// the init sees it (pid: the init, waiting for Start).
func checkRoot(t *testing.T, pid int) {
	r := "/proc/" + strconv.Itoa(pid) + "/root"
	var st unix.Stat_t
	if err := unix.Stat(r+"/dev/null", &st); err != nil || st.Mode != unix.S_IFCHR|0o666 || st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("/dev/null: %v, mode %#o, rdev %#x", err, st.Mode, st.Rdev)
	}
	for link, want := range map[string]string{"/dev/fd": "/proc/self/fd", "/link": "etc/sub"} {
		if got, err := os.Readlink(r + link); got != want {
			t.Errorf("%s -> %q (%v), want %q", link, got, err, want)
		}
	}
	if got, err := os.ReadFile(r + "/mnt/hello"); string(got) != "hello\n" {
		t.Errorf("/mnt/hello (bound): %q, %v", got, err)
	}
	for _, f := range []string{"/mnt/x", "/ro/x", "/etc/new"} {
		if err := os.WriteFile(r+f, nil, 0o644); !errors.Is(err, unix.EROFS) {
			t.Errorf("write %s: %v, want EROFS (read-only)", f, err)
		}
	}
	if got, err := os.ReadFile(r + "/etc/file"); err != nil || len(got) != 0 {
		t.Errorf("/etc/file (masked): %q, %v", got, err)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(r+"/etc/sub", &fs); err != nil || fs.Type != unix.TMPFS_MAGIC {
		t.Errorf("/etc/sub (masked): %v, fs type %#x", err, fs.Type)
	}
	if ents, err := os.ReadDir(r + "/etc/sub"); err != nil || len(ents) != 0 {
		t.Errorf("/etc/sub (masked): %v, %v", ents, err)
	}
	if err := unix.Statfs(r+"/proc/1", &fs); err != nil || fs.Type != unix.PROC_SUPER_MAGIC {
		t.Errorf("/proc/1: %v, fs type %#x", err, fs.Type)
	}
	// After pivot_root the root is "/": no fd of it is held (a tiny init
	// staying PID 1 would keep it).
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Error(err)
	}
	for _, fd := range fds {
		if l, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd.Name()); l == "/" {
			t.Errorf("the init holds fd %s of its root", fd.Name())
		}
	}
	if cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd"); cwd != "/work/dir" {
		t.Errorf("cwd %q (%v), want /work/dir", cwd, err)
	}
	inNS(t, pid, unix.CLONE_NEWUTS, func() {
		var u unix.Utsname
		if unix.Uname(&u); unix.ByteSliceToString(u.Nodename[:]) != "planbox" {
			t.Errorf("hostname %q, want planbox", unix.ByteSliceToString(u.Nodename[:]))
		}
	})
	inNS(t, pid, unix.CLONE_NEWNET, func() {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer unix.Close(fd)
		ifr, _ := unix.NewIfreq("lo")
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil || ifr.Uint16()&unix.IFF_UP == 0 {
			t.Errorf("lo: %v, flags %#x, want up", err, ifr.Uint16())
		}
	})
}

// TestInterpPathsStayInRoot: paths that leave the root by "..", by an
// absolute or a relative symlink (dangling or not), or through /proc's
// magic links resolve inside it or fail; nothing is made, mounted or
// written outside (CVE-2021-30465, CVE-2023-28642, CVE-2025-31133).
func TestInterpPathsStayInRoot(t *testing.T) {
	tmp := t.TempDir()
	root, outside := filepath.Join(tmp, "root"), filepath.Join(tmp, "outside")
	mustWrite(t, outside+"/file", "orig")
	mustWrite(t, root+"/etc/x", "")
	mustWrite(t, root+"/masked", "")
	mustWrite(t, tmp+"/bound", "bound\n")
	for link, target := range map[string]string{
		"abs":             outside,                     // an absolute symlink to a host directory
		"rel":             "../outside",                // a relative one, out by ".."
		"dangling":        outside + "/new/sub",        // to a host path that does not exist
		"self":            "/proc/self/root" + outside, // through a magic link
		"dev/null":        outside + "/file",           // a /dev/null that is not the null device
		"etc/up":          "../../../../../../" + tmp,  // many ".."
		"hostetc":         "/etc",                      // a mount target that is a symlink
		"etc/resolv.conf": "../run/resolve/stub.conf",  // a file bind's target, dangling
		"etc/hostname":    outside + "/hostname",       // the same, to a host path
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, link)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	p := &Plan{Flags: FlagExplain}
	privateRoot(p)
	p.Add("root", OpSetRoot, nil, b(root))
	p.Add("mkdir", OpMkdir, []uint64{0o755}, b("/abs/made"))
	p.Add("mkdir", OpMkdir, []uint64{0o755}, b("/../../../../escape"))
	p.Add("mkdir", OpMkdir, []uint64{0o755}, b("/dangling/made"))
	p.Add("write", OpWriteFile, []uint64{FlagIgnoreMissing}, b("/abs/file"), b("changed"))
	p.Add("write", OpWriteFile, []uint64{FlagIgnoreMissing}, b("/rel/file"), b("changed"))
	p.Add("write", OpWriteFile, []uint64{FlagIgnoreMissing}, b("/etc/up/outside/file"), b("changed"))
	p.Add("devices", OpMknod, []uint64{unix.S_IFIFO | 0o600, 0, 0, 0}, b("/rel/fifo"))
	p.Add("devices", OpSymlink, nil, b("/etc/x"), b("/abs/link"))
	p.Add("mounts", OpMount, []uint64{0, FlagMkdir}, b("tmpfs"), b("/abs/mnt"), b("tmpfs"), nil)
	p.Add("mounts", OpMount, []uint64{0, FlagMkdir}, b("tmpfs"), b("/dangling/mnt"), b("tmpfs"), nil)
	p.Add("mounts", OpMount, []uint64{0, FlagMkdir}, b("proc"), b("/proc"), b("proc"), nil)
	p.Add("mounts", OpMount, []uint64{unix.MS_BIND, FlagMkfile}, b(tmp+"/bound"), b("/etc/resolv.conf"), nil, nil)
	p.Add("mounts", OpMount, []uint64{unix.MS_BIND, FlagMkfile}, b(tmp+"/bound"), b("/etc/hostname"), nil, nil)
	p.Add("mounts", OpMount, []uint64{unix.MS_BIND, 0}, b("/etc"), b("/hostetc"), nil, nil)
	wait := len(p.Ops)
	p.Add("go", OpWaitGo, nil)
	p.Add("masked-paths", OpMask, nil, b("/masked"))
	var etc unix.Stat_t
	if err := unix.Stat("/etc", &etc); err != nil {
		t.Fatal(err)
	}
	run := runPlan(t, p, runOpt{At: func(pid, i int) bool {
		// In the init's mount namespace: the tmpfs is in the root, and so
		// is the host's /etc bound on /hostetc.
		r := "/proc/" + strconv.Itoa(pid) + "/root"
		for _, f := range []string{root + "/run/resolve/stub.conf", root + outside + "/hostname"} {
			if got, err := os.ReadFile(r + f); string(got) != "bound\n" {
				t.Errorf("a file bound through a dangling symlink, %s: %q, %v", f, got, err)
			}
		}
		var st unix.Stat_t
		if err := unix.Stat(r+root+"/etc", &st); err != nil || st.Dev != etc.Dev || st.Ino != etc.Ino {
			t.Errorf("the root's /etc is not the host's /etc bound there: %v", err)
		}
		for path, want := range map[string]int64{
			outside + "/mnt":                0,
			outside + "/new/sub/mnt":        0,
			root + outside + "/mnt":         unix.TMPFS_MAGIC,
			root + outside + "/new/sub/mnt": unix.TMPFS_MAGIC,
		} {
			var fs unix.Statfs_t
			err := unix.Statfs(r+path, &fs)
			if want == 0 && err == nil || want != 0 && (err != nil || fs.Type != want) {
				t.Errorf("in the init's view, %s: %v, fs type %#x (want it %s)", path, err, fs.Type,
					map[bool]string{true: "absent", false: "a tmpfs"}[want == 0])
			}
		}
		return true
	}})
	// The last op fails: /dev/null leads out of the root.
	if run.Status != 125 || run.Err == nil || run.Err.Index != uint32(len(p.Ops)-1) || run.Err.Errno != unix.EINVAL ||
		!strings.Contains(run.Err.Detail, "not the null device") {
		t.Errorf("status %d, error %+v; want 125 and op %d refused: not the null device", run.Status, run.Err, len(p.Ops)-1)
	}
	if len(run.Reports) != wait+1 {
		t.Errorf("%d reports, want %d", len(run.Reports), wait+1)
	}
	for _, r := range run.Reports {
		if r.Errno != 0 && p.Ops[r.Index].Code != OpWriteFile {
			t.Errorf("op %d (%s %s) skipped", r.Index, p.Ops[r.Index].Code, p.Ops[r.Index].Strs)
		}
	}
	// Nothing outside changed: only its file, as it was.
	if ents, _ := os.ReadDir(outside); len(ents) != 1 {
		t.Errorf("outside the root: %v, want only file", ents)
	}
	if got, _ := os.ReadFile(outside + "/file"); string(got) != "orig" {
		t.Errorf("outside/file: %q, want orig", got)
	}
	if _, err := os.Stat(filepath.Join(tmp, "..", "escape")); err == nil {
		t.Errorf("%s was made", filepath.Join(tmp, "..", "escape"))
	}
	// What was made is inside.
	for _, f := range []string{"/escape", outside + "/made", outside + "/new/sub/made", outside + "/link", outside + "/mnt", "/outside/fifo"} {
		if _, err := os.Lstat(root + f); err != nil {
			t.Errorf("inside the root: %v", err)
		}
	}

	// Through /proc (mounted in the root), a magic link is refused.
	p = &Plan{}
	privateRoot(p)
	p.Add("root", OpSetRoot, nil, b(root))
	p.Add("mounts", OpMount, []uint64{0, FlagMkdir}, b("proc"), b("/proc"), b("proc"), nil)
	p.Add("mkdir", OpMkdir, []uint64{0o755}, b("/self/magic"))
	p.Add("mkdir", OpMkdir, []uint64{0o755}, b("/proc/self/root/magic"))
	run = runPlan(t, p, runOpt{})
	if run.Status != 125 || run.Err == nil || run.Err.Index != 3 || run.Err.Errno != unix.ELOOP {
		t.Errorf("status %d, error %+v; want 125 and op 3 refused (ELOOP)", run.Status, run.Err)
	}
	if _, err := os.Stat(outside + "/magic"); err == nil {
		t.Errorf("%s/magic was made", outside)
	}
}

// TestInterpRefusesMalformed: a plan that breaks the format is refused
// before anything is done: an Error frame (EINVAL, "malformed plan: ...",
// the index of the op at fault, or one past the last when it is the
// plan's), exit 125; a frame cut short by the parent's end is the parent
// gone: exit 125, nothing sent.
func TestInterpRefusesMalformed(t *testing.T) {
	tmp := t.TempDir()
	p := &Plan{Flags: FlagExplain}
	p.Add("root", OpSetRoot, nil, b(tmp))
	p.Add("mkdir", OpMkdir, []uint64{0o755}, b("/made"))
	p.Add("hostname", OpHostname, nil, b("box"))
	good, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// off[k] is where op k starts.
	var off []int
	for k := range p.Ops {
		q := &Plan{Ops: p.Ops[:k]}
		b, _ := q.Marshal()
		off = append(off, len(b))
	}
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	nul := &Plan{Flags: FlagExplain}
	nul.Add("root", OpSetRoot, nil, b(tmp))
	nul.Add("mkdir", OpMkdir, []uint64{0o755}, b("/made\x00/x"))
	withNUL, _ := nul.Marshal()
	const plan = 1 << 32 // the plan's fault: an index past the last op
	for _, c := range []struct {
		name  string
		frame []byte
		index int64 // the Error's op index; -1: no Error frame (the parent is gone)
		half  bool
	}{
		{"no magic", frame(kindConfig, edit(func(b []byte) []byte { b[0] = 'X'; return b })), plan, false},
		{"unknown op", frame(kindConfig, edit(func(b []byte) []byte { b[off[2]] = 200; return b })), 2, false},
		{"wrong shape", frame(kindConfig, edit(func(b []byte) []byte { b[off[2]+2] = 1; return b })), 2, false},
		{"string too long", frame(kindConfig, edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[off[2]+5+len("hostname"):], MaxStr+1)
			return b
		})), 2, false},
		{"truncated plan", frame(kindConfig, good[:len(good)-1]), 2, false},
		{"bytes after the last op", frame(kindConfig, append(append([]byte(nil), good...), 0)), plan, false},
		{"too many ops", frame(kindConfig, edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], MaxOps+1); return b })), plan, false},
		{"NUL in a path", frame(kindConfig, withNUL), 1, false},
		{"oversized frame", append(binary.BigEndian.AppendUint32(nil, MaxPlan+2), append([]byte{kindConfig}, good...)...), plan, false},
		{"not a Config frame", frame(kindGo, good), plan, false},
		{"truncated frame", frame(kindConfig, good)[:len(good)], -1, true},
		{"no frame", nil, -1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := c.frame
			if f == nil {
				f = []byte{}
			}
			run := runPlan(t, p, runOpt{Frame: f, HalfFrame: c.half})
			if run.Status != 125 {
				t.Errorf("exit status %d, want 125 (stderr %q)", run.Status, run.Stderr)
			}
			switch e := run.Err; {
			case c.index < 0 && len(run.Kinds) != 0:
				t.Errorf("frames %v, want none", run.Kinds)
			case c.index < 0:
			case e == nil || len(run.Kinds) != 1:
				t.Errorf("frames %v, want one Error", run.Kinds)
			case e.Errno != unix.EINVAL || e.Cause != 0 || !strings.HasPrefix(e.Detail, "malformed plan: "):
				t.Errorf("error %+v, want EINVAL, cause 0, malformed plan: ...", e)
			case c.index == plan && e.Index < uint32(len(p.Ops)), c.index != plan && int64(e.Index) != c.index:
				t.Errorf("error at op %d (%s), want %d", e.Index, e.Detail, c.index)
			default:
				t.Logf("refused: op %d: %s", e.Index, e.Detail)
			}
			if _, err := os.Stat(tmp + "/made"); err == nil {
				t.Error("an op ran")
			}
		})
	}
}

// TestInterpUnansweredWait: at a wait point that the parent never
// answers (it closes its end), the init exits 125 at once, silently, and
// nothing after it is done.
func TestInterpUnansweredWait(t *testing.T) {
	for _, code := range []Code{OpWaitGo, OpHooks, OpWaitStart} {
		t.Run(code.String(), func(t *testing.T) {
			tmp := t.TempDir()
			p := &Plan{}
			p.Add("root", OpSetRoot, nil, b(tmp))
			p.Add("mkdir", OpMkdir, []uint64{0o755}, b("/before"))
			p.Add("wait", code, nil)
			p.Add("mkdir", OpMkdir, []uint64{0o755}, b("/after"))
			var pid int
			run := runPlan(t, p, runOpt{At: func(p, i int) bool { pid = p; return false }})
			if run.Status != 125 || run.Err != nil {
				t.Errorf("status %d, error %+v, want 125 and no error frame", run.Status, run.Err)
			}
			if _, err := os.Stat(tmp + "/before"); err != nil {
				t.Errorf("the op before the wait: %v", err)
			}
			if _, err := os.Stat(tmp + "/after"); err == nil {
				t.Error("the op after the wait ran")
			}
			if pid == 0 {
				t.Fatal("the parent was not asked to answer")
			}
			if err := unix.Kill(pid, 0); err != unix.ESRCH {
				t.Errorf("the init (pid %d) is still there: %v", pid, err)
			}
		})
	}
}

// TestInterpFailure: a failing op is reported with its index, errno and
// detail, and the plan stops there (exit 125).
func TestInterpFailure(t *testing.T) {
	tmp := t.TempDir()
	mustWrite(t, tmp+"/dev/null", "not a device")
	p := &Plan{}
	p.Add("root", OpSetRoot, nil, b(tmp))
	p.Add("devices", OpMknod, []uint64{unix.S_IFCHR | 0o666, unix.Mkdev(1, 3), 0, 0}, b("/dev/null"))
	p.Add("mkdir", OpMkdir, []uint64{0o755}, b("/after"))
	run := runPlan(t, p, runOpt{})
	if run.Status != 125 || run.Err == nil || run.Err.Index != 1 || run.Err.Errno != unix.EEXIST ||
		!strings.Contains(run.Err.Detail, "not the requested device (character device 1:3)") {
		t.Errorf("status %d, error %+v; want 125, op 1 EEXIST: not the requested device", run.Status, run.Err)
	}
	if _, err := os.Stat(tmp + "/after"); err == nil {
		t.Error("the op after the failure ran")
	}
}

// TestInterpProcessAndNamespaces: the ops on the process's namespaces,
// files of its own and chroot.
func TestInterpProcessAndNamespaces(t *testing.T) {
	tmp := t.TempDir()
	p := &Plan{Flags: FlagExplain}
	p.Add("ipc", OpUnshare, []uint64{unix.CLONE_NEWIPC}, nil...)
	p.Add("net", OpSetns, []uint64{unix.CLONE_NEWNET}, b("/proc/"+strconv.Itoa(os.Getpid())+"/ns/net"))
	p.Add("domainname", OpDomainname, nil, b("example.org"))
	p.Add("no_new_privs", OpPrctl, []uint64{unix.PR_SET_NO_NEW_PRIVS, 1}, nil...)
	p.Add("oom_score_adj", OpWriteFile, []uint64{FlagHost}, b("/proc/self/oom_score_adj"), b("500"))
	p.Add("root", OpSetRoot, nil, b(tmp))
	p.Add("chroot", OpChroot, nil)
	p.Add("cwd", OpChdir, []uint64{FlagMkdir}, b("/w/d"))
	p.Add("go", OpWaitGo, nil)
	checked := false
	run := runPlan(t, p, runOpt{At: func(pid, i int) bool {
		checked = true
		proc := "/proc/" + strconv.Itoa(pid)
		for _, ns := range []struct {
			name string
			same bool
		}{{"ipc", false}, {"net", true}} {
			own, _ := os.Readlink("/proc/self/ns/" + ns.name)
			its, err := os.Readlink(proc + "/ns/" + ns.name)
			if err != nil || (own == its) != ns.same {
				t.Errorf("%s namespace %s (%v), ours %s: want them %s", ns.name, its, err, own, map[bool]string{true: "the same", false: "apart"}[ns.same])
			}
		}
		inNS(t, pid, unix.CLONE_NEWUTS, func() {
			var u unix.Utsname
			if unix.Uname(&u); unix.ByteSliceToString(u.Domainname[:]) != "example.org" {
				t.Errorf("domainname %q, want example.org", unix.ByteSliceToString(u.Domainname[:]))
			}
		})
		if status, err := os.ReadFile(proc + "/status"); !strings.Contains(string(status), "NoNewPrivs:\t1") {
			t.Errorf("no_new_privs not set: %v", err)
		}
		if adj, err := os.ReadFile(proc + "/oom_score_adj"); strings.TrimSpace(string(adj)) != "500" {
			t.Errorf("oom_score_adj %q (%v), want 500", adj, err)
		}
		if r, err := os.Readlink(proc + "/root"); r != tmp {
			t.Errorf("root %q (%v), want %s", r, err, tmp)
		}
		if cwd, err := os.Readlink(proc + "/cwd"); cwd != tmp+"/w/d" {
			t.Errorf("cwd %q (%v), want %s/w/d", cwd, err, tmp)
		}
		return true
	}})
	if run.Status != 0 || run.Err != nil || !checked || len(run.Reports) != len(p.Ops) {
		t.Errorf("status %d, error %+v, checked %v, %d reports (want %d); stderr %q", run.Status, run.Err, checked, len(run.Reports), len(p.Ops), run.Stderr)
	}
}
