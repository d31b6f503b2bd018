package spec

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/caps"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/seccomp"
)

// DefaultCaps is Docker's default capability set: the bounding, effective
// and permitted sets of a container; inheritable and ambient stay empty
// (CVE-2022-29162).
var DefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// DefaultMaskedPaths are hidden from the container (Docker's list): files
// behind /dev/null, directories behind an empty read-only tmpfs.
var DefaultMaskedPaths = []string{
	"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore",
	"/proc/keys", "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi",
	"/proc/timer_list", "/proc/timer_stats", "/sys/firmware",
	"/sys/devices/virtual/powercap",
}

// DefaultReadonlyPaths are mounted read-only in the container (Docker's).
var DefaultReadonlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
}

// capSets is the process.capabilities of a container holding list.
func capSets(list []string) *specs.LinuxCapabilities {
	return &specs.LinuxCapabilities{
		Bounding:  slices.Clone(list),
		Effective: slices.Clone(list),
		Permitted: slices.Clone(list),
	}
}

// capName normalizes a Docker capability name: "net_admin", "NET_ADMIN"
// and "CAP_NET_ADMIN" are the same; "ALL" stays "ALL".
func capName(flag, name string) (string, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if n == "ALL" {
		return n, nil
	}
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	if _, ok := caps.Lookup(n); !ok {
		return "", fmt.Errorf("invalid %s %q: unknown capability (want a name such as NET_ADMIN, or ALL)", flag, name)
	}
	return n, nil
}

// WithCapAdd adds capabilities (Docker's --cap-add; ALL adds every one
// this runtime holds).
func WithCapAdd(names ...string) Option {
	return func(s *specs.Spec) error {
		set := capList(s)
		for _, name := range names {
			n, err := capName("--cap-add", name)
			if err != nil {
				return err
			}
			if n == "ALL" {
				all, err := heldCaps()
				if err != nil {
					return err
				}
				set = all
				continue
			}
			if !slices.Contains(set, n) {
				set = append(set, n)
			}
		}
		s.Process.Capabilities = capSets(set)
		return nil
	}
}

// WithCapDrop drops capabilities (Docker's --cap-drop; ALL drops every one).
func WithCapDrop(names ...string) Option {
	return func(s *specs.Spec) error {
		set := capList(s)
		for _, name := range names {
			n, err := capName("--cap-drop", name)
			if err != nil {
				return err
			}
			if n == "ALL" {
				set = nil
				continue
			}
			set = slices.DeleteFunc(set, func(c string) bool { return c == n })
		}
		s.Process.Capabilities = capSets(set)
		return nil
	}
}

func capList(s *specs.Spec) []string {
	if s.Process.Capabilities == nil {
		return nil
	}
	return slices.Clone(s.Process.Capabilities.Bounding)
}

// heldCaps lists every capability in this process's bounding set: what
// "all capabilities" can mean on this host (a host may withhold some, as
// these machines withhold CAP_SYS_RESOURCE).
func heldCaps() ([]string, error) {
	cur, err := caps.Current()
	if err != nil {
		return nil, fmt.Errorf("read the runtime's capabilities: %w", err)
	}
	var out []string
	for _, c := range cur.Bounding.Caps() {
		out = append(out, caps.Name(c))
	}
	return out, nil
}

// WithPrivileged gives the container every capability the runtime holds,
// no masked or read-only paths, and no seccomp filter, and lets it use
// every device through the device cgroup (Docker's --privileged). It does
// not bind the host's /dev.
func WithPrivileged() Option {
	return func(s *specs.Spec) error {
		all, err := heldCaps()
		if err != nil {
			return err
		}
		s.Process.Capabilities = capSets(all)
		s.Linux.MaskedPaths = nil
		s.Linux.ReadonlyPaths = nil
		s.Linux.Seccomp = nil
		if s.Linux.Resources != nil && s.Linux.Resources.Devices != nil {
			s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		}
		return nil
	}
}

// WithNoNewPrivileges sets process.noNewPrivileges (Docker's
// --security-opt no-new-privileges[=true|false]).
func WithNoNewPrivileges(on bool) Option {
	return func(s *specs.Spec) error {
		s.Process.NoNewPrivileges = on
		return nil
	}
}

// WithReadonlyRoot mounts the rootfs read-only (--read-only).
func WithReadonlyRoot() Option {
	return func(s *specs.Spec) error {
		s.Root.Readonly = true
		return nil
	}
}

// WithTmpfs mounts a tmpfs at PATH (Docker's --tmpfs PATH[:OPTIONS]); the
// default options are noexec, nosuid, nodev, which OPTIONS may override
// (each checked: CheckTmpfsFlag).
func WithTmpfs(arg string) Option {
	return func(s *specs.Spec) error {
		if err := CheckTmpfsFlag(arg); err != nil {
			return err
		}
		dest, opts, _ := strings.Cut(arg, ":")
		if !strings.HasPrefix(dest, "/") || dest == "/" {
			return fmt.Errorf("invalid --tmpfs %q: want an absolute PATH other than / with optional :OPTIONS", arg)
		}
		options := []string{"noexec", "nosuid", "nodev"}
		if opts != "" {
			options = append(options, strings.Split(opts, ",")...)
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: options})
		return nil
	}
}

// WithUser runs the process as USER[:GROUP] (Docker's -u): numbers (in
// range: CheckUserFlag), or names looked up in the rootfs's /etc/passwd
// and /etc/group; the user's supplementary groups from /etc/group are
// added.
func WithUser(arg string) Option { return WithUserInLayers(arg, nil) }

// WithUserInLayers is WithUser for an image's container, whose root is an
// overlay mounted only inside it: names are looked up in the image's
// layer directories (top first), as the overlay will show /etc/passwd and
// /etc/group. With no layers it reads the rootfs, as WithUser.
func WithUserInLayers(arg string, layers []string) Option {
	return func(s *specs.Spec) error {
		if err := CheckUserFlag("--user", arg); err != nil {
			return err
		}
		roots := layers
		if len(roots) == 0 {
			roots = []string{s.Root.Path}
		}
		u, err := LookupUser(arg, func(file string) (*os.File, error) {
			f, _, err := openInRoots(roots, file)
			return f, err
		})
		var missing *NoEntryError
		if errors.As(err, &missing) {
			return fmt.Errorf("invalid --user %q: no such %s in the rootfs's /etc/%s (want UID[:GID] or NAME[:GROUP])", arg, missing.Kind, missing.file())
		}
		if err != nil {
			return err
		}
		if home := u.Home; home != "" {
			s.Process.Env = setEnv(s.Process.Env, "HOME", "HOME="+home)
		}
		s.Process.User = u.User
		return nil
	}
}

// ResolvedUser is a process.user and the user's home directory (empty
// when /etc/passwd has no entry for a numeric uid).
type ResolvedUser struct {
	specs.User
	Home string
}

// NoEntryError is a user (Kind "user") or group name that /etc/passwd or
// /etc/group lacks; its text is Docker's.
type NoEntryError struct{ Kind, Name string }

func (e *NoEntryError) Error() string {
	return fmt.Sprintf("unable to find %s %s: no matching entries in %s file", e.Kind, e.Name, e.file())
}

func (e *NoEntryError) file() string {
	if e.Kind == "group" {
		return "group"
	}
	return "passwd"
}

// LookupUser resolves USER[:GROUP] (Docker's -u: numbers, or names)
// against /etc/passwd and /etc/group as open opens them (resolved inside
// a container's root: the caller's concern; a file that does not exist is
// an error wrapping os.ErrNotExist, and has no entries). A uid or a name
// in /etc/passwd gets its primary gid and home directory from there, and
// its supplementary groups from /etc/group's member lists, as runc and
// Docker do. A name that is not there is a *NoEntryError.
func LookupUser(arg string, open func(file string) (*os.File, error)) (ResolvedUser, error) {
	bad := func(why string) error {
		return fmt.Errorf("invalid --user %q: %s (want UID[:GID] or NAME[:GROUP])", arg, why)
	}
	name, group, hasGroup := strings.Cut(arg, ":")
	if name == "" || hasGroup && group == "" {
		return ResolvedUser{}, bad("empty user or group")
	}
	etc := opener(open)
	var u ResolvedUser
	var userName string
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		u.UID = uint32(n)
		u.GID = uint32(n)
		if e, ok, err := findEntry(etc, "/etc/passwd", func(f []string) bool { return len(f) > 3 && f[2] == name }); err != nil {
			return u, err
		} else if ok {
			userName = e[0]
			if u.GID, err = parseID(e[3], "/etc/passwd"); err != nil {
				return u, err
			}
			if len(e) > 5 {
				u.Home = e[5]
			}
		}
	} else {
		e, ok, err := findEntry(etc, "/etc/passwd", func(f []string) bool { return len(f) > 3 && f[0] == name })
		if err != nil {
			return u, err
		}
		if !ok {
			return u, &NoEntryError{Kind: "user", Name: name}
		}
		userName = name
		if u.UID, err = parseID(e[2], "/etc/passwd"); err != nil {
			return u, err
		}
		if u.GID, err = parseID(e[3], "/etc/passwd"); err != nil {
			return u, err
		}
		if len(e) > 5 {
			u.Home = e[5]
		}
	}
	if hasGroup {
		if n, err := strconv.ParseUint(group, 10, 32); err == nil {
			u.GID = uint32(n)
		} else {
			e, ok, err := findEntry(etc, "/etc/group", func(f []string) bool { return len(f) > 2 && f[0] == group })
			if err != nil {
				return u, err
			}
			if !ok {
				return u, &NoEntryError{Kind: "group", Name: group}
			}
			if u.GID, err = parseID(e[2], "/etc/group"); err != nil {
				return u, err
			}
		}
	}
	if userName != "" {
		extra, err := supplementaryGroups(etc, userName, u.GID)
		if err != nil {
			return u, err
		}
		u.AdditionalGids = extra
	}
	return u, nil
}

// opener opens a file of /etc for LookupUser.
type opener func(file string) (*os.File, error)

// supplementaryGroups lists the gids of /etc/group entries naming user.
func supplementaryGroups(etc opener, user string, primary uint32) ([]uint32, error) {
	var out []uint32
	_, _, err := findEntry(etc, "/etc/group", func(f []string) bool {
		if len(f) > 3 && slices.Contains(strings.Split(f[3], ","), user) {
			if g, err := parseID(f[2], "/etc/group"); err == nil && g != primary && !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
		return false
	})
	return out, err
}

// findEntry returns the first colon-separated line of the file (opened
// by open) for which match is true. A missing file has no entries.
func findEntry(open opener, file string, match func([]string) bool) ([]string, bool, error) {
	f, err := open(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("--user: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if fields := strings.Split(line, ":"); match(fields) {
			return fields, true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("--user: read %s: %w", file, err)
	}
	return nil, false, nil
}

// openInRoots opens file in the first of roots that has it: one rootfs, or
// an image's layer directories, top first, read as their overlay shows
// them (a whiteout, a 0/0 character device, hides the file of the layers
// below; so does an opaque parent directory). It returns the file and its
// path, or an error wrapping os.ErrNotExist.
func openInRoots(roots []string, file string) (*os.File, string, error) {
	layered := len(roots) > 1
	for _, root := range roots {
		p, err := securejoin.SecureJoin(root, file)
		if err != nil {
			return nil, "", fmt.Errorf("resolve %s in %s: %w", file, root, err)
		}
		fi, err := os.Lstat(p)
		switch {
		case err == nil && layered && fi.Mode()&os.ModeCharDevice != 0:
			return nil, "", fmt.Errorf("%s: %w (whited out in %s)", file, os.ErrNotExist, root)
		case err == nil:
			f, err := os.Open(p)
			return f, p, err
		case !errors.Is(err, os.ErrNotExist):
			return nil, "", err
		}
		if layered && opaque(filepath.Dir(p)) {
			break
		}
	}
	return nil, "", fmt.Errorf("%s: %w", file, os.ErrNotExist)
}

// opaque reports whether dir is an opaque directory of an overlay layer.
func opaque(dir string) bool {
	v := make([]byte, 1)
	n, err := unix.Getxattr(dir, rootfs.OverlayOpaqueXattr(), v)
	return err == nil && n == 1 && v[0] == 'y'
}

// parseID reads a uid or gid field of the rootfs's file; a malformed one
// is an error (never a silent 0, which would be root).
func parseID(field, file string) (uint32, error) {
	n, err := strconv.ParseUint(field, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("--user: the rootfs's %s has a malformed id %q", file, field)
	}
	return uint32(n), nil
}

// WithSeccomp sets linux.seccomp from Docker's --security-opt seccomp=ARG:
// "" for Docker's default profile, "unconfined" for none, or the path of a
// profile in Docker's JSON format. Both profiles are resolved for the
// capabilities the container has, so apply it after the capability
// options.
func WithSeccomp(arg string) Option {
	return func(s *specs.Spec) error {
		var bounding []string
		if c := s.Process.Capabilities; c != nil {
			bounding = c.Bounding
		}
		switch arg {
		case "":
			s.Linux.Seccomp = seccomp.DefaultProfile(bounding)
		case "unconfined":
			s.Linux.Seccomp = nil
		default:
			p, err := seccomp.LoadDockerProfile(arg, bounding)
			if err != nil {
				return fmt.Errorf("invalid --security-opt seccomp=%s: %w", arg, err)
			}
			s.Linux.Seccomp = p
		}
		return nil
	}
}
