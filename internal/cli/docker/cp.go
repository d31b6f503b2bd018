package docker

// cp: files between a detached container and the host, both ways, and tar
// streams on stdin or stdout ("-"), with Docker's rules for where a copy
// lands. Every path in a container is resolved inside the container's
// root as its mounts are: a running container's root is its init's
// /proc/PID/root (its mount namespace: its volumes and tmpfs mounts are
// there), a stopped one's its rootfs directory; each lookup is openat2
// with RESOLVE_IN_ROOT, so that no symlink or ".." leads out of it. Below
// the path given, the copy walks by file descriptors and never follows a
// symlink. Both sides go through one tar stream, as Docker's do.

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/image"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
	"github.com/minimal-docker/minimal-docker/internal/spec"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// cpFlags are `cp`'s flags (Docker's).
type cpFlags struct {
	archive, followLink, quiet bool
}

func newCpCmd(g *globals, st Streams) *cobra.Command {
	var f cpFlags
	c := &cobra.Command{
		Use:   "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n  cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Long: "Copy a file or directory out of a container or into it (recursively, modes\n" +
			"and times kept). A path in the container is taken from its root and resolved\n" +
			"inside it, through its mounts while it runs: a symlink never leads out of\n" +
			"the container. As with Docker: DEST a directory that exists receives SRC\n" +
			"by its name; SRC ending in /. copies its contents; \"-\" as DEST writes a\n" +
			"tar of SRC to stdout, as SRC extracts a tar from stdin into the directory\n" +
			"DEST. Files copied in belong to root, copied out to the caller, unless -a\n" +
			"(the source's owners). A stopped container's root is its rootfs directory,\n" +
			"or its image's overlay, mounted for the copy alone (its volumes are not).",
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return dockerError(cp(g, st, f, args[0], args[1]))
		},
	}
	c.Flags().BoolVarP(&f.archive, "archive", "a", false, "archive mode (copy all uid/gid information)")
	c.Flags().BoolVarP(&f.followLink, "follow-link", "L", false, "always follow symbol link in SRC_PATH")
	c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "suppress progress output during copy (it is shown only on a terminal)")
	return c
}

// splitCpArg splits "CONTAINER:PATH"; an absolute path, or one whose part
// before the colon starts with ".", is the host's (Docker's rule).
func splitCpArg(arg string) (ctr, p string) {
	if strings.HasPrefix(arg, "/") {
		return "", arg
	}
	ctr, p, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(ctr, ".") {
		return "", arg
	}
	return ctr, p
}

func cp(g *globals, st Streams, f cpFlags, src, dst string) error {
	srcCtr, srcPath := splitCpArg(src)
	dstCtr, dstPath := splitCpArg(dst)
	switch {
	case srcCtr != "" && dstCtr != "":
		return errors.New("copying between containers is not supported")
	case srcCtr == "" && dstCtr == "":
		return errors.New("must specify at least one container source")
	case srcPath == "" || dstPath == "":
		return errors.New("filepath cannot be empty")
	}
	var from, to *fsRoot
	var err error
	if srcCtr != "" {
		if from, err = containerRoot(g, srcCtr); err != nil {
			return err
		}
		defer from.close()
		srcPath = path.Join("/", srcPath) + trailing(srcPath)
	} else if srcPath != "-" {
		if from, err = hostRoot(); err != nil {
			return err
		}
		defer from.close()
		if srcPath, err = absPath(srcPath); err != nil {
			return err
		}
	}
	if dstCtr != "" {
		if to, err = containerRoot(g, dstCtr); err != nil {
			return err
		}
		defer to.close()
		dstPath = path.Join("/", dstPath) + trailing(dstPath)
	} else if dstPath != "-" {
		if to, err = hostRoot(); err != nil {
			return err
		}
		defer to.close()
		if dstPath, err = absPath(dstPath); err != nil {
			return err
		}
	}
	owner := tarOwner{keep: f.archive}
	if !f.archive && to != nil && to.ctr == nil {
		// out: the caller's (rootless: the user's, not root's inside)
		o, err := rootless.Own()
		if err != nil {
			return err
		}
		owner.uid, owner.gid = int(o.UID), int(o.GID)
	}

	switch {
	case srcPath == "-": // a tar on stdin into the directory dstPath
		if err := to.isDir(dstPath); err != nil {
			return err
		}
		return extractTar(tar.NewReader(st.In), to, dstPath, owner)
	case dstPath == "-": // a tar of srcPath on stdout
		s, err := from.source(srcPath, f.followLink)
		if err != nil {
			return err
		}
		defer s.close()
		return s.writeTar(st.Out, s.name())
	}
	s, err := from.source(srcPath, f.followLink)
	if err != nil {
		return err
	}
	defer s.close()
	dir, top, err := to.destination(dstPath, s)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	counted := &image.CountingReader{R: pr}
	done := make(chan error, 1)
	go func() {
		err := s.writeTar(pw, top)
		pw.CloseWithError(err)
		done <- err
	}()
	err = extractTar(tar.NewReader(counted), to, dir, owner)
	pr.CloseWithError(errors.New("copy ended"))
	if werr := <-done; err == nil {
		err = werr
	}
	if err == nil && !f.quiet && term.IsTerminal(int(st.Err.Fd())) {
		fmt.Fprintf(st.Err, "Successfully copied %s to %s\n", humanSize(counted.N), dst)
	}
	return err
}

// trailing keeps what path.Join drops and Docker's rules read: a final
// "/." (the contents) or "/" (a directory).
func trailing(p string) string {
	switch {
	case strings.HasSuffix(p, "/.") && p != "/.":
		return "/."
	case strings.HasSuffix(p, "/") && p != "/":
		return "/"
	}
	return ""
}

// absPath is a host path made absolute, its trailing "/" or "/." kept.
func absPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return abs + trailing(p), nil
}

// fsRoot is the root a side of the copy resolves its paths in: the
// host's /, or a container's.
type fsRoot struct {
	fd      int
	resolve uint64           // openat2's: RESOLVE_IN_ROOT for a container
	ctr     *store.Container // nil for the host
	release func()           // the container's lock, held for a stopped one's overlay
}

func hostRoot() (*fsRoot, error) {
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/", Err: err}
	}
	return &fsRoot{fd: fd}, nil
}

// containerRoot opens the root of the container ref names: its init's
// /proc/PID/root while it runs, else its rootfs directory, or for an
// image's container its overlay, mounted for the copy alone (see
// openOverlayRoot) while the container's lock is held.
func containerRoot(g *globals, ref string) (*fsRoot, error) {
	s, err := g.containers()
	if err != nil {
		return nil, err
	}
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	if !c.State.Running && c.Driver == "overlay" {
		return stoppedOverlayRoot(s, c.ID)
	}
	dir := ""
	if c.State.Running && c.State.Pid > 0 {
		dir = filepath.Join("/proc", strconv.Itoa(c.State.Pid), "root")
	} else if dir, err = bundleRootfs(s.Dir(c.ID)); err != nil {
		return nil, err
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("container %s: open its root: %w", shortID(c.ID), &os.PathError{Op: "open", Path: dir, Err: err})
	}
	if c.State.Running {
		// The pid may have ended and been reused between Get and the
		// open: the root opened must still be the container's.
		if fresh, err := s.Get(c.ID); err != nil || !fresh.State.Running || fresh.State.Pid != c.State.Pid {
			unix.Close(fd)
			return nil, fmt.Errorf("container %s stopped during cp", shortID(c.ID))
		}
	}
	return &fsRoot{fd: fd, resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS, ctr: c}, nil
}

// bundleSpec is the container's bundle config (its directory dir).
func bundleSpec(dir string) (*specs.Spec, error) {
	p := filepath.Join(dir, "bundle", "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("container's root: %w", err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil || s.Root == nil || s.Root.Path == "" {
		return nil, fmt.Errorf("container's root: no root.path in %s (%v)", p, err)
	}
	return &s, nil
}

// bundleRootfs is the root path of the container's bundle config.
func bundleRootfs(dir string) (string, error) {
	s, err := bundleSpec(dir)
	if err != nil {
		return "", err
	}
	p := s.Root.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, "bundle", p)
	}
	return p, nil
}

// stoppedOverlayRoot opens the root of stopped image container id: its
// overlay (its bundle's AnnotationRootOverlay), mounted for the copy
// alone, under the container's lock, so that no start mounts the same
// writable layer meanwhile; the lock goes with the root's close.
func stoppedOverlayRoot(s *store.Store, id string) (*fsRoot, error) {
	c, release, err := s.Hold(id)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*fsRoot, error) {
		release()
		return nil, err
	}
	if c.State.Running {
		return fail(fmt.Errorf("container %s started during cp", shortID(id)))
	}
	sp, err := bundleSpec(s.Dir(id))
	if err != nil {
		return fail(err)
	}
	o, err := spec.RootOverlay(sp)
	if err != nil || o == nil {
		return fail(fmt.Errorf("container %s: its bundle names no overlay: %v", shortID(id), err))
	}
	fd, err := openOverlayRoot(o, sp.Root.Path)
	if err != nil {
		return fail(fmt.Errorf("container %s: %w", shortID(id), err))
	}
	return &fsRoot{fd: fd, resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS, ctr: c, release: release}, nil
}

// openOverlayRoot mounts overlay o on mountpoint in a mount namespace of
// its own (a locked thread's, unshared, everything made private first:
// the host never sees the mount), opens the overlay's root and detaches
// the mount at once: the descriptor keeps it for the copy, and its close
// ends it. The thread is never unlocked, so that it ends with its
// goroutine and its namespace with it. (A thread that ends sends the
// parent-death signal to every child forked from it that asked for one,
// as a container's init does; cp has no such child running, so this is
// safe here and nowhere that a container runs: namespaces.OnThreadIn
// puts its thread back instead.) An overlay of a mount program
// (fuse-overlayfs) is its detached mount (container.FuseTree), whose
// descriptor is its root's: closing it ends the mount and the program.
func openOverlayRoot(o *handshake.Overlay, mountpoint string) (int, error) {
	if o.MountProgram != "" {
		return container.FuseTree(o)
	}
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		goruntime.LockOSThread()
		fd, err := func() (int, error) {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return -1, os.NewSyscallError("unshare CLONE_NEWNS", err)
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return -1, &os.PathError{Op: "make / rprivate", Path: "/", Err: err}
			}
			if err := rootfs.MountOverlay(mountpoint, o.Lower, o.Upper, o.Work, false); err != nil {
				return -1, err
			}
			fd, err := unix.Open(mountpoint, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if uerr := unix.Unmount(mountpoint, unix.MNT_DETACH); uerr != nil && err == nil {
				unix.Close(fd)
				return -1, &os.PathError{Op: "detach overlay", Path: mountpoint, Err: uerr}
			}
			if err != nil {
				return -1, &os.PathError{Op: "open overlay", Path: mountpoint, Err: err}
			}
			return fd, nil
		}()
		done <- result{fd, err}
	}()
	r := <-done
	return r.fd, r.err
}

func (r *fsRoot) close() {
	unix.Close(r.fd)
	if r.release != nil {
		r.release()
	}
}

// open resolves p inside the root (RESOLVE_IN_ROOT for a container).
func (r *fsRoot) open(p string, flags int) (int, error) {
	fd, err := unix.Openat2(r.fd, p, &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: r.resolve})
	if err != nil {
		return -1, r.pathError("open", p, err)
	}
	return fd, nil
}

// pathError is err on p, in Docker's words for a path a container lacks.
func (r *fsRoot) pathError(op, p string, err error) error {
	if r.ctr != nil && errors.Is(err, unix.ENOENT) {
		return &notInContainer{path: p, ctr: strings.TrimPrefix(r.ctr.Name, "/")}
	}
	return &os.PathError{Op: op, Path: p, Err: err}
}

// notInContainer is Docker's error for a path a container lacks.
type notInContainer struct{ path, ctr string }

func (e *notInContainer) Error() string {
	return fmt.Sprintf("Could not find the file %s in container %s", e.path, e.ctr)
}
func (e *notInContainer) Unwrap() error { return unix.ENOENT }

// isDir checks that p is a directory (following symlinks inside the root).
func (r *fsRoot) isDir(p string) error {
	fd, err := r.open(p, unix.O_PATH|unix.O_DIRECTORY)
	if errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("destination %q must be a directory", p)
	}
	if err == nil {
		unix.Close(fd)
	}
	return err
}

// cpSource is what is copied: the entry base in the directory parent, or
// with contents the entries of that directory.
type cpSource struct {
	parent   int // an O_PATH fd of the directory
	base     string
	contents bool // SRC/. : the directory's entries, not itself
	isDir    bool
}

// source resolves SRC: its last component is not followed unless follow
// (-L), and then only inside the root.
func (r *fsRoot) source(p string, follow bool) (*cpSource, error) {
	contents := strings.HasSuffix(p, "/.") || path.Clean(p) == "/"
	p = path.Clean(p)
	for hops := 0; ; hops++ {
		s, err := r.sourceAt(p)
		if err != nil {
			return nil, err
		}
		var stat unix.Stat_t
		if err := unix.Fstatat(s.parent, s.base, &stat, unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH); err != nil {
			s.close()
			return nil, r.pathError("lstat", p, err)
		}
		if stat.Mode&unix.S_IFMT == unix.S_IFLNK && (follow || contents) && hops < 40 {
			target, err := readlinkAt(s.parent, s.base)
			s.close()
			if err != nil {
				return nil, r.pathError("readlink", p, err)
			}
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(p), target)
			}
			p = path.Clean(target)
			continue
		}
		s.isDir = stat.Mode&unix.S_IFMT == unix.S_IFDIR
		s.contents = contents && s.isDir
		if contents && !s.isDir {
			s.close()
			return nil, fmt.Errorf("%s: not a directory", p)
		}
		return s, nil
	}
}

// sourceAt opens p's directory (following symlinks inside the root) and
// names its last component; "/" is the root itself, as ".".
func (r *fsRoot) sourceAt(p string) (*cpSource, error) {
	dir, base := path.Split(p)
	if base == "" {
		dir, base = "/", "."
	}
	fd, err := r.open(dir, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	return &cpSource{parent: fd, base: base}, nil
}

func (s *cpSource) close() { unix.Close(s.parent) }

// name is the source's name in a tar of it (Docker's: its base name).
func (s *cpSource) name() string {
	if s.contents {
		return ""
	}
	return s.base
}

// destination is where SRC goes (Docker's rules): the directory it is
// extracted into and the name its top entry takes there.
func (r *fsRoot) destination(p string, s *cpSource) (dir, top string, err error) {
	dirSuffix := strings.HasSuffix(p, "/")
	p = path.Clean(strings.TrimSuffix(p, "/."))
	fd, err := r.open(p, unix.O_PATH)
	switch {
	case err == nil:
		var st unix.Stat_t
		err := unix.Fstat(fd, &st)
		unix.Close(fd)
		if err != nil {
			return "", "", r.pathError("stat", p, err)
		}
		switch {
		case st.Mode&unix.S_IFMT == unix.S_IFDIR && s.contents:
			return p, "", nil // SRC/. into DEST: the entries
		case st.Mode&unix.S_IFMT == unix.S_IFDIR:
			return p, s.base, nil // into DEST by its name
		case s.isDir:
			return "", "", fmt.Errorf("cannot copy a directory to a file: %s", p)
		case dirSuffix:
			return "", "", fmt.Errorf("destination %q must be a directory", p)
		}
	case !errors.Is(err, unix.ENOENT):
		return "", "", err
	case dirSuffix && !s.isDir:
		return "", "", fmt.Errorf("destination directory %q does not exist", p)
	}
	// A new entry (or a file replaced) named as DEST in DEST's directory,
	// which must exist; a directory's entries go below it.
	parent, base := path.Split(p)
	if err := r.isDir(parent); err != nil {
		return "", "", err
	}
	return parent, base, nil
}

// writeTar writes the source as a tar whose top entry is named top ("":
// the directory's entries only).
func (s *cpSource) writeTar(w io.Writer, top string) error {
	tw := tar.NewWriter(w)
	if err := addTarEntry(tw, s.parent, s.base, top, s.contents); err != nil {
		return err
	}
	return tw.Close()
}

// addTarEntry adds entry base of directory dirfd as name, and below a
// directory its entries; entriesOnly leaves the directory's own entry
// out when name is "". Nothing is followed: symlinks are entries.
func addTarEntry(tw *tar.Writer, dirfd int, base, name string, entriesOnly bool) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	h := &tar.Header{
		Name: name, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
		ModTime: time.Unix(st.Mtim.Unix()).UTC(), Format: tar.FormatPAX,
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		fd, err := unix.Openat(dirfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		d := os.NewFile(uintptr(fd), name)
		defer d.Close()
		if name != "" || !entriesOnly {
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		}
		names, err := d.Readdirnames(-1)
		if err != nil {
			return fmt.Errorf("read directory %s: %w", name, err)
		}
		for _, n := range names {
			if err := addTarEntry(tw, fd, n, path.Join(name, n), false); err != nil {
				return err
			}
		}
		return nil
	case unix.S_IFREG:
		fd, err := unix.Openat(dirfd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		if err := unix.Fstat(fd, &st); err != nil {
			return &os.PathError{Op: "stat", Path: name, Err: err}
		}
		h.Typeflag, h.Size = tar.TypeReg, st.Size
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.CopyN(tw, f, st.Size); err != nil {
			return fmt.Errorf("copy %s: %w", name, err)
		}
		return nil
	case unix.S_IFLNK:
		target, err := readlinkAt(dirfd, base)
		if err != nil {
			return &os.PathError{Op: "readlink", Path: name, Err: err}
		}
		h.Typeflag, h.Linkname = tar.TypeSymlink, target
	case unix.S_IFCHR, unix.S_IFBLK:
		h.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			h.Typeflag = tar.TypeBlock
		}
		h.Devmajor, h.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		h.Typeflag = tar.TypeFifo
	default:
		return nil // a socket: not copied, as tar does not
	}
	return tw.WriteHeader(h)
}

func readlinkAt(dirfd int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// tarOwner is the owner extracted files get: the tar's (keep, -a) or
// uid:gid.
type tarOwner struct {
	keep     bool
	uid, gid int
}

// extractTar extracts the tar into directory dir of root r, each entry's
// parent resolved inside the root and the entry made without following a
// symlink at its name; an entry's name cannot lead out of dir.
func extractTar(tr *tar.Reader, r *fsRoot, dir string, owner tarOwner) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/") // never above dir
		if name == "" {
			continue
		}
		if err := extractEntry(tr, r, dir, name, h, owner); err != nil {
			return err
		}
	}
}

func extractEntry(tr *tar.Reader, r *fsRoot, dirPath, name string, h *tar.Header, owner tarOwner) error {
	parentPath, base := path.Split(path.Join(dirPath, name))
	parent, err := r.open(parentPath, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	defer unix.Close(parent)
	mode := uint32(h.Mode & 0o7777)
	// What is there already is replaced, but a directory that stays one.
	var st unix.Stat_t
	exists := unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
	isDir := exists && st.Mode&unix.S_IFMT == unix.S_IFDIR
	if exists && !(isDir && h.Typeflag == tar.TypeDir) {
		flags := 0
		if isDir {
			flags = unix.AT_REMOVEDIR
		}
		if err := unix.Unlinkat(parent, base, flags); err != nil {
			return &os.PathError{Op: "replace", Path: name, Err: err}
		}
	}
	uid, gid := owner.uid, owner.gid
	if owner.keep {
		uid, gid = h.Uid, h.Gid
	}
	// The owner and mode go through a descriptor of what was made: by
	// name, a symlink swapped in meanwhile (by the container's processes)
	// would be followed, outside the root.
	switch h.Typeflag {
	case tar.TypeDir:
		if !isDir {
			if err := unix.Mkdirat(parent, base, 0o700); err != nil {
				return &os.PathError{Op: "mkdir", Path: name, Err: err}
			}
		}
		fd, err := unix.Openat(parent, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		defer unix.Close(fd)
		return setAttrs(fd, name, uid, gid, mode, time.Time{})
	case tar.TypeReg, tar.TypeRegA:
		fd, err := unix.Openat(parent, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return &os.PathError{Op: "create", Path: name, Err: err}
		}
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		if _, err := io.Copy(f, tr); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		return setAttrs(fd, name, uid, gid, mode, h.ModTime)
	case tar.TypeSymlink:
		if err := unix.Symlinkat(h.Linkname, parent, base); err != nil {
			return &os.PathError{Op: "symlink", Path: name, Err: err}
		}
		if err := unix.Fchownat(parent, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "chown", Path: name, Err: err}
		}
		ts := []unix.Timespec{unix.NsecToTimespec(h.ModTime.UnixNano()), unix.NsecToTimespec(h.ModTime.UnixNano())}
		_ = unix.UtimesNanoAt(parent, base, ts, unix.AT_SYMLINK_NOFOLLOW)
		return nil
	case tar.TypeLink: // the same inode as its target, which has its attributes
		target, err := r.open(path.Join(dirPath, path.Clean("/"+h.Linkname)), unix.O_PATH|unix.O_NOFOLLOW)
		if err != nil {
			return fmt.Errorf("link %s: %w", name, err)
		}
		defer unix.Close(target)
		if err := unix.Linkat(target, "", parent, base, unix.AT_EMPTY_PATH); err != nil {
			return &os.PathError{Op: "link", Path: name, Err: err}
		}
		return nil
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[h.Typeflag]
		dev := unix.Mkdev(uint32(h.Devmajor), uint32(h.Devminor))
		if err := unix.Mknodat(parent, base, kind|0o600, int(dev)); err != nil {
			return &os.PathError{Op: "mknod", Path: name, Err: err}
		}
		// Not opened for I/O (a fifo would block, a device act): an
		// O_PATH descriptor, changed through its /proc/self/fd link.
		fd, err := unix.Openat(parent, base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		defer unix.Close(fd)
		if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
			return &os.PathError{Op: "chown", Path: name, Err: err}
		}
		if err := os.Chmod("/proc/self/fd/"+strconv.Itoa(fd), os.FileMode(mode&0o777)); err != nil {
			return fmt.Errorf("chmod %s: %w", name, err)
		}
		return nil
	}
	return nil // what cp does not make (a PAX global header, ...)
}

// setAttrs gives the file open as fd its owner, then its mode (after the
// chown, which clears set-id bits), then, unless zero, its times.
func setAttrs(fd int, name string, uid, gid int, mode uint32, mtime time.Time) error {
	if err := unix.Fchown(fd, uid, gid); err != nil {
		return &os.PathError{Op: "chown", Path: name, Err: err}
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		return &os.PathError{Op: "chmod", Path: name, Err: err}
	}
	if !mtime.IsZero() {
		tv := []unix.Timeval{unix.NsecToTimeval(mtime.UnixNano()), unix.NsecToTimeval(mtime.UnixNano())}
		if err := unix.Futimes(fd, tv); err != nil {
			return &os.PathError{Op: "utimes", Path: name, Err: err}
		}
	}
	return nil
}
