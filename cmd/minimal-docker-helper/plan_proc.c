/*
 * The plan's process operations (package plan: OpFifoOpen .. OpExec): the
 * exec fifo, the pids limit, hooks, rlimits, capabilities, ids, umask,
 * the seccomp filter, the console, the fds passed on, and the exec (with
 * the command looked up in PATH, or run under a tiny init that stays PID
 * 1). Each is one function; a failure returns -1 with errno set, and
 * st->detail (plan_detail) and st->cause where they say more.
 *
 * The process is single-threaded: raw system calls change it whole.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "plan.h"

/* FAIL sets errno to err and the detail, and is -1 (st in scope). */
#define FAIL(err, ...) ({ int e_ = (err); plan_detail(st, __VA_ARGS__); errno = e_; -1; })

/* lower is s with its first letter in lower case, as Go writes errors
 * ("killed", "no such file or directory"). */
static const char *lower(const char *s)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s", s);
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* The exec fifo has had its "0" (OP_FIFO_GO): an error now follows it. */
static int fifo_said_go;

int op_fifo_open(struct plan_state *st, const struct plan_op *op)
{
	if (op->slen[1] == 0 || op->slen[1] >= sizeof(st->fifo_name) || strchr(op->s[1], '/'))
		return FAIL(EINVAL, "bad exec fifo name");
	st->fifo_dir = open(op->s[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st->fifo_dir < 0)
		return FAIL(errno, "open the exec fifo's directory");
	memcpy(st->fifo_name, op->s[1], op->slen[1] + 1);
	return 0;
}

/* op_fifo_wait hangs up on the parent (create is over), then blocks in
 * open until `start` opens the fifo for reading. */
int op_fifo_wait(struct plan_state *st, const struct plan_op *op)
{
	int fd;

	(void)op;
	if (st->fifo_dir < 0)
		return FAIL(EBADF, "no exec fifo (fifo-open)");
	if (st->conn >= 0)
		close(st->conn);
	st->conn = -1;
	do
		fd = openat(st->fifo_dir, st->fifo_name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return FAIL(errno, "open the exec fifo %s", st->fifo_name);
	close(st->fifo_dir);
	st->fifo_dir = -1;
	st->fifo = fd;
	return 0;
}

/* op_fifo_go tells start that the exec follows; the fifo stays open
 * (close-on-exec), so start sees its end at the exec. */
int op_fifo_go(struct plan_state *st, const struct plan_op *op)
{
	(void)op;
	if (st->fifo < 0)
		return FAIL(EBADF, "no exec fifo (fifo-wait)");
	if (write(st->fifo, "0", 1) != 1)
		return FAIL(errno, "write the exec fifo");
	fifo_said_go = 1;
	return 0;
}

/*
 * plan_fifo_fail writes the failure of the current op (errno err, and
 * st->detail) to the exec fifo after OP_FIFO_WAIT, as `start` reads it:
 * "1" and the message, or the message alone after the "0". One write of
 * less than PIPE_BUF bytes. A hook reads as today's: "init STEP: KIND
 * hook #N (PATH): DETAIL". 0 when there is no fifo to write to.
 */
int plan_fifo_fail(struct plan_state *st, int err)
{
	const struct plan_op *op;
	char msg[PIPE_BUF - 1];
	int n = 0, k, nhook = 0;
	uint32_t j;

	if (st->fifo < 0 || st->plan == NULL || st->cur >= st->plan->nops)
		return 0;
	op = &st->plan->ops[st->cur];
	if (!fifo_said_go)
		msg[n++] = '1';
	if (op->code == OP_HOOK) {
		for (j = 0; j < st->cur; j++)
			nhook += st->plan->ops[j].code == OP_HOOK && !strcmp(st->plan->ops[j].step, op->step);
		k = (int)strcspn(op->step, "-");
		n += snprintf(msg + n, sizeof(msg) - n, "init %s: %.*s hook #%d (%s): %s",
			      op->step, k, op->step, nhook, op->s[0], st->detail);
	} else {
		n += snprintf(msg + n, sizeof(msg) - n, "init %s: %s%s%s%s%s", op->step,
			      op->code == OP_EXEC ? op->s[0] : "", op->code == OP_EXEC ? ": " : "",
			      lower(strerror(err)), st->detail[0] ? ": " : "", st->detail);
	}
	if (n > (int)sizeof(msg) - 1)
		n = sizeof(msg) - 1;
	k = plan_may(st, SYS_write, st->fifo) ? write(st->fifo, msg, n) : -1;
	close(st->fifo);
	st->fifo = -1;
	return k;
}

int op_pids_open(struct plan_state *st, const struct plan_op *op)
{
	st->pids = open(op->s[0], O_RDWR | O_CLOEXEC);
	return st->pids < 0 ? FAIL(errno, "open %s", op->s[0]) : 0;
}

/* op_pids_write writes the limit unless pids.max holds one already (an
 * update between create and start set it: it stands). */
int op_pids_write(struct plan_state *st, const struct plan_op *op)
{
	char buf[32], val[24];
	ssize_t n;
	int r = 0, len;

	if (st->pids < 0)
		return FAIL(EBADF, "no pids.max open (pids-open)");
	n = pread(st->pids, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		r = FAIL(errno, "read pids.max");
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	if (n == 3 && !memcmp(buf, "max", 3)) {
		len = snprintf(val, sizeof(val), "%lld", (long long)op->i[0]);
		if (write(st->pids, val, len) != len)
			r = FAIL(errno, "write %s to pids.max", val);
	}
	close(st->pids);
	st->pids = -1;
	return r;
}

/* list splits a NUL-separated list (each element NUL-terminated) into a
 * NULL-terminated array (malloc'd; the caller frees it); NULL with errno
 * for a list that does not end in NUL. */
static char **list(const char *s, uint32_t len)
{
	size_t n = 0, k = 0;
	uint32_t i;
	char **v;

	if (len > 0 && s[len - 1] != '\0')
		return errno = EINVAL, NULL;
	for (i = 0; i < len; i++)
		n += s[i] == '\0';
	v = calloc(n + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (i = 0; i < len; i += strlen(s + i) + 1)
		v[k++] = (char *)s + i;
	return v;
}

/* now_ms is the monotonic clock in milliseconds. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* hook_child is the hook's process: its own process group, the state on
 * stdin, its output into the pipe, no other fd (the preserved ones are not
 * the hook's); an execve error goes back on ep. */
static void hook_child(const struct plan_op *op, char **argv, char **envp, int in, int out, int ep)
{
	sigset_t none;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);
	if (dup2(in, 0) >= 0 && dup2(out, 1) >= 0 && dup2(out, 2) >= 0 &&
	    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		execve(op->s[0], argv, envp);
	err = errno;
	(void)!write(ep, &err, sizeof(err));
	_exit(127);
}

/*
 * op_hook runs a hook: the state (strs[3]) on its stdin through a pipe
 * filled before the fork, its output kept for the error. A non-zero
 * exit or a signal fails with ECANCELED, the timeout (ints[0] seconds,
 * 0: none; the hook's process group killed) with ETIMEDOUT, and the
 * detail as today's hook errors: "exit status 7: OUTPUT".
 */
int op_hook(struct plan_state *st, const struct plan_op *op)
{
	char **argv = list(op->s[1], op->slen[1]), **envp = list(op->s[2], op->slen[2]);
	char *self[] = {op->s[0], NULL}, out[512];
	int in[2] = {-1, -1}, po[2] = {-1, -1}, ep[2] = {-1, -1}, pidfd = -1, err = 0, status, r = -1;
	int timed_out = 0;
	long long deadline = op->i[0] ? now_ms() + (long long)op->i[0] * 1000 : 0;
	size_t nout = 0;
	ssize_t n;
	pid_t pid;

	if (argv == NULL || envp == NULL) {
		r = FAIL(EINVAL, "bad argv or envp list");
		goto out;
	}
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(po, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		r = FAIL(errno, "pipe");
		goto out;
	}
	if (op->slen[3] > 65536)
		fcntl(in[1], F_SETPIPE_SZ, op->slen[3]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (write(in[1], op->s[3], op->slen[3]) != (ssize_t)op->slen[3]) {
		r = FAIL(errno ? errno : E2BIG, "write the state (%u bytes) to the hook's stdin", op->slen[3]);
		goto out;
	}
	close(in[1]);
	in[1] = -1;
	pid = fork();
	if (pid < 0) {
		r = FAIL(errno, "fork");
		goto out;
	}
	if (pid == 0)
		hook_child(op, argv[0] ? argv : self, envp[0] ? envp : environ, in[0], po[1], ep[1]);
	close(po[1]);
	close(ep[1]);
	po[1] = ep[1] = -1;
	while ((n = read(ep[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	pidfd = pidfd_open(pid, 0);
	if (n == sizeof(err) || pidfd < 0) {
		waitpid(pid, &status, 0);
		r = n == sizeof(err) ? FAIL(err, "execve") : FAIL(errno, "pidfd_open");
		goto out;
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = po[0], .events = POLLIN}};
		long long left = deadline ? deadline - now_ms() : -1;

		if (deadline && left <= 0) {
			timed_out = 1;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		if (poll(p, po[0] >= 0 ? 2 : 1, (int)(left > INT_MAX ? INT_MAX : left)) < 0 && errno != EINTR)
			break;
		if (p[1].revents) {
			char buf[4096];

			n = read(po[0], buf, sizeof(buf));
			if (n <= 0) {
				close(po[0]);
				po[0] = -1;
			}
			if (n > 0 && nout < sizeof(out) - 1) {
				n = (size_t)n < sizeof(out) - 1 - nout ? (size_t)n : sizeof(out) - 1 - nout;
				memcpy(out + nout, buf, n);
				nout += n;
			}
		}
		if (p[0].revents)
			break;
	}
	while (nout > 0 && (out[nout - 1] == '\n' || out[nout - 1] == ' '))
		nout--;
	out[nout] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		r = FAIL(ETIMEDOUT, "timed out after %llus: killed%s%s", (unsigned long long)op->i[0], nout ? ": " : "", out);
	else if (WIFSIGNALED(status))
		r = FAIL(ECANCELED, "signal: %s%s%s", lower(strsignal(WTERMSIG(status))), nout ? ": " : "", out);
	else if (WEXITSTATUS(status) != 0)
		r = FAIL(ECANCELED, "exit status %d%s%s", WEXITSTATUS(status), nout ? ": " : "", out);
	else
		r = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (po[i] >= 0)
			close(po[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	if (pidfd >= 0)
		close(pidfd);
	free(argv);
	free(envp);
	return r;
}

/* The ops below add to errno only which of their calls failed: the
 * parent's description of the op (package plan's Op.What) says the rest. */

int op_rlimit(struct plan_state *st, const struct plan_op *op)
{
	struct rlimit lim = {.rlim_cur = op->i[1], .rlim_max = op->i[2]};

	(void)st;
	return setrlimit((int)op->i[0], &lim);
}

/* op_bounding drops every capability the kernel knows (PR_CAPBSET_READ
 * answers EINVAL past the last) that is not in the keep mask. */
int op_bounding(struct plan_state *st, const struct plan_op *op)
{
	int c, in;

	for (c = 0; c < 64 && (in = prctl(PR_CAPBSET_READ, c, 0, 0, 0)) >= 0; c++)
		if (in && !(op->i[0] & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return FAIL(errno, "drop capability %d from the bounding set", c);
	return 0;
}

int op_caps(struct plan_state *st, const struct plan_op *op)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	int c;

	for (c = 0; c < 2; c++) {
		data[c].effective = (uint32_t)(op->i[0] >> (32 * c));
		data[c].permitted = (uint32_t)(op->i[1] >> (32 * c));
		data[c].inheritable = (uint32_t)(op->i[2] >> (32 * c));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return FAIL(errno, "clear the ambient set");
	for (c = 0; c < 64; c++)
		if ((op->i[3] & (1ull << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return FAIL(errno, "raise ambient capability %d", c);
	return 0;
}

/* op_set_user sets the groups, the gid, then the uid (raw calls: the
 * calling thread, the only one), keeping the permitted capabilities
 * across the change with keepcaps. */
int op_set_user(struct plan_state *st, const struct plan_op *op)
{
	uint32_t uid = (uint32_t)op->i[0], gid = (uint32_t)op->i[1], n = op->slen[0] / 4;
	gid_t *groups;

	if (op->slen[0] % 4 != 0 || n > NGROUPS_MAX)
		return FAIL(EINVAL, "bad list of groups (%u bytes)", op->slen[0]);
	if ((op->i[2] & USER_KEEPCAPS) && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return FAIL(errno, "prctl(PR_SET_KEEPCAPS)");
	if (!(op->i[2] & USER_NO_SETGROUPS)) {
		groups = calloc(n + 1, sizeof(*groups));
		if (groups == NULL)
			return FAIL(errno, "groups");
		memcpy(groups, op->s[0], op->slen[0]); /* little-endian u32s, as gid_t here */
		if (syscall(SYS_setgroups, (size_t)n, groups) < 0) {
			free(groups);
			return FAIL(errno, "setgroups");
		}
		free(groups);
	}
	if (syscall(SYS_setresgid, gid, gid, gid) < 0)
		return FAIL(errno, "setresgid");
	if (syscall(SYS_setresuid, uid, uid, uid) < 0)
		return FAIL(errno, "setresuid");
	if ((op->i[2] & USER_KEEPCAPS) && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return FAIL(errno, "prctl(PR_SET_KEEPCAPS, 0)");
	return 0;
}

int op_umask(struct plan_state *st, const struct plan_op *op)
{
	(void)st;
	umask((mode_t)(op->i[0] & 0777));
	return 0;
}

int op_seccomp(struct plan_state *st, const struct plan_op *op)
{
	uint32_t n = op->slen[0] / sizeof(struct sock_filter);
	struct sock_fprog prog = {.len = (unsigned short)n};
	int r;

	if (n == 0 || n > BPF_MAXINSNS || op->slen[0] % sizeof(struct sock_filter) != 0)
		return FAIL(EINVAL, "bad program of %u bytes (want 1 to %d instructions of 8 bytes)", op->slen[0], BPF_MAXINSNS);
	prog.filter = malloc(op->slen[0]); /* aligned, unlike the string */
	if (prog.filter == NULL)
		return FAIL(errno, "program");
	memcpy(prog.filter, op->s[0], op->slen[0]);
	r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)op->i[0], &prog);
	free(prog.filter);
	if (r >= 0) {
		st->filter = op;
		return 0;
	}
	if (errno == EINVAL && op->i[0] != 0)
		return FAIL(EINVAL, "this kernel may not know flags %#llx (linux.seccomp.flags)", (unsigned long long)op->i[0]);
	return -1;
}

/* bind_console binds the pty's slave on the root's /dev/console, made an
 * empty file when missing (runc's /dev/console). */
static int bind_console(struct plan_state *st, int slave)
{
	int fd = plan_open_in_root(st, "/dev/console", 0, O_WRONLY | O_CREAT | O_EXCL), tree, r = -1;

	if (fd < 0 && errno != EEXIST)
		return FAIL(errno, "create /dev/console");
	if (fd >= 0)
		close(fd);
	fd = plan_open_in_root(st, "/dev/console", 0, O_PATH);
	if (fd < 0)
		return FAIL(errno, "open /dev/console");
	tree = (int)syscall(SYS_open_tree, slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree >= 0)
		r = (int)syscall(SYS_move_mount, tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	if (r < 0)
		r = FAIL(errno, "bind the pty on /dev/console");
	if (tree >= 0)
		close(tree);
	close(fd);
	return r;
}

/*
 * op_console makes a new pty of the root's devpts (ints: the uid that owns
 * the slave, the window's rows and columns (0: the kernel's), and 1 to bind
 * the slave on /dev/console), sends the master to the parent ({"name":
 * "/dev/pts/N"}), and makes the slave the controlling terminal and fds 0-2
 * of this process, a session leader.
 */
int op_console(struct plan_state *st, const struct plan_op *op)
{
	struct winsize ws = {.ws_row = (unsigned short)op->i[1], .ws_col = (unsigned short)op->i[2]};
	int master, slave = -1, unlock = 0, fd, r = -1, len;
	unsigned int n;
	char body[64];
	struct stat sb;

	master = plan_open_in_root(st, "/dev/ptmx", 0, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return FAIL(errno, "open /dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0) {
		r = FAIL(errno, "unlockpt or ptsname (ioctl TIOCSPTLCK, TIOCGPTN)");
		goto out;
	}
	if (ws.ws_row && ws.ws_col && ioctl(master, TIOCSWINSZ, &ws) < 0) {
		r = FAIL(errno, "set the window size (ioctl TIOCSWINSZ)");
		goto out;
	}
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		r = FAIL(errno, "open /dev/pts/%u (ioctl TIOCGPTPEER)", n);
		goto out;
	}
	if (fstat(slave, &sb) < 0 || (sb.st_uid != (uid_t)op->i[0] && fchown(slave, (uid_t)op->i[0], -1) < 0)) {
		r = FAIL(errno, "chown /dev/pts/%u to uid %u", n, (unsigned)op->i[0]);
		goto out;
	}
	if ((op->i[3] & CONSOLE_BIND) && bind_console(st, slave) < 0)
		goto out;
	len = snprintf(body, sizeof(body), "{\"name\":\"/dev/pts/%u\"}", n);
	if (plan_send(st, KIND_CONSOLE, body, (size_t)len, master) < 0) {
		r = FAIL(errno, "send the pty master");
		goto out;
	}
	if (getsid(0) != getpid() && setsid() < 0) {
		r = FAIL(errno, "setsid");
		goto out;
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0) {
		r = FAIL(errno, "make /dev/pts/%u the controlling terminal (ioctl TIOCSCTTY)", n);
		goto out;
	}
	for (fd = 0; fd <= 2; fd++)
		if (fd == slave ? fcntl(fd, F_SETFD, 0) < 0 : dup2(slave, fd) < 0) {
			r = FAIL(errno, "make /dev/pts/%u fd %d", n, fd);
			goto out;
		}
	r = 0;
out:
	if (slave > 2)
		close(slave);
	close(master);
	return r;
}

/* op_pass_fds: fds 3..3+n-1 reach the program (--preserve-fds), no other
 * from 3 up; the init's own must not be among them. */
int op_pass_fds(struct plan_state *st, const struct plan_op *op)
{
	int own[] = {st->conn, st->root, st->fifo_dir, st->fifo, st->pids};
	uint64_t n = op->i[0];
	unsigned int fd, k;

	if (n > INT_MAX - 3)
		return FAIL(EINVAL, "%llu fds", (unsigned long long)n);
	for (k = 0; k < sizeof(own) / sizeof(own[0]); k++)
		if (own[k] >= 3 && (uint64_t)own[k] < 3 + n)
			return FAIL(EBADF, "fd %d, to pass on, is the init's own", own[k]);
	if (syscall(SYS_close_range, 3 + (unsigned)n, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return FAIL(errno, "close_range(CLOSE_RANGE_CLOEXEC)");
	for (fd = 3; fd < 3 + n; fd++)
		if (fcntl((int)fd, F_SETFD, 0) < 0)
			return FAIL(errno, "fcntl(F_SETFD) of preserved fd %u", fd);
	return 0;
}

/* executable is 0 for an executable file at p, or why not (the cause):
 * as rootfs.LookPath's checkExecutable. */
static int executable(const char *p)
{
	struct stat sb;

	if (stat(p, &sb) < 0)
		return errno == EACCES ? CAUSE_NOT_EXECUTABLE : CAUSE_NOT_FOUND;
	return S_ISDIR(sb.st_mode) || !(sb.st_mode & 0111) ? CAUSE_NOT_EXECUTABLE : 0;
}

/* lookup finds file as rootfs.LookPath does: a name with a slash as is,
 * any other in the PATH list (an empty entry is "."), the first
 * executable one; not found unless one was there but not executable. */
static int lookup(struct plan_state *st, const char *file, const char *path, char *out, size_t size)
{
	const char *dir, *end;
	int cause = CAUSE_NOT_FOUND, c, len;

	if (strchr(file, '/')) {
		cause = executable(file);
		snprintf(out, size, "%s", file);
	}
	for (dir = strchr(file, '/') ? NULL : path; dir != NULL; dir = *end ? end + 1 : NULL) {
		end = dir + strcspn(dir, ":");
		len = end == dir ? snprintf(out, size, "./%s", file)
				 : snprintf(out, size, "%.*s/%s", (int)(end - dir), dir, file);
		if (len < 0 || (size_t)len >= size)
			continue;
		if ((c = executable(out)) == 0)
			return 0;
		if (c == CAUSE_NOT_EXECUTABLE)
			cause = c;
	}
	if (cause == 0)
		return 0;
	st->cause = cause;
	if (cause == CAUSE_NOT_EXECUTABLE)
		return FAIL(EACCES, "\"%s\": permission denied: not an executable file", file);
	if (strchr(file, '/'))
		return FAIL(ENOENT, "\"%s\": executable file not found", file);
	return FAIL(ENOENT, "executable file not found in $PATH: \"%s\"", file);
}

/* exec_failed is a failed execve's error: not found (ENOENT) or not
 * executable, in the words of rootfs.ErrNotFound and ErrNotExecutable,
 * as lookup's: the text is all that reaches a start through the exec
 * fifo, or docker through the monitor, which tell 127 and 126 by it. */
static int exec_failed(struct plan_state *st, int err, const char *path)
{
	st->cause = err == ENOENT ? CAUSE_NOT_FOUND : CAUSE_NOT_EXECUTABLE;
	if (err == ENOENT)
		return FAIL(err, "exec \"%s\": executable file not found", path);
	return FAIL(err, "exec \"%s\": permission denied: not an executable file", path);
}

/* The signals the tiny init leaves alone: faults are its own. */
static const int own_signals[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU};

/*
 * tiny_init runs the command as a child and stays PID 1 (docker run
 * --init, as initproc's tinyInit): every other signal it can catch goes
 * to the child, every process that ends is reaped, and once the child
 * ends it exits with its status (128+N when killed by signal N). The
 * parent (run) or start sees the connection and the fifo close once the
 * child has exec'd; an execve failure is returned as exec's own.
 */
static int tiny_init(struct plan_state *st, const char *path, char **argv, char **envp)
{
	sigset_t fwd, old;
	int ep[2], err, status, code = 0;
	unsigned k;
	ssize_t n;
	pid_t pid, w;

	sigfillset(&fwd);
	for (k = 0; k < sizeof(own_signals) / sizeof(own_signals[0]); k++)
		sigdelset(&fwd, own_signals[k]);
	if (pipe2(ep, O_CLOEXEC) < 0)
		return FAIL(errno, "pipe");
	sigprocmask(SIG_BLOCK, &fwd, &old);
	pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		execve(path, argv, envp);
		err = errno;
		(void)!write(ep[1], &err, sizeof(err));
		_exit(127);
	}
	err = errno;
	close(ep[1]);
	if (pid < 0) {
		close(ep[0]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return FAIL(err, "fork");
	}
	while ((n = read(ep[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (n == sizeof(err)) {
		waitpid(pid, &status, 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return exec_failed(st, err, path);
	}
	prctl(PR_SET_NAME, "init", 0, 0, 0);
	/* PID 1 holds no fd at all once the child has exec'd: not the
	 * connection nor the fifo (the parent or start waits for their end),
	 * nor the root, the fifo's directory, pids.max, a preserved fd or
	 * stdio, all the child's business. */
	syscall(SYS_close_range, 0, ~0U, 0);
	st->conn = st->fifo = st->root = st->fifo_dir = st->pids = -1;
	for (;;) {
		int sig = sigwaitinfo(&fwd, NULL);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(pid, sig);
			continue;
		}
		while ((w = waitpid(-1, &status, WNOHANG)) > 0)
			if (w == pid)
				code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status), pid = -1;
		if (pid < 0)
			_exit(code);
	}
}

/*
 * op_exec executes the command: strs [file, argv, envp, PATH]; with
 * EXEC_SEARCH file is looked up first (not found: CAUSE_NOT_FOUND, found
 * but not executable: CAUSE_NOT_EXECUTABLE), with EXEC_TINY_INIT it runs
 * under the tiny init. It returns only on failure.
 */
int op_exec(struct plan_state *st, const struct plan_op *op)
{
	char **argv = list(op->s[1], op->slen[1]), **envp = list(op->s[2], op->slen[2]);
	char path[PATH_MAX];
	const char *exe = op->s[0];
	int r;

	if (argv == NULL || envp == NULL) {
		r = FAIL(EINVAL, "bad argv or envp list");
		goto out;
	}
	if (op->i[0] & EXEC_SEARCH) {
		if (lookup(st, op->s[0], op->s[3], path, sizeof(path)) < 0) {
			r = -1;
			goto out;
		}
		exe = path;
	}
	if (op->i[0] & EXEC_TINY_INIT) {
		r = tiny_init(st, exe, argv, envp);
		goto out;
	}
	execve(exe, argv, envp);
	r = exec_failed(st, errno, exe);
out:
	free(argv);
	free(envp);
	return r;
}
