/*
 * The plan's namespace and filesystem operations (plan.h; their arguments
 * are documented in internal/plan/plan.go).
 *
 * Every path "in the root" is opened with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) against the root's fd (OP_SET_ROOT; "/" after
 * pivot_root or chroot, or before any OP_SET_ROOT): ".." and symlinks,
 * absolute or not, stay inside the root, and /proc's magic links are
 * refused. Mounts then go onto the opened fd (/proc/self/fd/N, as runc
 * does), never onto a path that the kernel would resolve again; and what
 * is made (directories, nodes, links) is made with *at calls in a
 * directory opened so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "plan.h"

/* The root's path in the init's view (OP_SET_ROOT, "/" after pivot_root),
 * to open it again when something is mounted onto it. */
static char root_path[PATH_MAX];

/* close_keep closes fd, keeping errno. */
static void close_keep(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
}

/* missing: a missing path is a skip (1) when the plan allows it. */
static int missing(uint64_t pathflags)
{
	return errno == ENOENT && (pathflags & PF_IGNORE_MISSING) ? 1 : -1;
}

int plan_open_in_root(struct plan_state *st, const char *path, uint64_t pathflags, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? 0644 : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int root = st->root, fd, tries = 0;

	if (pathflags & PF_HOST)
		return open(path, flags | O_CLOEXEC, 0644);
	if (root < 0 && (root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	do /* EAGAIN: a rename raced the lookup */
		fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < 16);
	if (root != st->root)
		close_keep(root);
	return fd;
}

/* set_root makes path the root for in-root paths. The root "/" is held
 * as no fd at all (st->root -1: each path opens "/" when it needs it), so
 * that nothing of the setup's stays open in a tiny init that stays PID 1. */
static int set_root(struct plan_state *st, const char *path)
{
	int fd = strcmp(path, "/") == 0 ? -1 : open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && strcmp(path, "/") != 0)
		return -1;
	if (strlen(path) >= sizeof(root_path)) {
		close_keep(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	if (st->root >= 0)
		close(st->root);
	st->root = fd;
	if (path != root_path)
		strcpy(root_path, path);
	return 0;
}

/* chdir_root makes the root the working directory. */
static int chdir_root(struct plan_state *st)
{
	return st->root >= 0 ? fchdir(st->root) : chdir("/");
}

/*
 * make_path makes each missing component of path (mkdir -p; with file,
 * the last one an empty file, 0644), each with mkdirat (openat) in its
 * parent opened in the root. A dangling symlink on the way is followed as
 * the kernel would, inside the root: its target is put in its place and
 * the walk starts again (at most 40 times: ELOOP).
 */
static int make_path(struct plan_state *st, const char *path, uint64_t pathflags, int mode, int file)
{
	char p[PATH_MAX], link[PATH_MAX], next[PATH_MAX];
	size_t i = 0, end;
	ssize_t n;
	int fd, dir, made, last, loops = 0;
	struct stat sb;

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return errno = ENAMETOOLONG, -1;
	for (;;) {
		while (p[i] == '/')
			i++;
		if (p[i] == '\0')
			return 0;
		for (end = i; p[end] != '\0' && p[end] != '/'; end++)
			;
		last = file && p[end] == '\0';
		/* Is p[0..end) there (a directory, but for the file)? */
		next[0] = p[end], p[end] = '\0';
		fd = plan_open_in_root(st, p, pathflags, O_PATH | (last ? 0 : O_DIRECTORY));
		p[end] = next[0];
		if (fd >= 0) {
			close(fd);
			i = end;
			continue;
		}
		if (errno != ENOENT)
			return -1;
		/* No: make p[i..end) in p[0..i). */
		memcpy(next, p, i);
		strcpy(next + i, i == 0 ? "." : "");
		if ((dir = plan_open_in_root(st, next, pathflags, O_PATH | O_DIRECTORY)) < 0)
			return -1;
		snprintf(next, sizeof(next), "%.*s", (int)(end - i), p + i);
		if (last && (made = openat(dir, next, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDONLY | O_CLOEXEC, 0644)) >= 0)
			made = close(made);
		else if (!last)
			made = mkdirat(dir, next, mode);
		if (made == 0 || errno != EEXIST) {
			close_keep(dir);
			if (made < 0)
				return -1;
			i = end;
			continue;
		}
		/* Something is there that does not lead to a directory: a
		 * dangling symlink is followed; anything else is an error. */
		n = -1;
		if (fstatat(dir, next, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
			n = readlinkat(dir, next, link, sizeof(link) - 1);
		close(dir);
		if (n < 0)
			return errno = ENOTDIR, -1;
		if (++loops > 40)
			return errno = ELOOP, -1;
		link[n] = '\0';
		if (snprintf(next, sizeof(next), "%.*s%s%s", link[0] == '/' ? 0 : (int)i, p, link, p + end) >= (int)sizeof(next))
			return errno = ENAMETOOLONG, -1;
		strcpy(p, next);
		i = 0;
	}
}

int plan_mkdir_all(struct plan_state *st, const char *path, uint64_t pathflags, int mode)
{
	return make_path(st, path, pathflags, mode, 0);
}

/* open_parent opens the directory that holds path (made first, 0755, with
 * make) and points *base at path's last component. */
static int open_parent(struct plan_state *st, const char *path, uint64_t pathflags, int make, const char **base)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	size_t n = slash ? (size_t)(slash - path) : 0;

	*base = slash ? slash + 1 : path;
	if (**base == '\0' || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0 || n >= sizeof(dir)) {
		errno = EINVAL;
		return plan_detail(st, "not a path to a file");
	}
	memcpy(dir, path, n);
	strcpy(dir + n, n > 0 ? "" : slash ? "/" : ".");
	if (make && plan_mkdir_all(st, dir, pathflags, 0755) < 0)
		return -1;
	return plan_open_in_root(st, dir, pathflags, O_PATH | O_DIRECTORY);
}

/* open_target opens a mount's target (O_PATH), made first as asked. */
static int open_target(struct plan_state *st, const char *path, uint64_t pathflags)
{
	if ((pathflags & (PF_MKDIR | PF_MKFILE)) && make_path(st, path, pathflags, 0755, pathflags & PF_MKFILE) < 0)
		return -1;
	return plan_open_in_root(st, path, pathflags, O_PATH);
}

/*
 * mount_on mounts onto the file that t (O_PATH) is: through
 * /proc/self/fd/T, as runc does; where /proc is not procfs (after
 * pivot_root into a root without it), a plain bind is made with
 * open_tree and move_mount, and anything else fails. A bind's source is
 * src_fd when it is >= 0 (a path in the root), else src.
 */
static int mount_on(struct plan_state *st, const char *src, int src_fd, int t, const char *type,
		    unsigned long flags, const char *data)
{
	char tp[32], sp[32];
	struct statfs sf;
	int tree, r;

	if (statfs("/proc/self/fd", &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC) {
		snprintf(tp, sizeof(tp), "/proc/self/fd/%d", t);
		if (src_fd >= 0)
			snprintf(sp, sizeof(sp), "/proc/self/fd/%d", src_fd), src = sp;
		return mount(src, tp, type, flags, data);
	}
	if ((flags & ~(unsigned long)(MS_BIND | MS_REC)) != 0 || !(flags & MS_BIND)) {
		errno = ENOENT;
		return plan_detail(st, "/proc is not mounted: only a plain bind can be made");
	}
	tree = syscall(SYS_open_tree, src_fd >= 0 ? src_fd : AT_FDCWD, src_fd >= 0 ? "" : src,
		       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (flags & MS_REC ? AT_RECURSIVE : 0));
	if (tree < 0)
		return plan_detail(st, "open_tree %s", src);
	r = syscall(SYS_move_mount, tree, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	close_keep(tree);
	return r < 0 ? plan_detail(st, "move_mount") : 0;
}

/*
 * locked_flags are the flags of the mount at t that a remount must keep
 * where the kernel locks them: those of a mount that a user namespace's
 * mount namespace copied from a more privileged one (nosuid, nodev,
 * noexec, ro, the atime ones) can't be cleared there; runc adds them
 * when a remount fails with EPERM, and so does remount below.
 */
static unsigned long locked_flags(int t)
{
	static const struct {
		unsigned long st, ms;
	} tab[] = {
		{ST_RDONLY, MS_RDONLY}, {ST_NOSUID, MS_NOSUID}, {ST_NODEV, MS_NODEV}, {ST_NOEXEC, MS_NOEXEC},
		{ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
	};
	struct statvfs sv;
	unsigned long flags = 0;
	size_t i;

	if (fstatvfs(t, &sv) < 0)
		return 0;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (sv.f_flag & tab[i].st)
			flags |= tab[i].ms;
	return flags;
}

/* remount is mount_on for a remount of a bind (MS_BIND | MS_REMOUNT in
 * flags): refused with EPERM, it is tried again keeping the flags the
 * kernel may lock (locked_flags), when that adds any. */
static int remount(struct plan_state *st, int t, unsigned long flags)
{
	unsigned long keep;
	int r = mount_on(st, NULL, -1, t, NULL, flags, NULL);

	if (r < 0 && errno == EPERM && (keep = locked_flags(t) & ~flags) != 0) {
		/* A new atime mode replaces the old one (MS_NOATIME wins). */
		if (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))
			keep &= ~(unsigned long)(MS_NOATIME | MS_RELATIME);
		if (keep != 0)
			r = mount_on(st, NULL, -1, t, NULL, flags | keep, NULL);
		if (r < 0)
			errno = EPERM;
	}
	return r;
}

int op_mount(struct plan_state *st, const struct plan_op *op)
{
	unsigned long flags = op->i[0], rest = flags & ~(unsigned long)(MS_BIND | MS_REC);
	int bind = (flags & MS_BIND) && !(flags & MS_REMOUNT);
	uint64_t pf = op->i[1];
	const char *src = op->s[0], *target = op->s[1];
	const char *type = op->slen[2] ? op->s[2] : NULL, *data = op->slen[3] ? op->s[3] : NULL;
	int t, s = -1, r;

	if ((t = open_target(st, target, pf)) < 0)
		return missing(pf);
	if ((pf & PF_SOURCE_IN_ROOT) && (s = plan_open_in_root(st, src, 0, O_PATH)) < 0) {
		close_keep(t);
		return plan_detail(st, "source %s", src);
	}
	if (!bind)
		rest = 0;
	if ((flags & (MS_BIND | MS_REMOUNT)) == (MS_BIND | MS_REMOUNT) && s < 0)
		r = remount(st, t, flags);
	else
		r = mount_on(st, src, s, t, type, flags & ~rest, data);
	close_keep(s);
	close_keep(t);
	/* A bind takes no other flag: they need a remount, of the new mount
	 * (opened again: t is the directory under it). */
	if (r == 0 && rest != 0) {
		if ((t = plan_open_in_root(st, target, pf, O_PATH)) < 0)
			return -1;
		r = remount(st, t, MS_BIND | MS_REMOUNT | rest);
		close_keep(t);
		if (r < 0)
			return plan_detail(st, "remount the bind");
	}
	/* Something mounted onto the root itself: the root is the new mount. */
	if (r == 0 && ((pf & PF_HOST) ? strcmp(target, root_path) == 0 : strspn(target, "/.") == op->slen[1]) &&
	    root_path[0] != '\0')
		r = set_root(st, root_path);
	return r;
}

/* op_move_tree moves the mount tree the Go frame carried at index i[0] (a
 * detached mount the parent made: an idmapped bind, an overlay) onto the
 * target, made first as pathflags ask; it is then the root if the target
 * is the root. */
int op_move_tree(struct plan_state *st, const struct plan_op *op)
{
	uint64_t i = op->i[0], pf = op->i[1];
	const char *target = op->s[0];
	int t, r;

	if (i >= (uint64_t)st->ntrees || st->trees[i] < 0) {
		errno = EBADF;
		return plan_detail(st, "no mount tree #%llu from the parent (it sent %d)", (unsigned long long)i, st->ntrees);
	}
	if ((t = open_target(st, target, pf)) < 0)
		return -1;
	r = syscall(SYS_move_mount, st->trees[i], "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	close_keep(t);
	if (r < 0)
		return plan_detail(st, "move_mount");
	close(st->trees[i]);
	st->trees[i] = -1;
	if (((pf & PF_HOST) ? strcmp(target, root_path) == 0 : strspn(target, "/.") == op->slen[0]) && root_path[0] != '\0')
		return set_root(st, root_path);
	return 0;
}

int op_setattr(struct plan_state *st, const struct plan_op *op)
{
	struct mount_attr a = {.attr_set = op->i[0], .attr_clr = op->i[1]};
	int fd, r;

	if ((fd = plan_open_in_root(st, op->s[0], op->i[3], O_PATH)) < 0)
		return missing(op->i[3]);
	r = syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (op->i[2] ? AT_RECURSIVE : 0), &a, sizeof(a));
	close_keep(fd);
	return r;
}

static const char *type_name(mode_t type)
{
	return type == S_IFCHR ? "character device" : type == S_IFBLK ? "block device" : type == S_IFIFO ? "fifo" : "file";
}

/* node_at opens path in the root (O_PATH), following a symlink inside the
 * root as the Go init's securejoin did (/dev/ptmx -> pts/ptmx: the devpts
 * node), and checks that it is a node of this type and device; it
 * returns the fd, or -1. */
static int node_at(struct plan_state *st, const char *path, mode_t type, dev_t dev)
{
	struct stat sb;
	int fd;

	if ((fd = plan_open_in_root(st, path, 0, O_PATH)) < 0)
		return plan_detail(st, "it does not exist");
	if (fstat(fd, &sb) < 0) {
		close_keep(fd);
		return -1;
	}
	if ((sb.st_mode & S_IFMT) != type || (type != S_IFIFO && sb.st_rdev != dev)) {
		close_keep(fd);
		errno = EEXIST;
		return plan_detail(st, "a file that is not the requested device (%s %u:%u) is in its place",
				   type_name(type), major(dev), minor(dev));
	}
	return fd;
}

int op_mknod(struct plan_state *st, const struct plan_op *op)
{
	mode_t mode = op->i[0];
	char proc[64];
	const char *base;
	int dir, fd, r;

	if ((dir = open_parent(st, op->s[0], 0, 1, &base)) < 0)
		return -1;
	r = mknodat(dir, base, mode, op->i[1]) < 0 && errno != EEXIST ? -1 : 0;
	close_keep(dir);
	if (r < 0 || (fd = node_at(st, op->s[0], mode & S_IFMT, op->i[1])) < 0)
		return -1;
	/* Through the node's own fd: no link is followed again. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chmod(proc, mode & 07777) < 0)
		r = plan_detail(st, "chmod");
	else if (fchownat(fd, "", op->i[2], op->i[3], AT_EMPTY_PATH) < 0)
		r = plan_detail(st, "chown");
	close_keep(fd);
	return r;
}

int op_check_dev(struct plan_state *st, const struct plan_op *op)
{
	int fd = node_at(st, op->s[0], op->i[0], op->i[1]);

	close_keep(fd);
	return fd < 0 ? -1 : 0;
}

int op_symlink(struct plan_state *st, const struct plan_op *op)
{
	const char *base;
	int dir, r;

	if ((dir = open_parent(st, op->s[1], 0, 0, &base)) < 0)
		return -1;
	r = symlinkat(op->s[0], dir, base);
	close_keep(dir);
	return r;
}

int op_mkdir(struct plan_state *st, const struct plan_op *op)
{
	return plan_mkdir_all(st, op->s[0], 0, op->i[0]);
}

/* op_mask hides a path: a directory under an empty read-only tmpfs, any
 * other file under the root's /dev/null, checked to be the null device
 * (a symlink there is refused: CVE-2025-31133). */
int op_mask(struct plan_state *st, const struct plan_op *op)
{
	struct stat sb;
	int fd, null = -1, r;

	if ((fd = plan_open_in_root(st, op->s[0], 0, O_PATH)) < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &sb) < 0) {
		r = -1;
	} else if (S_ISDIR(sb.st_mode)) {
		r = mount_on(st, "tmpfs", -1, fd, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755");
	} else if ((null = plan_open_in_root(st, "/dev/null", 0, O_PATH | O_NOFOLLOW)) < 0) {
		r = plan_detail(st, "masking a file needs /dev/null in the container");
	} else if (fstat(null, &sb) < 0 || !S_ISCHR(sb.st_mode) || sb.st_rdev != makedev(1, 3)) {
		errno = EINVAL;
		r = plan_detail(st, "/dev/null in the container is not the null device (mode %#o, device %u:%u): refusing to bind it over masked paths",
				sb.st_mode, major(sb.st_rdev), minor(sb.st_rdev));
	} else {
		r = mount_on(st, NULL, null, fd, NULL, MS_BIND, NULL);
	}
	close_keep(null);
	close_keep(fd);
	return r;
}

int op_set_root(struct plan_state *st, const struct plan_op *op)
{
	return set_root(st, op->s[0]);
}

/* op_pivot_root: pivot_root(".", ".") in the root as runc does (no
 * directory for the old root needed); the old root, stacked on the new
 * one, is made rslave (its unmounts must not reach the host's shared
 * mounts) and detached. */
int op_pivot_root(struct plan_state *st, const struct plan_op *op)
{
	const char *what = NULL;
	int old = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	(void)op;
	if (old < 0)
		what = "open /";
	else if (chdir_root(st) < 0)
		what = "chdir to the root";
	else if (syscall(SYS_pivot_root, ".", ".") < 0)
		what = "pivot_root";
	else if (fchdir(old) < 0)
		what = "chdir to the old root";
	else if (mount("", ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		what = "make the old root rslave";
	else if (umount2(".", MNT_DETACH) < 0)
		what = "detach the old root";
	else if (chdir("/") < 0 || set_root(st, "/") < 0)
		what = "chdir /";
	close_keep(old);
	return what ? plan_detail(st, "%s", what) : 0;
}

int op_chroot(struct plan_state *st, const struct plan_op *op)
{
	(void)op;
	if (chdir_root(st) < 0 || chroot(".") < 0 || chdir("/") < 0 || set_root(st, "/") < 0)
		return -1;
	return 0;
}

int op_chdir(struct plan_state *st, const struct plan_op *op)
{
	int fd, r;

	if (((op->i[0] & PF_MKDIR) && plan_mkdir_all(st, op->s[0], op->i[0], 0755) < 0) ||
	    (fd = plan_open_in_root(st, op->s[0], op->i[0], O_PATH | O_DIRECTORY)) < 0)
		return -1;
	r = fchdir(fd);
	close_keep(fd);
	return r;
}

int op_write_file(struct plan_state *st, const struct plan_op *op)
{
	const char *v = op->s[1];
	size_t left = op->slen[1];
	ssize_t n;
	int fd;

	if ((fd = plan_open_in_root(st, op->s[0], op->i[0], O_WRONLY | O_NOFOLLOW)) < 0)
		return missing(op->i[0]);
	for (; left > 0; v += n, left -= n)
		if ((n = write(fd, v, left)) < 0) {
			close_keep(fd);
			return -1;
		}
	return close(fd);
}

int op_prctl(struct plan_state *st, const struct plan_op *op)
{
	(void)st;
	return prctl(op->i[0], op->i[1], 0, 0, 0) < 0 ? -1 : 0;
}

/* op_setns joins the namespace at path (the mount namespace needs a
 * filesystem context of our own: unshare CLONE_FS, as namespaces.Join). */
int op_setns(struct plan_state *st, const struct plan_op *op)
{
	int fd = open(op->s[0], O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	if ((op->i[0] & CLONE_NEWNS) && unshare(CLONE_FS) < 0) {
		close_keep(fd);
		return plan_detail(st, "unshare(CLONE_FS)");
	}
	r = setns(fd, op->i[0]);
	close_keep(fd);
	/* In another mount namespace, the root is its path there. */
	if (r == 0 && (op->i[0] & CLONE_NEWNS) && root_path[0] != '\0')
		r = set_root(st, root_path);
	return r;
}

int op_unshare(struct plan_state *st, const struct plan_op *op)
{
	(void)st;
	return unshare(op->i[0]);
}

int op_hostname(struct plan_state *st, const struct plan_op *op)
{
	(void)st;
	return sethostname(op->s[0], op->slen[0]);
}

int op_domainname(struct plan_state *st, const struct plan_op *op)
{
	(void)st;
	return setdomainname(op->s[0], op->slen[0]);
}

/* op_loopback_up brings lo up (SIOCSIFFLAGS on an AF_INET socket). */
int op_loopback_up(struct plan_state *st, const struct plan_op *op)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	(void)op;
	if (fd < 0)
		return plan_detail(st, "socket");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		plan_detail(st, "SIOCGIFFLAGS lo");
	else if (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		plan_detail(st, "SIOCSIFFLAGS lo");
	else
		r = 0;
	close_keep(fd);
	return r;
}
