package namespaces

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ErrNoProcessInUserNS says that no process is in a user namespace
// (JoinedUser): its maps can't be read from /proc.
var ErrNoProcessInUserNS = errors.New("no process is in it to read its uid_map and gid_map from")

// JoinedUserNS is what a user namespace joined by path is, as read from
// a process in it (JoinedUser).
type JoinedUserNS struct {
	// UID and GID are its uid_map and gid_map, as this process's user
	// namespace sees them (host ids, for a runtime in the host's).
	UID, GID []specs.LinuxIDMapping
	// SetgroupsDenied: its setgroups file says "deny" (as a namespace
	// whose maps an unprivileged process wrote must): setgroups(2) is
	// refused there, so a process in it keeps the groups it came with.
	SetgroupsDenied bool
}

// JoinedUser reads the user namespace at path (a namespace file:
// /proc/PID/ns/user, or a bind mount of one) from a process in it: PID
// when path names /proc/PID/ns/user, else the first process in /proc
// that is in it. A namespace no process is in (one kept by a bind mount
// alone) gives ErrNoProcessInUserNS. A file that is not a user namespace
// is an error naming what it is.
func JoinedUser(path string) (JoinedUserNS, error) {
	var j JoinedUserNS
	fd, err := open(specs.LinuxNamespace{Type: specs.UserNamespace, Path: path})
	if err != nil {
		return j, err
	}
	var want unix.Stat_t
	err = unix.Fstat(fd, &want)
	unix.Close(fd)
	if err != nil {
		return j, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	for _, pid := range candidates(path) {
		if j, ok := readUserNS(pid, want); ok {
			return j, nil
		}
	}
	return j, fmt.Errorf("namespace user: %s: %w", path, ErrNoProcessInUserNS)
}

// candidates lists the pids to look for a user namespace in: the one
// path names first (/proc/PID/ns/user, /proc/PID/task/TID/ns/user), then
// every process.
func candidates(path string) []string {
	var pids []string
	if rest, ok := strings.CutPrefix(filepath.Clean(path), "/proc/"); ok {
		if pid, _, ok := strings.Cut(rest, "/"); ok {
			if _, err := strconv.Atoi(pid); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	all, err := os.ReadDir("/proc")
	if err != nil {
		return pids
	}
	for _, e := range all {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// readUserNS reads pid's uid_map, gid_map and setgroups when its user
// namespace is the file of want, and still is once they are read (a pid
// that ended and was reused in between is not taken).
func readUserNS(pid string, want unix.Stat_t) (JoinedUserNS, bool) {
	var j JoinedUserNS
	in := func() bool {
		var st unix.Stat_t
		return unix.Stat("/proc/"+pid+"/ns/user", &st) == nil && st.Dev == want.Dev && st.Ino == want.Ino
	}
	if !in() {
		return j, false
	}
	u, uerr := os.ReadFile("/proc/" + pid + "/uid_map")
	g, gerr := os.ReadFile("/proc/" + pid + "/gid_map")
	deny, serr := setgroupsDenied(pid)
	if uerr != nil || gerr != nil || serr != nil || !in() {
		return j, false
	}
	j.UID, uerr = ParseIDMap(u)
	j.GID, gerr = ParseIDMap(g)
	j.SetgroupsDenied = deny
	return j, uerr == nil && gerr == nil
}

// SetgroupsDenied says whether the user namespace of process pid refuses
// setgroups(2): its setgroups file says "deny" (as a namespace whose
// maps an unprivileged process wrote must). The runtime asks the
// container's init itself once it is in its user namespace, which also
// answers for a namespace that only a bind mount keeps.
func SetgroupsDenied(pid int) (bool, error) {
	return setgroupsDenied(strconv.Itoa(pid))
}

func setgroupsDenied(pid string) (bool, error) {
	b, err := os.ReadFile("/proc/" + pid + "/setgroups")
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(string(b)) == "deny", nil
}

// ParseIDMap reads the text of a uid_map or gid_map: lines of "INSIDE
// OUTSIDE COUNT".
func ParseIDMap(b []byte) ([]specs.LinuxIDMapping, error) {
	var out []specs.LinuxIDMapping
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		var n [3]uint64
		if len(f) != 3 {
			return nil, fmt.Errorf("id map line %q: want INSIDE OUTSIDE COUNT", l)
		}
		for i := range f {
			v, err := strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("id map line %q: %w", l, err)
			}
			n[i] = v
		}
		out = append(out, specs.LinuxIDMapping{ContainerID: uint32(n[0]), HostID: uint32(n[1]), Size: uint32(n[2])})
	}
	return out, nil
}

// MapText writes id maps as uid_map shows them, lines joined by ", ";
// none is "none".
func MapText(m []specs.LinuxIDMapping) string {
	if len(m) == 0 {
		return "none"
	}
	out := make([]string, len(m))
	for i, r := range m {
		out[i] = fmt.Sprintf("%d %d %d", r.ContainerID, r.HostID, r.Size)
	}
	return strings.Join(out, ", ")
}
