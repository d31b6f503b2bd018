/*
 * The plan's interpreter: the container's init, in C, before any Go
 * runtime starts. The wire format, the operations and their arguments are
 * documented once, in package plan (internal/plan/plan.go); this header
 * mirrors its numbers (internal/plan's tests check that they agree).
 *
 * The interpreter decides nothing: it checks the whole plan, then carries
 * the operations out in order, each a function of plan_fs.c or
 * plan_proc.c, and reports each one's result and time (plan.c).
 */
#ifndef MINIMAL_DOCKER_PLAN_H
#define MINIMAL_DOCKER_PLAN_H

#include <stdint.h>
#include <stddef.h>

#define PLAN_MAGIC "MDPLAN\0\1"
#define PLAN_MAX (4u << 20)
#define PLAN_MAX_OPS 4096u
#define PLAN_MAX_STEP 63u
#define PLAN_MAX_STR (1u << 20)
#define PLAN_MAX_INTS 4
#define PLAN_MAX_STRS 4

#define PLAN_FLAG_EXPLAIN 1u

/* Operation codes (package plan: Op...). */
#define OP_WAIT_GO 1
#define OP_HOOKS 2
#define OP_READY 3
#define OP_WAIT_START 4
#define OP_FIFO_OPEN 5
#define OP_FIFO_WAIT 6
#define OP_FIFO_GO 7
#define OP_PRCTL 8
#define OP_SETNS 9
#define OP_UNSHARE 10
#define OP_HOSTNAME 11
#define OP_DOMAINNAME 12
#define OP_LOOPBACK_UP 13
#define OP_WRITE_FILE 14
#define OP_PIDS_OPEN 15
#define OP_PIDS_WRITE 16
#define OP_SET_ROOT 17
#define OP_MOUNT 18
#define OP_SETATTR 19
#define OP_MASK 20
#define OP_MKNOD 21
#define OP_CHECK_DEV 22
#define OP_SYMLINK 23
#define OP_MKDIR 24
#define OP_PIVOT_ROOT 25
#define OP_CHROOT 26
#define OP_CHDIR 27
#define OP_HOOK 28
#define OP_RLIMIT 29
#define OP_BOUNDING 30
#define OP_CAPS 31
#define OP_SET_USER 32
#define OP_UMASK 33
#define OP_SECCOMP 34
#define OP_CONSOLE 35
#define OP_PASS_FDS 36
#define OP_EXEC 37
#define OP_MOVE_TREE 38
#define OP_NUM 39

/* The most mount trees the Go frame may carry (OP_MOVE_TREE). */
#define PLAN_MAX_TREES 64

/* pathflags */
#define PF_HOST (1u << 0)
#define PF_MKDIR (1u << 1)
#define PF_MKFILE (1u << 2)
#define PF_IGNORE_MISSING (1u << 3)
#define PF_SOURCE_IN_ROOT (1u << 4)

/* userflags (OP_SET_USER ints [uid, gid, userflags]) */
#define USER_KEEPCAPS (1u << 0)
#define USER_NO_SETGROUPS (1u << 1)

/* consoleflags (OP_CONSOLE ints [uid, rows, cols, consoleflags]) */
#define CONSOLE_BIND (1u << 0)

/* OP_CHDIR: ints [pathflags]; strs [path]: PF_MKDIR makes it first */

/* execflags */
#define EXEC_SEARCH (1u << 0)
#define EXEC_TINY_INIT (1u << 1)

/* causes of an error report */
#define CAUSE_NONE 0
#define CAUSE_NOT_FOUND 1
#define CAUSE_NOT_EXECUTABLE 2

/* handshake frame kinds (package handshake) */
#define KIND_CONFIG 1
#define KIND_GO 2
#define KIND_READY 3
#define KIND_START 4
#define KIND_ERROR 5
#define KIND_CONSOLE 6
#define KIND_HOOKS 7
#define KIND_RESUME 8
#define KIND_REPORT 9

/* One decoded operation. Strings are NUL-terminated copies (s[k][slen[k]]
 * is 0); a path string with a NUL inside is refused by the parser. */
struct plan_op {
	uint16_t code;
	uint8_t nint, nstr;
	char step[PLAN_MAX_STEP + 1];
	uint64_t i[PLAN_MAX_INTS];
	char *s[PLAN_MAX_STRS];
	uint32_t slen[PLAN_MAX_STRS];
};

struct plan {
	uint32_t flags;
	uint32_t nops;
	struct plan_op *ops;
};

/* What the operations share. */
struct plan_state {
	int conn;      /* the handshake socket, or -1 once closed */
	int root;      /* O_PATH fd of the root for in-root paths, or -1 */
	int fifo_dir;  /* O_PATH fd of the exec fifo's directory, or -1 */
	char fifo_name[256];
	int fifo;      /* the exec fifo's write end after OP_FIFO_WAIT, or -1 */
	int pids;      /* pids.max kept by OP_PIDS_OPEN, or -1 */
	int cause;     /* CAUSE_* of the failing op (OP_EXEC) */
	char detail[512]; /* what the failing op adds to errno, or "" */
	const struct plan *plan;
	uint32_t cur;  /* the op being carried out */
	uint32_t *micros; /* each done op's time */
	const struct plan_op *filter; /* OP_SECCOMP once its filter is installed: see plan_may */
	int trees[PLAN_MAX_TREES]; /* the mount trees the Go frame carried (OP_MOVE_TREE), -1 once moved */
	int ntrees;
};

/*
 * An operation: 0 when done, 1 when skipped as the plan allowed
 * (PF_IGNORE_MISSING), -1 with errno set (and st->detail, st->cause when
 * they say more) when it failed.
 */
typedef int (*plan_fn)(struct plan_state *st, const struct plan_op *op);

/* plan.c */
int plan_send(struct plan_state *st, int kind, const void *body, size_t len, int fd_to_pass);
int plan_wait(struct plan_state *st, int kind);
int plan_detail(struct plan_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int plan_may(const struct plan_state *st, long nr, int fd); /* 1: the seccomp filter (if any) lets syscall nr on fd through */
int plan_main(int conn); /* runs the plan read from conn; returns only on failure, the exit status */

/* plan_fs.c: in-root path resolution, and the namespace and filesystem ops */
int plan_open_in_root(struct plan_state *st, const char *path, uint64_t pathflags, int flags);
int plan_mkdir_all(struct plan_state *st, const char *path, uint64_t pathflags, int mode);
int op_prctl(struct plan_state *, const struct plan_op *);
int op_setns(struct plan_state *, const struct plan_op *);
int op_unshare(struct plan_state *, const struct plan_op *);
int op_hostname(struct plan_state *, const struct plan_op *);
int op_domainname(struct plan_state *, const struct plan_op *);
int op_loopback_up(struct plan_state *, const struct plan_op *);
int op_write_file(struct plan_state *, const struct plan_op *);
int op_set_root(struct plan_state *, const struct plan_op *);
int op_mount(struct plan_state *, const struct plan_op *);
int op_setattr(struct plan_state *, const struct plan_op *);
int op_mask(struct plan_state *, const struct plan_op *);
int op_mknod(struct plan_state *, const struct plan_op *);
int op_check_dev(struct plan_state *, const struct plan_op *);
int op_symlink(struct plan_state *, const struct plan_op *);
int op_mkdir(struct plan_state *, const struct plan_op *);
int op_pivot_root(struct plan_state *, const struct plan_op *);
int op_chroot(struct plan_state *, const struct plan_op *);
int op_chdir(struct plan_state *, const struct plan_op *);
int op_move_tree(struct plan_state *, const struct plan_op *);

/* plan_proc.c: the process, its credentials, hooks, the exec fifo and the exec */
int op_fifo_open(struct plan_state *, const struct plan_op *);
int op_fifo_wait(struct plan_state *, const struct plan_op *);
int op_fifo_go(struct plan_state *, const struct plan_op *);
int op_pids_open(struct plan_state *, const struct plan_op *);
int op_pids_write(struct plan_state *, const struct plan_op *);
int op_hook(struct plan_state *, const struct plan_op *);
int op_rlimit(struct plan_state *, const struct plan_op *);
int op_bounding(struct plan_state *, const struct plan_op *);
int op_caps(struct plan_state *, const struct plan_op *);
int op_set_user(struct plan_state *, const struct plan_op *);
int op_umask(struct plan_state *, const struct plan_op *);
int op_seccomp(struct plan_state *, const struct plan_op *);
int op_console(struct plan_state *, const struct plan_op *);
int op_pass_fds(struct plan_state *, const struct plan_op *);
int op_exec(struct plan_state *, const struct plan_op *);
/* After OP_FIFO_WAIT, plan.c's error path calls this instead of sending an
 * Error frame: it writes the current op's failure (errno err, st->detail)
 * to the exec fifo as start reads it, and closes the fifo. */
int plan_fifo_fail(struct plan_state *st, int err);

#endif
