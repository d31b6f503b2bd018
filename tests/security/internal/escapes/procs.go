package escapes

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Other processes: the host's (which must be invisible), PID 1, their file
// descriptors, and the runtime's binary.

func init() {
	register("ptrace-host", "PTRACE_SEIZE a host process (ESCAPE_HOST_PIDS)", true, ptraceHostCase)
	register("ptrace-pid1", "PTRACE_SEIZE PID 1 from a child running as root (Docker allows it)", true, func() result {
		return ptracePID1(nil)
	})
	register("ptrace-pid1-nobody", "PTRACE_SEIZE PID 1 from a child running as nobody (65534)", true, func() result {
		return ptracePID1(&syscall.Credential{Uid: 65534, Gid: 65534})
	})
	register("proc-fds", "walk /proc/*/fd for descriptors that lead outside the container", true, procFdsCase)
	register("proc-1-environ", "read /proc/1/environ: PID 1 must be the container's, no host process visible", true, procEnvironCase)
	register("proc-self-exe-write", "open /proc/self/exe for writing", true, func() result {
		fd, err := unix.Open("/proc/self/exe", unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return failed(err, "")
		}
		unix.Close(fd)
		return ok("own binary opened for writing (nothing written)")
	})
	register("exe-overwrite", "CVE-2019-5736: hold the runtime's binary through /proc/PID/exe of an exec'd runtime process and open it for writing (never written)", true, exeOverwriteCase)
}

// ptraceHostCase tries to seize each host PID that is not also a PID in
// this namespace. A seized tracee is released when this process exits,
// and PTRACE_SEIZE (unlike PTRACE_ATTACH) does not stop it.
func ptraceHostCase() result {
	var tried []string
	for _, f := range strings.Split(os.Getenv("ESCAPE_HOST_PIDS"), ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || pid <= 1 {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			tried = append(tried, f+"(also a container pid: skipped)")
			continue
		}
		runtime.LockOSThread()
		err = unix.PtraceSeize(pid)
		if err == nil {
			return ok("seized host pid %d", pid)
		}
		return failed(err, "host pid %d", pid)
	}
	return refuse("no host pid to try (ESCAPE_HOST_PIDS=%q %v)", os.Getenv("ESCAPE_HOST_PIDS"), tried)
}

// ptracePID1 runs this program as "__ptrace 1" in a child, with cred if
// not nil, and reports what the child's PTRACE_SEIZE of PID 1 gave.
func ptracePID1(cred *syscall.Credential) result {
	if os.Getpid() != 1 {
		return refuse("I am not PID 1 (pid %d)", os.Getpid())
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"escape", "__ptrace", "1"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return failed(err, "the child: %v %s", err, strings.TrimSpace(out.String()))
	}
	line := strings.TrimSpace(out.String())
	who := "root"
	if cred != nil {
		who = fmt.Sprintf("uid %d", cred.Uid)
	}
	if name, found := strings.CutPrefix(line, "errno="); found {
		return result{errno: errnoByName(name), detail: "from a child running as " + who}
	}
	return ok("a child running as %s seized PID 1", who)
}

// errnoByName is the errno called name (EIO for an unknown name).
func errnoByName(name string) unix.Errno {
	for e := unix.Errno(1); e < 256; e++ {
		if unix.ErrnoName(e) == name {
			return e
		}
	}
	return unix.EIO
}

// ptraceChild is "__ptrace PID": seize PID and print ok or errno=NAME.
// The tracee is released when this process exits, at once.
func ptraceChild(args []string) int {
	if len(args) != 1 {
		return 2
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		return 2
	}
	runtime.LockOSThread()
	if err := unix.PtraceSeize(pid); err != nil {
		fmt.Printf("errno=%s\n", errnoName(errnoOf(err)))
		return 0
	}
	fmt.Println("ok")
	return 0
}

// procFdsCase lists the descriptors of every visible process. Those above
// stderr that are pipes, sockets or files outside the container's root
// (a path whose file here is another one) are leaks; anonymous inodes
// (epoll, pidfd, eventfd) are the process's own.
func procFdsCase() result {
	self := os.Getpid()
	var seen, leaked []string
	for _, pid := range pids() {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		dirfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			seen = append(seen, fmt.Sprintf("pid%d:unreadable(%s)", pid, errnoName(errnoOf(err))))
			continue
		}
		names, err := readDirNames(dirfd)
		if err != nil {
			unix.Close(dirfd)
			return failed(err, "read %s", dir)
		}
		var fds []string
		for _, name := range names {
			fd, err := strconv.Atoi(name)
			if err != nil || (pid == self && fd == dirfd) {
				continue
			}
			target := fdTarget(pid, fd)
			fds = append(fds, name)
			if fd <= 2 || strings.HasPrefix(target, "anon_inode:") {
				continue
			}
			if strings.HasPrefix(target, "/") && sameFile(fmt.Sprintf("%s/%d", dir, fd), target) {
				continue
			}
			leaked = append(leaked, fmt.Sprintf("pid%d:%d->%s", pid, fd, target))
		}
		unix.Close(dirfd)
		seen = append(seen, fmt.Sprintf("pid%d:%s", pid, strings.Join(fds, ",")))
	}
	l := "none"
	if len(leaked) > 0 {
		l = strings.Join(leaked, ",")
	}
	return ok("leaked=%s fds=%s", l, strings.Join(seen, ";"))
}

func readDirNames(dirfd int) ([]string, error) {
	var names []string
	buf := make([]byte, 8192)
	for {
		n, err := unix.ReadDirent(dirfd, buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

// sameFile reports whether two paths name the same inode.
func sameFile(a, b string) bool {
	var sa, sb unix.Stat_t
	if unix.Stat(a, &sa) != nil || unix.Stat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// procEnvironCase reads PID 1's environment and counts visible processes
// in another PID namespace (host processes).
func procEnvironCase() result {
	env, err := os.ReadFile("/proc/1/environ")
	if err != nil {
		return failed(err, "")
	}
	pid1 := "self"
	if os.Getpid() != 1 {
		cmd, _ := os.ReadFile("/proc/1/cmdline")
		pid1 = "other(" + strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " ") + ")"
	}
	own, _ := os.Readlink("/proc/self/ns/pid")
	foreign := 0
	for _, pid := range pids() {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err == nil && l != own {
			foreign++
		}
	}
	return ok("pid1=%s foreign-pids=%d environ-bytes=%d", pid1, foreign, len(env))
}

// exeOverwriteCase is CVE-2019-5736 from the container's side, as PID 1.
// The test execs short processes into this container (minimal-runc exec)
// again and again; each is the runtime's binary until it execs its
// program. This process watches /proc for them and tries to hold one's
// /proc/PID/exe with O_PATH: while the runtime keeps more capabilities than
// the container or is not dumpable, the kernel answers EACCES or EPERM. It
// writes ESCAPE_GO_FILE.grabbed when it holds one; once the test creates
// ESCAPE_GO_FILE (no runtime process is left on the host then), it waits
// for the process to be gone and opens the held binary for writing through
// /proc/self/fd, without O_TRUNC, and never writes: ok target=host-binary
// means the host's runtime binary could have been overwritten. Sealing (a
// read-only or sealed copy) makes that open fail, or the binary held is a
// copy (target=copy).
func exeOverwriteCase() result {
	runtimeID := os.Getenv("ESCAPE_RUNTIME")
	goFile := os.Getenv("ESCAPE_GO_FILE")
	if runtimeID == "" || goFile == "" {
		return refuse("ESCAPE_RUNTIME and ESCAPE_GO_FILE must be set")
	}
	var own unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &own); err != nil {
		return failed(err, "stat my own exe")
	}
	self := os.Getpid()
	deadline := time.Now().Add(60 * time.Second)
	seen := map[int]bool{}
	denied := map[string]int{}
	pid, fd := 0, -1
	for time.Now().Before(deadline) {
		if _, err := os.Stat(goFile); err == nil {
			break
		}
		if fd >= 0 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		for _, p := range pids() {
			if p == self {
				continue
			}
			seen[p] = true
			f, err := unix.Open(fmt.Sprintf("/proc/%d/exe", p), unix.O_PATH|unix.O_CLOEXEC, 0)
			if err != nil {
				denied[errnoName(errnoOf(err))]++
				continue
			}
			var st unix.Stat_t
			if unix.Fstat(f, &st) != nil || st.Dev == own.Dev && st.Ino == own.Ino {
				unix.Close(f) // the program the runtime exec'd: this binary
				continue
			}
			pid, fd = p, f
			_ = os.WriteFile(goFile+".grabbed", nil, 0o644)
			break
		}
	}
	if _, err := os.Stat(goFile); err != nil {
		return refuse("the test never created %s", goFile)
	}
	tried := fmt.Sprintf("processes-seen=%d exe-denied=%v", len(seen), denied)
	if fd < 0 {
		switch {
		case denied["EACCES"] > 0:
			return failed(unix.EACCES, "never held a runtime process's exe: %s", tried)
		case denied["EPERM"] > 0:
			return failed(unix.EPERM, "never held a runtime process's exe: %s", tried)
		}
		return refuse("no runtime process was caught (%s)", tried)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return failed(err, "fstat the held exe")
	}
	target := "host-binary"
	if fmt.Sprintf("%d:%d", st.Dev, st.Ino) != runtimeID {
		link, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		target = "copy(" + strings.ReplaceAll(link, " ", "_") + ")"
	}
	var ws unix.WaitStatus
	_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			break
		}
		_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		time.Sleep(5 * time.Millisecond)
	}
	detail := fmt.Sprintf("target=%s %s", target, tried)
	if err := openForWriting(fd); err != nil {
		return failed(err, "%s", detail)
	}
	return ok("%s opened-for-writing (nothing written)", detail)
}

// openForWriting reopens the O_PATH descriptor fd for writing, without
// O_TRUNC, and closes it at once: nothing is written.
func openForWriting(fd int) error {
	w, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	unix.Close(w)
	return nil
}
