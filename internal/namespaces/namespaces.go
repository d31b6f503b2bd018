// Package namespaces maps the spec's namespace types to clone flags,
// checks the paths of existing ones to join (linux.namespaces[].path; the
// init joins them, in Joinable's order), and starts a process in a pid
// namespace given by path (ForkInPID). For
// --explain, CloneFlagNames names clone flags and Describe says which
// process made or joined each namespace.
package namespaces

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Flags is the kernel's table: namespace type -> clone flag.
var Flags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// Joinable lists, in the order the init joins them (the plan's setns ops:
// initproc), the types that the init joins by path. The mount
// namespace comes last: joining it changes the thread's root and working
// directory, so every namespace file is opened before it (in the
// runtime's mount namespace, where the config's paths are meant). The pid
// namespace is not here: joining one moves only the caller's later
// children, so the parent starts the init inside it (ForkInPID).
var Joinable = []specs.LinuxNamespaceType{
	specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace, specs.CgroupNamespace, specs.MountNamespace,
}

// CloneFlags checks the namespaces and returns the flags for those to
// create at clone time. The cgroup namespace is left out: the child
// unshares it once the parent has moved it into its cgroup, so that the
// namespace's root is the container's cgroup. Those with a path are left
// out too: the child joins them (Joinable), or, for pid, is started inside
// (ForkInPID); a user namespace by path is joined by the helper's
// constructor, which then makes the namespaces of these flags with
// unshare(2) instead of the clone (JoinsUser). CloneFlags reads no file:
// CheckPaths checks the paths.
func CloneFlags(ns []specs.LinuxNamespace) (uintptr, error) {
	var flags uintptr
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, n := range ns {
		f, ok := Flags[n.Type]
		if !ok {
			return 0, fmt.Errorf("namespace %q: unknown type", n.Type)
		}
		if seen[n.Type] {
			return 0, fmt.Errorf("namespace %s: listed twice", n.Type)
		}
		seen[n.Type] = true
		if n.Type == specs.TimeNamespace {
			return 0, fmt.Errorf("namespace %s: not supported yet", n.Type)
		}
		if n.Path != "" {
			if n.Type != specs.PIDNamespace && n.Type != specs.UserNamespace && !slices.Contains(Joinable, n.Type) {
				return 0, fmt.Errorf("namespace %s: joining by path (%s) is not supported", n.Type, n.Path)
			}
			if !filepath.IsAbs(n.Path) {
				return 0, fmt.Errorf("namespace %s: path %q is not absolute", n.Type, n.Path)
			}
			continue
		}
		if n.Type == specs.CgroupNamespace {
			continue
		}
		flags |= f
	}
	return flags, nil
}

// Has reports whether the spec asks for a new namespace of type t.
func Has(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) bool {
	for _, n := range ns {
		if n.Type == t && n.Path == "" {
			return true
		}
	}
	return false
}

// In reports whether the container has a namespace of type t of its own
// choosing: a new one, or one joined by path.
func In(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) bool {
	for _, n := range ns {
		if n.Type == t {
			return true
		}
	}
	return false
}

// SharesMounts reports whether a container with these namespaces has no
// mount namespace of its own (new or joined by path): it shares its
// caller's mount table, which the runtime must never change (the init
// then chroots and mounts nothing).
func SharesMounts(ns []specs.LinuxNamespace) bool { return !In(ns, specs.MountNamespace) }

// JoinsUser reports whether the user namespace is to be joined by path:
// the init is then started by the helper's constructor, which joins it
// (and the pid namespace, when given by path), and makes the new
// namespaces (CloneFlags' flags) with unshare(2), so that the joined user
// namespace owns them (package nsenter, Cmd.Init).
//
// A path that names the runtime's own user namespace is no join (setns
// refuses it, EINVAL): the container is then in that namespace, as
// without a user namespace in the config.
func JoinsUser(ns []specs.LinuxNamespace) bool {
	p := PathOf(ns, specs.UserNamespace)
	if p == "" {
		return false
	}
	fi, err := os.Stat(p)
	if err != nil {
		return true // let the join say what is wrong
	}
	own, err := IsOwn(fi, "user")
	return err != nil || !own
}

// IsOwn reports whether fi is this process's own namespace of the type
// name (as in /proc/self/ns: "user", "mnt", ...); false where the kernel
// has no such namespace.
func IsOwn(fi os.FileInfo, name string) (bool, error) {
	ours, err := os.Stat("/proc/self/ns/" + name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, ours), nil
}

// Joins reports whether any namespace is to be joined by path.
func Joins(ns []specs.LinuxNamespace) bool {
	for _, n := range ns {
		if n.Path != "" {
			return true
		}
	}
	return false
}

// PathOf is the path of the namespace of type t to join, or "".
func PathOf(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) string {
	for _, n := range ns {
		if n.Type == t {
			return n.Path
		}
	}
	return ""
}

// CheckPaths checks that each namespace given by path is a namespace file
// (nsfs) of its type, so that a wrong path is refused with its name before
// anything is made (setns alone says only EINVAL, in the child).
func CheckPaths(ns []specs.LinuxNamespace) error {
	for _, n := range ns {
		if n.Path == "" {
			continue
		}
		fd, err := open(n)
		if err != nil {
			return err
		}
		if n.Type == specs.MountNamespace {
			err = notCallersMounts(fd, n.Path)
		}
		unix.Close(fd)
		if err != nil {
			return err
		}
	}
	return nil
}

// callersMountNS are the mount namespaces a container must never join:
// the init sets its rootfs up in a joined one (propagation, mounts,
// pivot_root), which would change the runtime's own mount table or the
// host's (pid 1's). To share the caller's mount table, a config leaves the
// mount namespace out (the init then only chroots).
var callersMountNS = []string{"/proc/self/ns/mnt", "/proc/1/ns/mnt"}

// notCallersMounts refuses fd (a mount namespace opened from path) when it
// is the runtime's own or the host's.
func notCallersMounts(fd int, path string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: path, Err: err}
	}
	for _, p := range callersMountNS {
		var own unix.Stat_t
		if err := unix.Stat(p, &own); err != nil {
			continue // no such process (pid 1 out of sight): nothing to compare
		}
		if own.Dev == st.Dev && own.Ino == st.Ino {
			return fmt.Errorf("namespace mount: %s is the mount namespace of the runtime or of the host (%s): the container would set its root up in it; leave the mount namespace out of linux.namespaces to share the caller's mount table", path, p)
		}
	}
	return nil
}

// open opens the namespace file of n and checks that it is one of n's type.
func open(n specs.LinuxNamespace) (int, error) {
	fd, err := unix.Open(n.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("namespace %s: %w", n.Type, &os.PathError{Op: "open", Path: n.Path, Err: err})
	}
	if err := checkType(fd, n); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// checkType checks that fd, opened from n.Path, is a namespace of n's type.
func checkType(fd int, n specs.LinuxNamespace) error {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil {
		return fmt.Errorf("namespace %s: %w", n.Type, &os.PathError{Op: "statfs", Path: n.Path, Err: err})
	}
	if fs.Type != unix.NSFS_MAGIC {
		return fmt.Errorf("namespace %s: %s is not a namespace file (such as /proc/PID/ns/%s)", n.Type, n.Path, ProcName(n.Type))
	}
	kind, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", n.Type, &os.PathError{Op: "ioctl(NS_GET_NSTYPE)", Path: n.Path, Err: err})
	}
	if uintptr(kind) != Flags[n.Type] {
		return fmt.Errorf("namespace %s: %s is a %s namespace, not a %s namespace", n.Type, n.Path, typeOf(uintptr(kind)), n.Type)
	}
	return nil
}

// typeOf names the namespace type of a clone flag.
func typeOf(flag uintptr) string {
	for t, f := range Flags {
		if f == flag {
			return string(t)
		}
	}
	return fmt.Sprintf("unknown (%#x)", flag)
}

// ProcName is t's name in /proc/PID/ns ("mnt" for mount, "net" for
// network, else the type's own name).
func ProcName(t specs.LinuxNamespaceType) string {
	switch t {
	case specs.MountNamespace:
		return "mnt"
	case specs.NetworkNamespace:
		return "net"
	}
	return string(t)
}

// ForkInPID calls fork, which starts a process (exec.Cmd.Start), on a
// locked OS thread whose pid namespace for children is the one at path
// (OnThreadIn), so that the process starts in that namespace: setns into
// a pid namespace moves only the caller's later children, and Go forks
// from the calling thread.
//
// A process started so is not its namespace's init (pid 1): it is one
// more process in it, and dies with the namespace's init.
func ForkInPID(path string, fork func() error) error {
	return OnThreadIn(specs.LinuxNamespace{Type: specs.PIDNamespace, Path: path}, func() error {
		err := fork()
		if errors.Is(err, unix.ENOMEM) {
			// What fork says in a pid namespace whose init has exited.
			err = fmt.Errorf("%w (namespace pid: %s has no init left: it exited)", err, path)
		}
		return err
	})
}

// OnThreadIn calls f on a locked OS thread moved into namespace n (its
// type's only: a pid namespace is the one for children), then puts the
// thread back in its own namespace and unlocks it. A thread must not
// end while the process runs: a child started from it with a
// parent-death signal (a container's init) would be killed with it; so
// only if it can't go back does it stay locked, and end with its
// goroutine (the Go runtime never reuses it), and OnThreadIn fails. (A
// mount or user namespace can't be joined by a thread of a Go process.)
func OnThreadIn(n specs.LinuxNamespace, f func() error) error {
	target, err := open(n)
	if err != nil {
		return err
	}
	defer unix.Close(target)
	ownPath := "/proc/thread-self/ns/" + ProcName(n.Type)
	if n.Type == specs.PIDNamespace {
		ownPath += "_for_children"
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		own, err := unix.Open(ownPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("namespace %s: %w", n.Type, &os.PathError{Op: "open", Path: ownPath, Err: err})
			return
		}
		defer unix.Close(own)
		if err := unix.Setns(target, int(Flags[n.Type])); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("namespace %s: %w", n.Type, &os.PathError{Op: "setns", Path: n.Path, Err: err})
			return
		}
		ferr := f()
		if err := unix.Setns(own, int(Flags[n.Type])); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("namespace %s: back to this process's own: %w", n.Type, os.NewSyscallError("setns", err)))
			return // the thread ends locked
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
