package rootless

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// Every command of a rootless user must act in the same user namespace as
// the containers it acts on: a process of a sibling namespace can't join
// their namespaces (exec), signal their processes that are not the
// user's own uid (stop, kill), nor remove files of its subordinate ids
// (rm). Podman keeps a pause process for it. Here the containers
// themselves hold the namespace: each container's init that a rootless
// runtime starts is listed in $XDG_RUNTIME_DIR/minimal-docker/userns
// (Register), and Enter joins the namespace of the first one of them
// alive; only when none is does a command make a new namespace.
const holdersFile = "userns"

// EnvEntered marks a runtime that Enter started (and its children: the
// monitor, minimal-runc, hooks), as distinct from one that an engine
// runs in its own user namespace (Podman rootless).
const EnvEntered = "_MINIMAL_DOCKER_ROOTLESS"

// Entered says whether this runtime runs in a user namespace that Enter
// made or joined.
func Entered() bool { return Active() && os.Getenv(EnvEntered) == "1" }

// Register lists pid, a container's init in this process's user
// namespace or in one nested in it (keep-id's), as a holder of the
// namespace for later commands (a runtime that Enter did not start has
// nothing to do). Stale entries go at the same time.
func Register(pid int) error {
	if !Entered() || !withinUserNS(pid) {
		return nil
	}
	l, err := lockHolders()
	if err != nil {
		return err
	}
	defer l.close()
	return l.add(pid)
}

// holder is a process in the rootless user namespace: its pid and
// start time (proc.StartTime).
type holder struct {
	pid   int
	start uint64
}

// holders is the list, open and locked (exclusively) until close. Enter
// holds it from the look for a live holder to the listing of the
// namespace it makes, so that two first commands at once can't make two.
type holders struct {
	f    *os.File
	path string
}

// lockHolders opens the list and waits for its lock.
func lockHolders() (*holders, error) {
	dir, err := RuntimeDir(Name)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, holdersFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := ChownToOwner(path); err != nil { // the user's commands read it before they enter
		f.Close()
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return &holders{f: f, path: path}, nil
}

// close releases the list (and its lock); nil, or a second call, does
// nothing.
func (l *holders) close() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// update rewrites the list with the live entries that change returns;
// nil (or closed) does nothing.
func (l *holders) update(change func([]holder) []holder) error {
	if l == nil || l.f == nil {
		return nil
	}
	b, err := os.ReadFile(l.path)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	for _, h := range change(parseHolders(b)) {
		if alive, _ := proc.Alive(h.pid, h.start); alive {
			fmt.Fprintf(&out, "%d %d\n", h.pid, h.start)
		}
	}
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err = l.f.WriteAt(out.Bytes(), 0)
	return err
}

// add lists pid, a process of a namespace this process made.
func (l *holders) add(pid int) error {
	if l == nil {
		return nil
	}
	start, err := proc.StartTime(pid)
	if err != nil {
		return err
	}
	return l.update(func(hs []holder) []holder { return append(hs, holder{pid, start}) })
}

func parseHolders(b []byte) []holder {
	var hs []holder
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		pid, err1 := strconv.Atoi(f[0])
		start, err2 := strconv.ParseUint(f[1], 10, 64)
		if err1 == nil && err2 == nil && pid > 0 {
			hs = append(hs, holder{pid, start})
		}
	}
	return hs
}

// liveNS opens the user namespace of the first live holder that is
// this user's and not the host's; nil when there is none (or no list:
// nil). The list loses its dead entries.
func (l *holders) liveNS() *os.File {
	var ns *os.File
	_ = l.update(func(hs []holder) []holder {
		for _, h := range hs {
			if ns != nil {
				break
			}
			f, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", h.pid))
			if err != nil {
				continue
			}
			// Still the same process (not a reused pid), and its
			// namespace, or the one it is nested in, is one the user
			// owns: not the host's.
			if alive, _ := proc.Alive(h.pid, h.start); !alive {
				f.Close()
				continue
			}
			ns = upUserNS(f, ownedUserNS)
		}
		return hs
	})
	return ns
}

// ownedUserNS says whether f, a user namespace, is owned by this
// process's uid and is not this process's own.
func ownedUserNS(f *os.File) bool {
	uid, err := unix.IoctlGetUint32(int(f.Fd()), unix.NS_GET_OWNER_UID)
	if err != nil || int(uid) != os.Getuid() {
		return false
	}
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil || unix.Stat("/proc/self/ns/user", &b) != nil {
		return false
	}
	return a.Ino != b.Ino || a.Dev != b.Dev
}

// withinUserNS says whether pid is in this process's user namespace or
// in one nested in it.
func withinUserNS(pid int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		return false
	}
	var self unix.Stat_t
	if unix.Stat("/proc/self/ns/user", &self) != nil {
		f.Close()
		return false
	}
	ns := upUserNS(f, func(f *os.File) bool {
		var st unix.Stat_t
		return unix.Fstat(int(f.Fd()), &st) == nil && st.Ino == self.Ino && st.Dev == self.Dev
	})
	if ns == nil {
		return false
	}
	ns.Close()
	return true
}

// upUserNS walks from the user namespace f up its parents (ioctl
// NS_GET_PARENT) and returns the first that match says yes to, f itself
// included; nil when none does (the walk ends at the caller's scope).
// f is closed, or returned.
func upUserNS(f *os.File, match func(*os.File) bool) *os.File {
	for range 33 { // user namespaces nest 32 deep at most
		if match(f) {
			return f
		}
		fd, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_PARENT)
		f.Close()
		if err != nil {
			return nil
		}
		f = os.NewFile(uintptr(fd), "user namespace")
	}
	f.Close()
	return nil
}
