// Package escapes is the body of the escape helper (tests/security/escape):
// a table of named escape attempts, each run from inside a container and
// reported on one line of stdout:
//
//	CASE errno=NAME [DETAIL]    the attempt failed with errno NAME
//	CASE ok [DETAIL]            it succeeded; DETAIL says what it saw
//	CASE refused: WHY           not attempted, because it could have
//	                            changed the host
//
// The test (tests/security) compares the line with the outcome it expects.
//
// Every attempt leaves the host unchanged even if a bug lets it through: the
// clock is set to the time it already reads, a file gets back the bytes it
// holds, reboot is asked only for LINUX_REBOOT_CMD_CAD_OFF (which a child
// PID namespace answers with EINVAL), accounting is switched off at once,
// devices are opened read-only and nothing is read or written through
// them, kexec_load gets no segments (and is
// refused while an image is loaded), init_module gets bytes that are no
// module, and the runtime's binary is opened for writing but never written.
// Before any attempt, Main checks that the process's PID, mount and UTS
// namespaces are not the host's (named by the environment variable
// ESCAPE_HOST_NS) and refuses otherwise.
//
// The environment the test passes:
//
//	ESCAPE_HOST_NS      "pid:[N] mnt:[N] uts:[N]": the host's namespaces
//	ESCAPE_HOST_PIDS    host PIDs to try ptrace on (the test and its parent)
//	ESCAPE_HOST_MARKER  a host file outside the rootfs: seeing it is escaping
//	ESCAPE_BLOCKDEV     MAJOR:MINOR of a host block device (mknod-block)
//	ESCAPE_CHARDEV      MAJOR:MINOR of a host character device that no
//	                    container gets by default (mknod-char)
//	ESCAPE_RUNTIME      DEV:INO of the runtime binary on the host (exe-overwrite)
//	ESCAPE_GO_FILE      a file the test creates when the runtime has exited
//	ESCAPE_ETC_ID       DEV:INO of the host's /etc (etc-probe)
package escapes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// result is what one attempt came to.
type result struct {
	errno   unix.Errno // 0: the attempt succeeded
	detail  string
	refused string // not attempted, and why
}

func (r result) String() string {
	if r.refused != "" {
		return "refused: " + r.refused
	}
	s := "ok"
	if r.errno != 0 {
		s = "errno=" + errnoName(r.errno)
	}
	if r.detail != "" {
		s += " " + r.detail
	}
	return s
}

// ok is a successful attempt.
func ok(format string, args ...any) result {
	return result{detail: fmt.Sprintf(format, args...)}
}

// failed is an attempt that failed with err; format describes where.
func failed(err error, format string, args ...any) result {
	return result{errno: errnoOf(err), detail: fmt.Sprintf(format, args...)}
}

// refuse is an attempt not made.
func refuse(format string, args ...any) result {
	return result{refused: fmt.Sprintf(format, args...)}
}

// errnoOf digs the errno out of err; EIO marks an error without one (the
// detail then carries the error).
func errnoOf(err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

func errnoName(e unix.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("%d", int(e))
}

// attempt is one case: guarded attempts run only outside the host's
// namespaces.
type attempt struct {
	run     func() result
	guarded bool
	doc     string
}

// cases is every attempt by name; filled by the init functions of this
// package's files.
var cases = map[string]attempt{}

func register(name, doc string, guarded bool, run func() result) {
	if _, dup := cases[name]; dup {
		panic("escapes: case registered twice: " + name)
	}
	cases[name] = attempt{run: run, guarded: guarded, doc: doc}
}

// internal commands run as a child of a case (not cases themselves).
var internal = map[string]func(args []string) int{
	"__exit":   func([]string) int { return 0 },
	"__ptrace": ptraceChild,
}

// Names lists the cases.
func Names() []string {
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Main runs the case named by args[1] and returns the exit status: 0 when a
// line was reported (whatever the outcome), 2 for a usage error, 3 when the
// case was refused.
func Main(args []string) int {
	if len(args) >= 2 {
		if f := internal[args[1]]; f != nil {
			return f(args[2:])
		}
	}
	if len(args) == 2 && args[1] == "list" {
		for _, n := range Names() {
			fmt.Printf("%-28s %s\n", n, cases[n].doc)
		}
		return 0
	}
	if len(args) != 2 || cases[args[1]].run == nil {
		fmt.Fprintln(os.Stderr, "usage: escape CASE | escape list")
		return 2
	}
	name := args[1]
	c := cases[name]
	var r result
	if err := notOnHost(); c.guarded && err != nil {
		r = refuse("%v", err)
	} else {
		r = c.run()
	}
	fmt.Printf("%s %s\n", name, r)
	if r.refused != "" {
		return 3
	}
	return 0
}

// guardedKinds are the namespaces that must not be the host's.
var guardedKinds = []string{"pid", "mnt", "uts"}

// notOnHost checks that this process's PID, mount and UTS namespaces are
// not the host's ones named in ESCAPE_HOST_NS.
func notOnHost() error {
	spec := os.Getenv("ESCAPE_HOST_NS")
	if spec == "" {
		return errors.New("ESCAPE_HOST_NS is not set: run me from tests/security, which names the host's namespaces")
	}
	host := map[string]string{}
	for _, f := range strings.Fields(spec) {
		kind, id, ok := strings.Cut(f, ":")
		if ok {
			host[kind] = id
		}
	}
	for _, kind := range guardedKinds {
		link, err := os.Readlink(filepath.Join("/proc/self/ns", kind))
		if err != nil {
			return fmt.Errorf("cannot tell my %s namespace: %v", kind, err)
		}
		_, id, _ := strings.Cut(link, ":")
		if host[kind] == "" {
			return fmt.Errorf("ESCAPE_HOST_NS names no %s namespace", kind)
		}
		if id == host[kind] {
			return fmt.Errorf("my %s namespace %s is the host's: an attempt could change the host", kind, link)
		}
	}
	return nil
}

func init() {
	register("namespaces", "print this process's namespaces (the suite's first check)", false, func() result {
		var parts []string
		for _, kind := range []string{"pid", "mnt", "uts", "ipc", "net", "cgroup", "user"} {
			link, err := os.Readlink(filepath.Join("/proc/self/ns", kind))
			if err != nil {
				link = "?"
			}
			parts = append(parts, kind+"="+link)
		}
		return ok("%s", strings.Join(parts, " "))
	})
}
