package spec

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/hooks"
	"github.com/minimal-docker/minimal-docker/internal/initproc"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// The checks of bad input: Check, of a container's spec before any of its
// processes, namespaces or cgroups exists, and the ones the front doors
// run on their flags. Each error names the field or flag and the value.

// Check is the one check of a container's spec, made before any process,
// namespace or cgroup of the container exists: container.Create and
// container.Run (through launch) call it first thing once they hold the
// container's record in the store, which goes again on failure, for both
// front doors (minimal-docker run, on Default's spec; minimal-runc create
// and run, on Load's). It runs, in order, the checks of this package
// (validate, checkUnsupported, checkUserNS), those of the packages that act on the
// spec (cgroups.Validate, hooks.Validate, namespaces' CloneFlags and
// CheckPaths), finds the command in the rootfs, and runs what the init's
// setup steps would refuse (initproc.Check, which says what only the
// container's own view can tell). The first error is returned: it names
// the field, or, for a command that is not found or not executable, wraps
// rootfs.ErrNotFound or rootfs.ErrNotExecutable.
//
// A process exec'd into a running container is checked by CheckProcess.
func Check(s *specs.Spec) error { return check(s, checkCommand) }

// CheckOverlayRoot is Check for a container whose root is an image's
// overlay, mounted only in the container's mount namespace (root.path is
// its empty mount point): the command is not looked up here but by the
// init, which fails with the same errors, and the parent then removes
// what it made.
func CheckOverlayRoot(s *specs.Spec) error { return check(s, nil) }

func check(s *specs.Spec, command func(*specs.Spec) error) error {
	for _, check := range []func(*specs.Spec) error{
		validate,
		checkUnsupported,
		checkUserNS,
		func(s *specs.Spec) error { return cgroups.Validate(s.Linux.Resources) },
		func(s *specs.Spec) error { return hooks.Validate(s.Hooks) },
		command,
		checkNamespaces,
		initproc.Check,
	} {
		if check == nil {
			continue
		}
		if err := check(s); err != nil {
			return err
		}
	}
	return nil
}

// validate is Check's first check: a process with args, a root that is an
// existing directory and not the host's, a linux section, and the fields'
// checks of check.go (process, mounts, resources, what needs a mount
// namespace).
func validate(s *specs.Spec) error {
	if s.Process == nil || len(s.Process.Args) == 0 {
		return errors.New("spec: process.args is empty")
	}
	if s.Root == nil || s.Root.Path == "" {
		return errors.New("spec: root.path is empty")
	}
	if s.Linux == nil {
		return errors.New("spec: linux section is missing")
	}
	fi, err := os.Stat(s.Root.Path)
	if err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("rootfs %s: not a directory", s.Root.Path)
	}
	if !filepath.IsAbs(s.Process.Cwd) {
		return fmt.Errorf("spec: process.cwd %q is not absolute", s.Process.Cwd)
	}
	if err := firstError([]error{CheckProcess(s.Process), checkMounts(s.Mounts), CheckResources(s.Linux.Resources)}); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	if err := checkSharedMounts(s); err != nil {
		return err
	}
	return checkHostRoot(s)
}

// checkCommand finds the command in the rootfs, as the init will once the
// mounts are made, so that the common mistake of a missing one leaves
// nothing behind.
func checkCommand(s *specs.Spec) error {
	p := s.Process
	if _, err := rootfs.LookPath(s.Root.Path, p.Args[0], Getenv(p.Env, "PATH"), p.Cwd); err != nil {
		return fmt.Errorf("%w (in rootfs %s)", err, s.Root.Path)
	}
	return nil
}

// checkNamespaces checks linux.namespaces: known types, each once, ones
// the runtime makes or joins, and every path a namespace of its type that
// the container may join (namespaces.CloneFlags, namespaces.CheckPaths).
func checkNamespaces(s *specs.Spec) error {
	if _, err := namespaces.CloneFlags(s.Linux.Namespaces); err != nil {
		return err
	}
	return namespaces.CheckPaths(s.Linux.Namespaces)
}

// AnnotationHostRootfs, set to "true", allows the host's own root
// directory as the container's root (minimal-docker run
// --allow-host-rootfs). Without it such a root is refused: an empty or
// mistyped path must never hand the host's files to a container.
const AnnotationHostRootfs = "org.minimal-docker.host-rootfs"

// WithHostRootfs allows the host's root directory as the rootfs
// (--allow-host-rootfs; see AnnotationHostRootfs).
func WithHostRootfs() Option { return withAnnotation(AnnotationHostRootfs) }

// MaxFlagID is the largest uid or gid a --user flag takes, as Docker and
// runc read it (moby/sys/user: "uids and gids must be in range
// 0-2147483647").
const MaxFlagID = math.MaxInt32

// CheckUserFlag checks the numbers in a --user value (UID[:GID], or
// names): each must be a uid or gid in range, so that an overlong number
// is not taken for a user name that isn't there.
func CheckUserFlag(flag, arg string) error {
	for _, part := range strings.SplitN(arg, ":", 2) {
		if part == "" || strings.Trim(part, "0123456789") != "" {
			continue
		}
		if n, err := strconv.ParseUint(part, 10, 64); err != nil || n > MaxFlagID {
			return fmt.Errorf("invalid %s %q: %s is out of range (uids and gids must be in range 0-%d)", flag, arg, part, MaxFlagID)
		}
	}
	return nil
}

// CheckWorkdir checks a working directory given by flag: absolute.
func CheckWorkdir(flag, dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("invalid %s %q: want an absolute path", flag, dir)
	}
	return nil
}

// CheckTmpfsFlag checks the OPTIONS of a --tmpfs PATH[:OPTIONS] value: each
// a mount flag or a tmpfs option the kernel knows, with a value of the
// right form (see checkTmpfsOption).
func CheckTmpfsFlag(arg string) error {
	_, opts, _ := strings.Cut(arg, ":")
	if opts == "" {
		return nil
	}
	for _, o := range strings.Split(opts, ",") {
		if err := checkTmpfsOption(o); err != nil {
			return fmt.Errorf("invalid --tmpfs %q: %w", arg, err)
		}
	}
	return nil
}

// CheckProcess checks a process (config.json's, or one to exec): a
// command, KEY=VALUE environment entries, an absolute cwd, and a user the
// kernel can switch to.
func CheckProcess(p *specs.Process) error {
	if p == nil || len(p.Args) == 0 {
		return errors.New("process.args is empty")
	}
	if p.Args[0] == "" {
		return errors.New("process.args[0] is empty: no command to run")
	}
	for i, kv := range p.Env {
		if err := checkEnvEntry(kv); err != nil {
			return fmt.Errorf("process.env[%d] %q: %w", i, kv, err)
		}
	}
	if !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("process.cwd %q is not absolute", p.Cwd)
	}
	// (uid_t)-1 tells setresuid and setresgid to leave an id as it is: the
	// process would keep the runtime's own ids (root).
	const unchanged = math.MaxUint32
	u := p.User
	if u.UID == unchanged {
		return fmt.Errorf("process.user.uid %d is (uid_t)-1, which the kernel reads as \"leave unchanged\" (root)", u.UID)
	}
	if u.GID == unchanged || slices.Contains(u.AdditionalGids, unchanged) {
		return fmt.Errorf("process.user: gid %d is (gid_t)-1, which the kernel reads as \"leave unchanged\" (root)", uint32(unchanged))
	}
	return nil
}

// checkEnvEntry is runc's rule for an environment entry: NAME=VALUE with
// a name, and no NUL byte.
func checkEnvEntry(kv string) error {
	k, _, ok := strings.Cut(kv, "=")
	switch {
	case !ok:
		return errors.New("want KEY=VALUE (no '=')")
	case k == "":
		return errors.New("want KEY=VALUE (the name is empty)")
	case strings.IndexByte(kv, 0) >= 0:
		return errors.New("contains a NUL byte")
	}
	return nil
}

// CheckResources checks linux.resources of a config: no negative limit
// but -1 (unlimited, as runc reads it), and CFS quota and period the
// kernel takes.
func CheckResources(r *specs.LinuxResources) error {
	return checkResources("linux.resources.", r, false)
}

// The kernel's bounds of the CFS period and quota, in microseconds
// (kernel/sched/core.c: 1ms to 1s; a quota of at least 1ms).
const (
	minCFSPeriod = 1000
	maxCFSPeriod = 1000000
	minCFSQuota  = 1000
)

// checkResources is CheckResources, with prefix before the fields' names;
// for an update (CheckUpdate) a zero period means "leave it as it is"
// (runc update).
func checkResources(prefix string, r *specs.LinuxResources, update bool) error {
	if r == nil {
		return nil
	}
	limit := func(field string, n *int64, want string) error {
		if n != nil && *n < -1 {
			return fmt.Errorf("%s%s %d: %s", prefix, field, *n, want)
		}
		return nil
	}
	var errs []error
	if m := r.Memory; m != nil {
		const bytes = "want a number of bytes, or -1 for unlimited"
		errs = append(errs,
			limit("memory.limit", m.Limit, bytes),
			limit("memory.swap", m.Swap, bytes),
			limit("memory.reservation", m.Reservation, bytes))
	}
	if p := r.Pids; p != nil {
		errs = append(errs, limit("pids.limit", p.Limit, "want a number of processes, or -1 for unlimited"))
	}
	if c := r.CPU; c != nil {
		if q := c.Quota; q != nil && (*q < -1 || *q > 0 && *q < minCFSQuota) {
			errs = append(errs, fmt.Errorf("%scpu.quota %d: want %d or more microseconds, or -1 for unlimited", prefix, *q, minCFSQuota))
		}
		if p := c.Period; p != nil && !(update && *p == 0) && (*p < minCFSPeriod || *p > maxCFSPeriod) {
			errs = append(errs, fmt.Errorf("%scpu.period %d: want %d to %d microseconds (1ms to 1s)", prefix, *p, minCFSPeriod, maxCFSPeriod))
		}
	}
	return firstError(errs)
}

// checkMounts checks the mounts' destinations (absolute, as the runtime
// spec requires; runc only warns and takes them from /) and the options
// of tmpfs mounts, which the kernel would refuse without naming them.
func checkMounts(mounts []specs.Mount) error {
	for i, m := range mounts {
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mounts[%d].destination %q is not an absolute path", i, m.Destination)
		}
		if m.Type != "tmpfs" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind") {
			continue
		}
		for _, o := range m.Options {
			if err := checkTmpfsOption(o); err != nil {
				return fmt.Errorf("mounts[%d] (tmpfs on %s): %w", i, m.Destination, err)
			}
		}
	}
	return nil
}

// checkHostRoot refuses a root that is the host's own root directory
// (through a symlink or a bind mount too), unless the spec says so with
// AnnotationHostRootfs.
func checkHostRoot(s *specs.Spec) error {
	if s.Annotations[AnnotationHostRootfs] == "true" {
		return nil
	}
	root, err := os.Stat(s.Root.Path)
	if err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	host, err := os.Stat("/")
	if err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	if os.SameFile(root, host) {
		return fmt.Errorf("rootfs %s is the host's root directory: refused, since the container could change the host's files "+
			"(to mean it: minimal-docker run --allow-host-rootfs, or the annotation %s=true in config.json)", s.Root.Path, AnnotationHostRootfs)
	}
	return nil
}

// tmpfsOptions are the data options tmpfs takes (the kernel's
// Documentation/filesystems/tmpfs.rst, and the SELinux context options),
// each with the form its value must have.
var tmpfsOptions = sync.OnceValue(func() map[string]valueForm {
	return map[string]valueForm{
		"size":                     sizeOrPercent,
		"nr_blocks":                sizeValue,
		"nr_inodes":                sizeValue,
		"mode":                     octalValue,
		"uid":                      decimalValue,
		"gid":                      decimalValue,
		"huge":                     hugeValue,
		"mpol":                     anyValue,
		"inode32":                  noValue,
		"inode64":                  noValue,
		"noswap":                   noValue,
		"quota":                    noValue,
		"usrquota":                 noValue,
		"grpquota":                 noValue,
		"usrquota_block_hardlimit": sizeValue,
		"usrquota_inode_hardlimit": sizeValue,
		"grpquota_block_hardlimit": sizeValue,
		"grpquota_inode_hardlimit": sizeValue,
		"casefold":                 optionalValue,
		"strict_encoding":          noValue,
		"context":                  anyValue,
		"fscontext":                anyValue,
		"defcontext":               anyValue,
		"rootcontext":              anyValue,
		"seclabel":                 noValue,
	}
})

// valueForm is what an option's value must look like.
type valueForm int

const (
	noValue       valueForm = iota // a flag: "noswap"
	optionalValue                  // "casefold" or "casefold=utf8"
	anyValue                       // a value the filesystem interprets: "mpol=interleave"
	decimalValue                   // "uid=1000"
	octalValue                     // "mode=1777"
	sizeValue                      // a number with k, m, g, t, p or e: "size=64m"
	sizeOrPercent                  // a size, or a percentage of RAM: "size=50%"
	hugeValue                      // "huge=within_size"
)

// checkTmpfsOption checks one option of a tmpfs mount: a mount flag or
// propagation (package rootfs), or a tmpfs data option with a value of
// its form.
func checkTmpfsOption(o string) error {
	if slices.Contains(rootfs.MountOptions(), o) {
		return nil
	}
	key, val, hasVal := strings.Cut(o, "=")
	form, ok := tmpfsOptions()[key]
	if !ok {
		return fmt.Errorf("unknown tmpfs option %q (want mount flags such as ro, nosuid, noexec, or size, mode, uid, gid, nr_inodes, nr_blocks, mpol, huge)", o)
	}
	bad := func(want string) error { return fmt.Errorf("tmpfs option %q: want %s", o, want) }
	switch {
	case form == noValue && hasVal:
		return bad(key + " without a value")
	case form == noValue, form == optionalValue:
		return nil
	case !hasVal || val == "":
		return bad(key + "=VALUE")
	}
	switch form {
	case decimalValue:
		if _, err := strconv.ParseUint(val, 10, 32); err != nil {
			return bad("a decimal number")
		}
	case octalValue:
		if n, err := strconv.ParseUint(val, 8, 32); err != nil || n > 0o7777 {
			return bad("an octal mode up to 7777")
		}
	case sizeValue, sizeOrPercent:
		num := strings.TrimRight(strings.ToLower(val), "kmgtpe")
		if form == sizeOrPercent && strings.HasSuffix(val, "%") {
			num = strings.TrimSuffix(val, "%")
		} else if len(val)-len(num) > 1 {
			num = "" // two suffixes
		}
		if _, err := strconv.ParseUint(num, 10, 64); err != nil {
			if form == sizeOrPercent {
				return bad("a size in bytes with an optional k, m or g suffix, or a percentage of RAM (50%)")
			}
			return bad("a number with an optional k, m or g suffix")
		}
	case hugeValue:
		if !slices.Contains([]string{"never", "always", "within_size", "advise"}, val) {
			return bad("huge=never, always, within_size or advise")
		}
	}
	return nil
}

// firstError is the first error in errs that is not nil.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
