//go:build !lean

package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// The layer unpacker is ours, over archive/tar, rather than containerd's
// archive package or umoci: those pull in large trees (containerd's
// continuity, umoci's own OCI stack) for a few hundred lines that this
// package can keep in view, and neither refuses what we want refused. Every
// entry is created relative to a directory file descriptor that was opened
// with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS|
// RESOLVE_NO_XDEV): the kernel, not string checks alone, guarantees that no
// entry lands outside the layer directory, and that no entry is written
// through a symlink (or a procfs magic link) unpacked earlier. A layer that
// tries either is refused with an error naming the entry, not clamped: a
// well-formed layer never needs it.
//
// What is kept: file types (regular, directory, symlink, hard link, char
// and block devices, fifos), modes with setuid/setgid/sticky bits, owners,
// xattrs (PAX SCHILY.xattr records), modification times. Whiteouts are
// written in overlayfs's own form: ".wh.NAME" becomes a 0/0 character
// device NAME, ".wh..wh..opq" sets trusted.overlay.opaque="y" on its
// directory. Other ".wh..wh." entries (aufs's bookkeeping) are skipped.
//
// Limitation (by design of one directory per layer): an entry whose parent
// is a symlink in a lower layer (e.g. lib -> usr/lib) lands in a real
// directory of this layer, as a tar-diff tool would never write it.

// ErrEscape is wrapped by every error about an entry that would land
// outside its layer directory or pass through a symlink.
var ErrEscape = errors.New("path escapes the layer directory")

// beneath is how every path inside a layer directory is resolved.
const beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS |
	unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// Decompress returns a reader of the uncompressed tar stream in r, which
// may be gzip, zstd or plain tar (told by its magic bytes, as Docker does).
// Close releases the decompressor; it does not close r.
func Decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read layer header: %w", err)
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip layer: %w", err)
		}
		return zr, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, fmt.Errorf("zstd layer: %w", err)
		}
		return zr.IOReadCloser(), nil
	default:
		return io.NopCloser(br), nil
	}
}

// Unpack writes the uncompressed layer tar read from r into dir, an
// existing directory that only this call writes to. It reads r to the end of
// the archive; the caller drains the rest if it hashes the stream. On error
// dir is left as it is: the caller removes it.
func Unpack(r io.Reader, dir string) error {
	root, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open layer directory %s: %w", dir, err)
	}
	defer unix.Close(root)
	u := &unpacker{root: root}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read layer tar: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	}
	return u.finish()
}

type dirTime struct {
	rel   string
	mtime time.Time
}

type unpacker struct {
	root int
	// Directories' times are set last: creating entries in them changes
	// their mtime.
	dirs []dirTime
}

// cleanName turns a tar name into a clean relative path, refusing absolute
// paths and any ".." component. "/" alone is the layer's root, as "./" is:
// umoci writes its root directory so (and Docker's save keeps the layer's
// bytes), and it can name nothing outside the layer.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty name")
	}
	if strings.HasPrefix(name, "/") {
		if path.Clean(name) == "/" {
			return ".", nil
		}
		return "", fmt.Errorf("absolute path: %w", ErrEscape)
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", fmt.Errorf("'..' in path: %w", ErrEscape)
		}
	}
	return path.Clean(name), nil
}

// openDir opens the directory rel beneath the root (O_PATH), refusing
// symlinks on the way. With create, missing directories are made (0755,
// root-owned, as Docker makes a layer's implied parents).
func (u *unpacker) openDir(rel string, create bool) (int, error) {
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: beneath}
	fd, err := unix.Openat2(u.root, rel, how)
	if err == nil || !create || !errors.Is(err, unix.ENOENT) {
		return fd, resolveErr(rel, err)
	}
	cur, err := unix.Openat2(u.root, ".", how)
	if err != nil {
		return -1, resolveErr(".", err)
	}
	for _, c := range strings.Split(rel, "/") {
		err := unix.Mkdirat(cur, c, 0o755)
		if err == nil {
			err = unix.Fchmodat(cur, c, 0o755, 0) // not the umask's
		}
		if err != nil && !errors.Is(err, unix.EEXIST) {
			unix.Close(cur)
			return -1, fmt.Errorf("mkdir %s: %w", c, err)
		}
		next, err := unix.Openat2(cur, c, how)
		unix.Close(cur)
		if err != nil {
			return -1, resolveErr(c, err)
		}
		cur = next
	}
	return cur, nil
}

func resolveErr(rel string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ELOOP):
		return fmt.Errorf("%s is a symlink: %w", rel, ErrEscape)
	case errors.Is(err, unix.EXDEV):
		return fmt.Errorf("%s: %w", rel, ErrEscape)
	case errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("%s: parent is not a directory: %w", rel, err)
	default:
		return fmt.Errorf("open %s: %w", rel, err)
	}
}

func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	rel, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		if hdr.Typeflag != tar.TypeDir {
			return errors.New("the layer root must be a directory")
		}
		return u.meta(u.root, "", hdr)
	}
	dir, base := path.Split(rel)
	dir = path.Clean(dir)

	if strings.HasPrefix(base, whiteoutPrefix) {
		return u.whiteout(dir, base)
	}

	parent, err := u.openDir(dir, true)
	if err != nil {
		return err
	}
	defer unix.Close(parent)

	switch hdr.Typeflag {
	case tar.TypeDir:
		err = unix.Mkdirat(parent, base, 0o700)
		if errors.Is(err, unix.EEXIST) {
			var st unix.Stat_t
			if err = unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
				if err = removeEntry(parent, base); err == nil {
					err = unix.Mkdirat(parent, base, 0o700)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("mkdir: %w", err)
		}
		u.dirs = append(u.dirs, dirTime{rel, hdr.ModTime})
	case tar.TypeReg, tar.TypeRegA:
		return u.regular(parent, base, hdr, r)
	case tar.TypeSymlink:
		err = replace(parent, base, func() error { return unix.Symlinkat(hdr.Linkname, parent, base) })
		if err != nil {
			return fmt.Errorf("symlink: %w", err)
		}
	case tar.TypeLink:
		return u.hardlink(parent, base, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		mode := uint32(unix.S_IFIFO)
		switch hdr.Typeflag {
		case tar.TypeChar:
			mode = unix.S_IFCHR
		case tar.TypeBlock:
			mode = unix.S_IFBLK
		}
		if mode != unix.S_IFIFO && namespaces.InUserNS() {
			// Rootless: no device can be made in a user namespace, and
			// the container gets its devices from the runtime (as
			// Docker's and Podman's unpackers do, the layer's are left out).
			return nil
		}
		dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
		err = replace(parent, base, func() error { return unix.Mknodat(parent, base, mode|0o600, dev) })
		if err != nil {
			return fmt.Errorf("mknod: %w", err)
		}
	case tar.TypeXGlobalHeader:
		return nil
	default:
		return fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
	return u.meta(parent, base, hdr)
}

func (u *unpacker) regular(parent int, base string, hdr *tar.Header, r io.Reader) error {
	var fd int
	err := replace(parent, base, func() (err error) {
		fd, err = unix.Openat(parent, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		return err
	})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	f := newFdWriter(fd)
	defer f.close()
	if _, err := io.Copy(f, r); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return u.meta(parent, base, hdr)
}

// hardlink links base to an earlier entry of the same layer.
func (u *unpacker) hardlink(parent int, base string, hdr *tar.Header) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
	}
	if target == "." {
		return fmt.Errorf("hard link to the layer root: %w", ErrEscape)
	}
	tdir, tbase := path.Split(target)
	tparent, err := u.openDir(path.Clean(tdir), false)
	if err != nil {
		return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
	}
	defer unix.Close(tparent)
	// linkat without AT_SYMLINK_FOLLOW links a symlink itself, never its
	// target: a link to an earlier symlink cannot reach outside.
	err = replace(parent, base, func() error { return unix.Linkat(tparent, tbase, parent, base, 0) })
	if err != nil {
		return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
	}
	return nil
}

func (u *unpacker) whiteout(dir, base string) error {
	parent, err := u.openDir(dir, true)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	switch {
	case base == whiteoutOpaque:
		fd, err := unix.Openat(parent, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", dir, err)
		}
		defer unix.Close(fd)
		if err := unix.Fsetxattr(fd, rootfs.OverlayOpaqueXattr(), []byte("y"), 0); err != nil {
			if errors.Is(err, unix.EOPNOTSUPP) && strings.HasPrefix(rootfs.OverlayOpaqueXattr(), "user.") {
				return fmt.Errorf("setxattr %s on %s: %w: the image store's file system has no user.* extended attributes, "+
					"which a rootless overlay marks opaque directories with (tmpfs has them from Linux 6.6): "+
					"keep the store ($XDG_DATA_HOME) on ext4, xfs or btrfs", rootfs.OverlayOpaqueXattr(), dir, err)
			}
			return fmt.Errorf("setxattr %s on %s: %w", rootfs.OverlayOpaqueXattr(), dir, err)
		}
		return nil
	case strings.HasPrefix(base, whiteoutMeta):
		return nil
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("whiteout of %q: %w", name, ErrEscape)
	}
	err = replace(parent, name, func() error { return unix.Mknodat(parent, name, unix.S_IFCHR|0, 0) })
	if err != nil {
		return fmt.Errorf("whiteout mknod: %w", err)
	}
	if err := unix.Fchownat(parent, name, 0, 0, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("whiteout chown: %w", err)
	}
	return nil
}

// replace runs create; if base exists, it is removed (a later entry of a
// tar replaces an earlier one of the same name) and create runs again.
func replace(parent int, base string, create func() error) error {
	err := create()
	if !errors.Is(err, unix.EEXIST) {
		return err
	}
	if err := removeEntry(parent, base); err != nil {
		return err
	}
	return create()
}

func removeEntry(parent int, base string) error {
	err := unix.Unlinkat(parent, base, 0)
	if errors.Is(err, unix.EISDIR) {
		err = unix.Unlinkat(parent, base, unix.AT_REMOVEDIR)
	}
	if err != nil {
		return fmt.Errorf("replace existing %s: %w", base, err)
	}
	return nil
}

// meta sets owner, mode, xattrs and times of base in parent (of parent
// itself when base is ""). The order matters: chown clears setuid bits and
// file capabilities, so mode and xattrs come after it.
func (u *unpacker) meta(parent int, base string, hdr *tar.Header) error {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if base == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	if err := unix.Fchownat(parent, base, hdr.Uid, hdr.Gid, flags); err != nil {
		if errors.Is(err, unix.EINVAL) && namespaces.InUserNS() {
			return fmt.Errorf("chown %d:%d: %w: the id is not mapped in your user namespace (rootless: your own id is 0, your subordinate ids from 1 on; /etc/subuid and /etc/subgid need a range of 65536 ids at least)", hdr.Uid, hdr.Gid, err)
		}
		return fmt.Errorf("chown %d:%d: %w", hdr.Uid, hdr.Gid, err)
	}
	symlink := hdr.Typeflag == tar.TypeSymlink
	if !symlink {
		// The entry was created by this unpacker as a non-symlink just now,
		// in a directory nothing else writes to.
		name := base
		if name == "" {
			name = "."
		}
		if err := unix.Fchmodat(parent, name, tarMode(hdr), 0); err != nil {
			return fmt.Errorf("chmod %o: %w", tarMode(hdr), err)
		}
	}
	for k, v := range hdr.PAXRecords {
		key, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok {
			continue
		}
		p := fmt.Sprintf("/proc/self/fd/%d/%s", parent, base)
		if err := unix.Lsetxattr(p, key, []byte(v), 0); err != nil {
			if symlink && errors.Is(err, unix.EPERM) && strings.HasPrefix(key, "user.") {
				continue // user.* xattrs are not allowed on symlinks
			}
			return fmt.Errorf("setxattr %s: %w", key, err)
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		if base == "" {
			u.dirs = append(u.dirs, dirTime{".", hdr.ModTime})
		}
		return nil
	}
	ts := []unix.Timespec{unix.NsecToTimespec(hdr.AccessTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	if hdr.AccessTime.IsZero() {
		ts[0] = ts[1]
	}
	if err := unix.UtimesNanoAt(parent, base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

// finish sets directories' times, deepest first.
func (u *unpacker) finish() error {
	for i := len(u.dirs) - 1; i >= 0; i-- {
		d := u.dirs[i]
		fd, err := u.openDir(path.Dir(d.rel), false)
		if err != nil {
			return fmt.Errorf("layer entry %q: %w", d.rel, err)
		}
		ts := []unix.Timespec{unix.NsecToTimespec(d.mtime.UnixNano()), unix.NsecToTimespec(d.mtime.UnixNano())}
		err = unix.UtimesNanoAt(fd, path.Base(d.rel), ts, unix.AT_SYMLINK_NOFOLLOW)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("layer entry %q: set times: %w", d.rel, err)
		}
	}
	return nil
}

// tarMode is the permission part of a tar header's mode, with the setuid,
// setgid and sticky bits in the kernel's encoding.
func tarMode(hdr *tar.Header) uint32 {
	m := uint32(hdr.Mode) & 0o777
	if hdr.Mode&04000 != 0 {
		m |= unix.S_ISUID
	}
	if hdr.Mode&02000 != 0 {
		m |= unix.S_ISGID
	}
	if hdr.Mode&01000 != 0 {
		m |= unix.S_ISVTX
	}
	return m
}

// fdWriter writes to a raw file descriptor.
type fdWriter struct{ fd int }

func newFdWriter(fd int) *fdWriter { return &fdWriter{fd} }

func (w *fdWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(w.fd, p[n:])
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return n, err
		}
		n += m
	}
	return n, nil
}

func (w *fdWriter) close() { unix.Close(w.fd) }
