/*
 * The plan's interpreter: the constructor that runs the container's init
 * (PID 1) from a plan, before any Go runtime starts. The format and the
 * operations are package plan's (internal/plan/plan.go); plan.h mirrors
 * its numbers.
 *
 * With ENV_PLAN=<fd> (and without nsenter.c's ENV_JOIN, whose child comes
 * here itself), the constructor never returns: plan_main reads one Config
 * frame from the socket fd, checks the whole plan (nothing is done for a
 * plan that breaks the format), then carries the operations out in order,
 * each timed, and exits with the status it returns. This file holds the
 * frame I/O, the parser, the dispatch, the reports and the protocol
 * operations (the wait points); plan_fs.c and plan_proc.c the others.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "plan.h"

#define ENV_PLAN "_MINIMAL_DOCKER_PLAN_FD"
#define ENV_JOIN "_MINIMAL_DOCKER_NSENTER"
#define EXIT_RUNTIME 125
#define FRAME_MAX (16u << 20) /* package handshake's MaxFrame */

/* Each code's number of ints and strings (package plan's Shapes), and the
 * strings that are not paths (bit k: string k may hold a NUL). */
static const struct {
	uint8_t nint, nstr, binary;
} shapes[OP_NUM] = {
	[OP_WAIT_GO] = {0, 0, 0}, [OP_HOOKS] = {0, 0, 0}, [OP_READY] = {0, 0, 0},
	[OP_WAIT_START] = {0, 0, 0}, [OP_FIFO_OPEN] = {0, 2, 0}, [OP_FIFO_WAIT] = {0, 0, 0},
	[OP_FIFO_GO] = {0, 0, 0}, [OP_PRCTL] = {2, 0, 0}, [OP_SETNS] = {1, 1, 0},
	[OP_UNSHARE] = {1, 0, 0}, [OP_HOSTNAME] = {0, 1, 0}, [OP_DOMAINNAME] = {0, 1, 0},
	[OP_LOOPBACK_UP] = {0, 0, 0}, [OP_WRITE_FILE] = {1, 2, 0x2}, [OP_PIDS_OPEN] = {0, 1, 0},
	[OP_PIDS_WRITE] = {1, 0, 0}, [OP_SET_ROOT] = {0, 1, 0}, [OP_MOUNT] = {2, 4, 0},
	[OP_SETATTR] = {4, 1, 0}, [OP_MASK] = {0, 1, 0}, [OP_MKNOD] = {4, 1, 0},
	[OP_CHECK_DEV] = {2, 1, 0}, [OP_SYMLINK] = {0, 2, 0}, [OP_MKDIR] = {1, 1, 0},
	[OP_PIVOT_ROOT] = {0, 0, 0}, [OP_CHROOT] = {0, 0, 0}, [OP_CHDIR] = {1, 1, 0},
	[OP_HOOK] = {1, 4, 0xe}, [OP_RLIMIT] = {3, 0, 0}, [OP_BOUNDING] = {1, 0, 0},
	[OP_CAPS] = {4, 0, 0}, [OP_SET_USER] = {3, 1, 0x1}, [OP_UMASK] = {1, 0, 0},
	[OP_SECCOMP] = {1, 1, 0x1}, [OP_CONSOLE] = {4, 0, 0}, [OP_PASS_FDS] = {1, 0, 0},
	[OP_EXEC] = {1, 4, 0x6}, [OP_MOVE_TREE] = {2, 1, 0},
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v, p[1] = v >> 8, p[2] = v >> 16, p[3] = v >> 24;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* plan_detail sets st->detail (what the failing op adds to errno) and
 * returns -1, errno kept: `return plan_detail(st, "...");`. */
int plan_detail(struct plan_state *st, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

/* plan_send sends a frame (4-byte big-endian length of kind and body,
 * kind, body), with fd_to_pass (>= 0) as SCM_RIGHTS. */
#if defined(__x86_64__)
#define PLAN_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PLAN_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/*
 * plan_may tells whether syscall nr on fd may be made after OP_SECCOMP:
 * the installed filter, run here as the kernel would run it (on nr, the
 * arch, fd as the first argument, no other argument or address), allows
 * or only logs it. A report or an error that it would not let through
 * (an errno, a kill, a trap, a notification) is dropped instead: the
 * parent gets no line for it, the container does not fail for it. An
 * instruction this does not know, or an unknown arch, answers no.
 */
int plan_may(const struct plan_state *st, long nr, int fd)
{
#ifdef PLAN_AUDIT_ARCH
	struct seccomp_data d = {.nr = (int)nr, .arch = PLAN_AUDIT_ARCH, .args = {(uint64_t)fd}};
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0}, n, pc, v;
	struct sock_filter in;

	if (st->filter == NULL)
		return 1;
	n = st->filter->slen[0] / sizeof(in);
	for (pc = 0; pc < n; pc++) {
		memcpy(&in, st->filter->s[0] + pc * sizeof(in), sizeof(in));
		v = BPF_SRC(in.code) == BPF_X ? x : in.k;
		switch (BPF_CLASS(in.code)) {
		case BPF_LD:
			if (in.code == (BPF_LD | BPF_W | BPF_ABS) && in.k % 4 == 0 && in.k <= sizeof(d) - 4)
				memcpy(&a, (const char *)&d + in.k, 4);
			else if (in.code == (BPF_LD | BPF_MEM) && in.k < BPF_MEMWORDS)
				a = mem[in.k];
			else if (in.code == (BPF_LD | BPF_IMM))
				a = in.k;
			else
				return 0;
			break;
		case BPF_LDX:
			if (in.code == (BPF_LDX | BPF_IMM))
				x = in.k;
			else if (in.code == (BPF_LDX | BPF_MEM) && in.k < BPF_MEMWORDS)
				x = mem[in.k];
			else
				return 0;
			break;
		case BPF_ST:
		case BPF_STX:
			if (in.k >= BPF_MEMWORDS)
				return 0;
			mem[in.k] = BPF_CLASS(in.code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			switch (BPF_OP(in.code)) {
			case BPF_AND: a &= v; break;
			case BPF_OR: a |= v; break;
			case BPF_XOR: a ^= v; break;
			case BPF_MUL: a *= v; break;
			case BPF_ADD: a += v; break;
			case BPF_SUB: a -= v; break;
			case BPF_NEG: a = -a; break;
			case BPF_LSH: a = v < 32 ? a << v : 0; break;
			case BPF_RSH: a = v < 32 ? a >> v : 0; break;
			default: return 0;
			}
			break;
		case BPF_JMP:
			switch (BPF_OP(in.code)) {
			case BPF_JA: pc += in.k; break;
			case BPF_JEQ: pc += a == v ? in.jt : in.jf; break;
			case BPF_JGT: pc += a > v ? in.jt : in.jf; break;
			case BPF_JGE: pc += a >= v ? in.jt : in.jf; break;
			case BPF_JSET: pc += (a & v) ? in.jt : in.jf; break;
			default: return 0;
			}
			break;
		case BPF_RET:
			v = BPF_RVAL(in.code) == BPF_A ? a : in.k;
			return (v & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ALLOW || (v & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_LOG;
		case BPF_MISC:
			if (BPF_MISCOP(in.code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		}
	}
	return 0;
#else
	(void)nr, (void)fd;
	return st->filter == NULL;
#endif
}

int plan_send(struct plan_state *st, int kind, const void *body, size_t len, int fd_to_pass)
{
	uint8_t hdr[5] = {(len + 1) >> 24, (len + 1) >> 16, (len + 1) >> 8, len + 1, kind};
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)body, len}};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t n;

	if (st->conn < 0) {
		errno = EPIPE;
		return -1;
	}
	if (!plan_may(st, SYS_sendmsg, st->conn)) {
		errno = EPERM;
		return -1;
	}
	if (fd_to_pass >= 0) {
		memset(&c, 0, sizeof(c));
		m.msg_control = c.buf;
		m.msg_controllen = sizeof(c.buf);
		c.h.cmsg_level = SOL_SOCKET;
		c.h.cmsg_type = SCM_RIGHTS;
		c.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&c.h), &fd_to_pass, sizeof(int));
	}
	/* A blocking stream socket sends it all (no signal handler cuts it). */
	n = sendmsg(st->conn, &m, MSG_NOSIGNAL);
	if (n >= 0 && (size_t)n != sizeof(hdr) + len)
		errno = EIO;
	return (size_t)n == sizeof(hdr) + len ? 0 : -1;
}

/* read_full reads len bytes; -1 at an error or the end of the stream. */
static int read_full(int fd, void *buf, size_t len)
{
	ssize_t n;

	for (; len > 0; buf = (char *)buf + n, len -= n) {
		n = read(fd, buf, len);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			if (n == 0)
				errno = EPIPE;
			return -1;
		}
	}
	return 0;
}

/* read_header reads a frame's length and kind; returns the body's length. */
static int64_t read_header(int fd, int *kind)
{
	uint8_t h[5];
	uint32_t n;

	if (read_full(fd, h, sizeof(h)) < 0)
		return -1;
	n = (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
	*kind = h[4];
	return n == 0 ? -1 : (int64_t)n - 1;
}

/* plan_wait waits for a frame of this kind from the parent and drops its
 * body. Another kind, or the end of the stream, means the parent is gone
 * or lost: the init exits 125 at once (there is no one to tell, and the
 * namespaces die with it); so it returns only when the frame came. */
int plan_wait(struct plan_state *st, int kind)
{
	char buf[4096];
	int64_t len, n;
	int k;

	len = read_header(st->conn, &k);
	if (len < 0 || k != kind || len > FRAME_MAX)
		_exit(EXIT_RUNTIME);
	for (; len > 0; len -= n) {
		n = len < (int64_t)sizeof(buf) ? len : (int64_t)sizeof(buf);
		if (read_full(st->conn, buf, n) < 0)
			_exit(EXIT_RUNTIME);
	}
	return 0;
}

/* wait_go waits for the Go frame (an empty body) and keeps the mount
 * trees it carries (SCM_RIGHTS: detached mounts the parent made, for
 * OP_MOVE_TREE) in st->trees. As plan_wait, it returns only when the
 * frame came. */
static int wait_go(struct plan_state *st)
{
	uint8_t h[5];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * PLAN_MAX_TREES)];
	} c;
	struct iovec iov = {h, sizeof(h)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf)};
	struct cmsghdr *cm;
	char buf[256];
	ssize_t n;
	int64_t len;

	/* The header comes whole with the descriptors (one sendmsg); the
	 * body, if any, is dropped as plan_wait drops it. */
	do
		n = recvmsg(st->conn, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	len = (int64_t)((uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3]) - 1;
	if (n != (ssize_t)sizeof(h) || (m.msg_flags & MSG_CTRUNC) || h[4] != KIND_GO || len < 0 || len > FRAME_MAX)
		_exit(EXIT_RUNTIME);
	for (; len > 0; len -= n) {
		n = len < (int64_t)sizeof(buf) ? len : (int64_t)sizeof(buf);
		if (read_full(st->conn, buf, n) < 0)
			_exit(EXIT_RUNTIME);
	}
	for (cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		st->ntrees = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(st->trees, CMSG_DATA(cm), st->ntrees * sizeof(int));
	}
	return 0;
}

/* op_wait: OP_WAIT_GO waits for Go, OP_WAIT_START for Start. */
static int op_wait(struct plan_state *st, const struct plan_op *op)
{
	if (op->code == OP_WAIT_GO)
		return wait_go(st);
	return plan_wait(st, KIND_START);
}

static int op_hooks(struct plan_state *st, const struct plan_op *op)
{
	(void)op;
	if (plan_send(st, KIND_HOOKS, "{}", 2, -1) < 0)
		_exit(EXIT_RUNTIME); /* the parent is gone, as in plan_wait */
	return plan_wait(st, KIND_RESUME);
}

/* op_ready sends Ready: u32 n, then (u32 index, u32 micros) of each op
 * done before this one. */
static int op_ready(struct plan_state *st, const struct plan_op *op)
{
	size_t len = 4 + 8 * (size_t)st->cur;
	uint8_t *b = malloc(len);
	uint32_t i;

	(void)op;
	if (b == NULL)
		return -1;
	put32(b, st->cur);
	for (i = 0; i < st->cur; i++) {
		put32(b + 4 + 8 * i, i);
		put32(b + 8 + 8 * i, st->micros[i]);
	}
	if (plan_send(st, KIND_READY, b, len, -1) < 0)
		_exit(EXIT_RUNTIME); /* the parent is gone */
	free(b);
	return 0;
}

static const plan_fn fns[OP_NUM] = {
	[OP_WAIT_GO] = op_wait, [OP_HOOKS] = op_hooks, [OP_READY] = op_ready,
	[OP_WAIT_START] = op_wait, [OP_FIFO_OPEN] = op_fifo_open, [OP_FIFO_WAIT] = op_fifo_wait,
	[OP_FIFO_GO] = op_fifo_go, [OP_PRCTL] = op_prctl, [OP_SETNS] = op_setns,
	[OP_UNSHARE] = op_unshare, [OP_HOSTNAME] = op_hostname, [OP_DOMAINNAME] = op_domainname,
	[OP_LOOPBACK_UP] = op_loopback_up, [OP_WRITE_FILE] = op_write_file, [OP_PIDS_OPEN] = op_pids_open,
	[OP_PIDS_WRITE] = op_pids_write, [OP_SET_ROOT] = op_set_root, [OP_MOUNT] = op_mount,
	[OP_SETATTR] = op_setattr, [OP_MASK] = op_mask, [OP_MKNOD] = op_mknod,
	[OP_CHECK_DEV] = op_check_dev, [OP_SYMLINK] = op_symlink, [OP_MKDIR] = op_mkdir,
	[OP_PIVOT_ROOT] = op_pivot_root, [OP_CHROOT] = op_chroot, [OP_CHDIR] = op_chdir,
	[OP_HOOK] = op_hook, [OP_RLIMIT] = op_rlimit, [OP_BOUNDING] = op_bounding,
	[OP_CAPS] = op_caps, [OP_SET_USER] = op_set_user, [OP_UMASK] = op_umask,
	[OP_SECCOMP] = op_seccomp, [OP_CONSOLE] = op_console, [OP_PASS_FDS] = op_pass_fds,
	[OP_EXEC] = op_exec, [OP_MOVE_TREE] = op_move_tree,
};

/*
 * parse decodes body (len bytes) into p, checking everything package
 * plan's Unmarshal checks, and that no path holds a NUL. Strings are
 * copied, NUL-terminated, into one arena. On a refusal it returns -1 with
 * *bad the index of the op at fault (nops, or UINT32_MAX before nops is
 * read, when it is the plan's) and st->detail saying what.
 */
static int parse(struct plan_state *st, const uint8_t *b, size_t len, struct plan *p, uint32_t *bad)
{
	const uint8_t *end = b + len;
	struct plan_op *op;
	char *arena;
	uint32_t i, k, n;

	*bad = UINT32_MAX;
	if (len < 16 || memcmp(b, PLAN_MAGIC, 8) != 0)
		return plan_detail(st, "malformed plan: no magic");
	p->flags = get32(b + 8);
	p->nops = *bad = get32(b + 12);
	if (p->nops > PLAN_MAX_OPS)
		return plan_detail(st, "malformed plan: %u operations, more than %u", p->nops, PLAN_MAX_OPS);
	b += 16;
	p->ops = calloc(p->nops ? p->nops : 1, sizeof(*p->ops));
	arena = malloc(len + 4 * (size_t)p->nops + 1);
	if (p->ops == NULL || arena == NULL)
		return plan_detail(st, "malformed plan: out of memory");
	for (i = 0; i < p->nops; i++) {
		op = &p->ops[i];
		*bad = i;
		if (end - b < 5)
			return plan_detail(st, "malformed plan: op %u: truncated", i);
		op->code = b[0] | b[1] << 8;
		op->nint = b[2], op->nstr = b[3], n = b[4];
		b += 5;
		if (op->code == 0 || op->code >= OP_NUM)
			return plan_detail(st, "malformed plan: op %u: unknown code %u", i, op->code);
		if (op->nint != shapes[op->code].nint || op->nstr != shapes[op->code].nstr)
			return plan_detail(st, "malformed plan: op %u: shape %u/%u, want %u/%u", i, op->nint,
					   op->nstr, shapes[op->code].nint, shapes[op->code].nstr);
		if (n > PLAN_MAX_STEP || (size_t)(end - b) < n + 8u * op->nint)
			return plan_detail(st, "malformed plan: op %u: truncated", i);
		memcpy(op->step, b, n);
		b += n;
		for (k = 0; k < op->nint; k++, b += 8)
			op->i[k] = get32(b) | (uint64_t)get32(b + 4) << 32;
		for (k = 0; k < op->nstr; k++) {
			if (end - b < 4)
				return plan_detail(st, "malformed plan: op %u: truncated", i);
			n = get32(b);
			b += 4;
			if (n > PLAN_MAX_STR || (size_t)(end - b) < n)
				return plan_detail(st, "malformed plan: op %u: string %u of %u bytes: too long or truncated", i, k, n);
			if (!(shapes[op->code].binary & 1 << k) && memchr(b, 0, n) != NULL)
				return plan_detail(st, "malformed plan: op %u: string %u: a path with a NUL", i, k);
			op->s[k] = memcpy(arena, b, n);
			op->slen[k] = n;
			arena[n] = '\0';
			arena += n + 1;
			b += n;
		}
	}
	*bad = p->nops;
	if (b != end)
		return plan_detail(st, "malformed plan: %zu bytes after the last op", (size_t)(end - b));
	return 0;
}

/* read_plan reads the Config frame and parses it (parse). */
static int read_plan(struct plan_state *st, struct plan *p, uint32_t *bad)
{
	uint8_t *body;
	int64_t len;
	int kind;

	*bad = UINT32_MAX; /* the plan's fault, not an op's */
	len = read_header(st->conn, &kind);
	if (len < 0)
		_exit(EXIT_RUNTIME); /* the parent is gone */
	if (kind != KIND_CONFIG) {
		errno = EINVAL;
		return plan_detail(st, "malformed plan: a frame of kind %d, not Config", kind);
	}
	if (len > PLAN_MAX) {
		errno = EINVAL;
		return plan_detail(st, "malformed plan: %lld bytes, more than %u", (long long)len, PLAN_MAX);
	}
	body = malloc(len ? len : 1);
	if (body == NULL)
		return plan_detail(st, "read the plan");
	if (read_full(st->conn, body, len) < 0)
		_exit(EXIT_RUNTIME); /* a truncated frame: the parent is gone */
	errno = EINVAL;
	if (parse(st, body, len, p, bad) < 0)
		return -1;
	free(body);
	return 0;
}

/* fail reports the failure of op index (errno, st->cause, st->detail) to
 * the parent, or to start through the exec fifo once the connection is
 * closed (OP_FIFO_WAIT: plan_fifo_fail), or else on stderr, and returns
 * the exit status. */
static int fail(struct plan_state *st, uint32_t index)
{
	int err = errno;
	size_t dlen = strlen(st->detail);
	uint8_t b[9 + sizeof(st->detail)];

	put32(b, index);
	put32(b + 4, (uint32_t)err);
	b[8] = st->cause;
	memcpy(b + 9, st->detail, dlen);
	if ((st->conn >= 0 ? plan_send(st, KIND_ERROR, b, 9 + dlen, -1) < 0 : plan_fifo_fail(st, err) <= 0) &&
	    plan_may(st, SYS_write, STDERR_FILENO))
		dprintf(STDERR_FILENO, "minimal-docker init: %s %u: %s%s%s\n", index < st->plan->nops ? "op" : "plan", index,
			strerror(err), dlen ? ": " : "", st->detail);
	return st->cause == CAUSE_NOT_FOUND ? 127 : st->cause == CAUSE_NOT_EXECUTABLE ? 126 : EXIT_RUNTIME;
}

static uint32_t since(const struct timespec *t0)
{
	struct timespec t;
	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &t);
	us = (t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000;
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

int plan_main(int conn)
{
	struct plan_state st = {.conn = conn, .root = -1, .fifo_dir = -1, .fifo = -1, .pids = -1};
	struct plan p = {0};
	struct timespec t0;
	uint8_t rep[12];
	uint32_t i;
	int r;

	st.plan = &p;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail(&st, UINT32_MAX);
	umask(0);
	if (read_plan(&st, &p, &i) < 0)
		return fail(&st, i);
	st.micros = calloc(p.nops ? p.nops : 1, sizeof(uint32_t));
	if (st.micros == NULL)
		return fail(&st, UINT32_MAX);
	for (i = 0; i < p.nops; i++) {
		st.cur = i;
		st.detail[0] = '\0'; /* a failing op reports its own detail, never an earlier op's */
		st.cause = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = fns[p.ops[i].code](&st, &p.ops[i]);
		st.micros[i] = since(&t0);
		if (r < 0)
			return fail(&st, i);
		if ((p.flags & PLAN_FLAG_EXPLAIN) && st.conn >= 0) {
			put32(rep, i);
			put32(rep + 4, st.micros[i]);
			put32(rep + 8, r == 0 ? 0 : (uint32_t)-1);
			plan_send(&st, KIND_REPORT, rep, sizeof(rep), -1);
		}
	}
	return 0;
}

/* The constructor: glibc runs it before the Go runtime starts. */
__attribute__((constructor)) static void plan_init(void)
{
	const char *v = getenv(ENV_PLAN);
	char *end;
	long fd;

	if (v == NULL || getenv(ENV_JOIN) != NULL)
		return;
	errno = 0;
	fd = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || fd < 3 || fd > INT_MAX || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		dprintf(STDERR_FILENO, "minimal-docker init: bad %s=%s\n", ENV_PLAN, v);
		_exit(EXIT_RUNTIME);
	}
	unsetenv(ENV_PLAN);
	_exit(plan_main((int)fd));
}
