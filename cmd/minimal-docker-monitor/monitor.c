/*
 * minimal-docker-monitor: the monitor of one detached container
 * (issue 15; measured beside conmon in tests/monitor). Started by the CLI, it
 * detaches (fork, setsid, fork) so that it outlives the CLI, becomes a
 * child subreaper, and runs the OCI runtime:
 *
 *   RUNTIME [--runtime-arg...] create --bundle B --pid-file P ID
 *     with the container's stdout and stderr as pipes that it holds;
 *   RUNTIME start ID (unless --no-start: the CLI starts it later);
 *
 * then tells the CLI (which waits for it) "ok PID" or the runtime's error.
 * It copies the container's stdout and stderr into LOG in Docker's
 * json-file format, rotated by --log-max-size/--log-max-file (LOG,
 * LOG.1, ... LOG.N-1), waits for the container's init (reaping every other
 * child), writes the exit record atomically (temp file + rename) and runs
 * RUNTIME delete ID. A log write that fails (a full disk) loses the record
 * but not the container: the loss is counted, written into the log when a
 * write succeeds again, and put in the exit record.
 *
 * The exit record, one JSON object in EXIT_FILE (read by the CLI's
 * store: internal/store.ExitRecord; keep the two in step):
 *
 *   {"exit_code":N,"oom_killed":BOOL,"started_at":"RFC3339",
 *    "finished_at":"RFC3339","log_lost_bytes":N}
 *
 * exit_code is 128+N for a process killed by signal N, -1 when the init
 * was not the monitor's child to wait for; started_at is "" with
 * --no-start.
 *
 * Stdin and the pty: without --stdin the container's stdin is /dev/null;
 * with it, a pipe whose write end the monitor holds (input comes from
 * attached clients). With --tty (process.terminal in the bundle) the
 * monitor passes --console-socket DIR/console.sock to the runtime's create
 * and receives the pty master over SCM_RIGHTS; the pty's output goes to
 * the log as stream "stdout", as Docker's does.
 *
 * The attach socket (--attach-socket PATH): a SOCK_SEQPACKET unix socket
 * that any number of clients connect to, for as long as the container
 * runs. Paths longer than sun_path's 108 bytes are bound (and must be
 * connected) through /proc/self/fd/N/NAME, N an O_PATH descriptor of the
 * socket's directory, as conmon does. Each packet starts with a type byte:
 *
 *   monitor -> client: 1 DATA (stdout, or the pty's output), 2 DATA
 *     (stderr); DATA up to 16 KiB, from the moment the client connected
 *     (no replay: the log has the past).
 *   client -> monitor: 0 DATA  input for the container's stdin (dropped
 *     without --stdin); 1 "ROWS COLS" (decimal text) the pty's window size
 *     (TIOCSWINSZ: the container's foreground process gets SIGWINCH);
 *     2  close the container's stdin (Docker's StdinOnce; not with a pty).
 *     A packet holds at most 8 KiB.
 *
 * When the container ends the monitor sends what is left of its output,
 * writes the exit record, then closes every client's connection: the
 * client reads the exit code from the store. A client never blocks or
 * kills the monitor: output is sent without waiting (MSG_DONTWAIT), and a
 * client whose socket buffer is full loses that packet (a slow client may
 * lose output rather than stall the container); a client that went away
 * is dropped at its first error. Input the container does not take at once
 * is kept (one packet's worth) and no client is read until it is taken:
 * typing into a container that does not read stalls the clients' input,
 * never the monitor.
 *
 * Built statically by make build (gcc -static -Os), installed beside
 * minimal-docker, which starts it for `run -d` (internal/cli/docker).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNTIME_ARGS 16
#define LINE_MAX_BYTES 16384 /* Docker splits longer lines the same way */

struct opts {
	const char *runtime, *id, *bundle, *pid_file, *log, *exit_file;
	const char *runtime_args[MAX_RUNTIME_ARGS];
	int n_runtime_args, no_start, max_file;
	long long max_size;
	const char *attach_dir, *attach_name; /* --attach-socket, split; or NULL */
	int stdin_open, tty;       /* --stdin, --tty */
};

/* A stream of the container (stdout or stderr): its pipe and the line
 * being gathered. */
struct stream {
	const char *name;
	int id; /* the attach socket's type byte for it */
	int fd;
	size_t len;
	char line[LINE_MAX_BYTES];
};

struct logfile {
	const char *path;
	int fd;
	long long size, max_size;
	int max_file;
	long long lost_bytes, lost_since_note;
	int lost_errno;
};

static void fail(int sync, const char *fmt, ...)
{
	char msg[1024];
	int n = snprintf(msg, sizeof msg, "error ");
	va_list ap;

	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof msg - n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof msg)
		n = sizeof msg - 1;
	if (sync >= 0 && write(sync, msg, n) < 0)
		_exit(2);
	_exit(1);
}

static void now_rfc3339(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

/* spawn runs RUNTIME [runtime args] argv... with the given stdio and
 * returns its pid (or -1 with errno). */
static pid_t spawn(const struct opts *o, const char *const *argv, int in, int out, int err)
{
	const char *args[MAX_RUNTIME_ARGS + 16];
	int n = 0;

	args[n++] = o->runtime;
	for (int i = 0; i < o->n_runtime_args; i++)
		args[n++] = o->runtime_args[i];
	while (*argv && n < (int)(sizeof args / sizeof args[0]) - 1)
		args[n++] = *argv++;
	args[n] = NULL;

	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	execv(o->runtime, (char *const *)args);
	_exit(127);
}

/* run_runtime runs a runtime command to its end; its error output goes to
 * errbuf. Returns its wait status, or -1. Other children that end meanwhile
 * stay zombies until the main loop reaps them. */
static int run_runtime(const struct opts *o, const char *const *argv, int out, int err,
		       char *errbuf, size_t errsize)
{
	int p[2] = { -1, -1 }, status;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	errbuf[0] = 0;
	if (devnull < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = spawn(o, argv, devnull, out >= 0 ? out : devnull, err >= 0 ? err : p[1]);
	close(p[1]);
	close(devnull);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	size_t n = 0;
	ssize_t r;
	while (n < errsize - 1 && (r = read(p[0], errbuf + n, errsize - 1 - n)) != 0) {
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0)
			n += r;
	}
	errbuf[n] = 0;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* json_escape appends s[0:n] to out as the inside of a JSON string;
 * out must hold 6*n bytes. Returns the length written. */
static size_t json_escape(char *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = c;
		} else if (c == '\n') {
			out[k++] = '\\';
			out[k++] = 'n';
		} else if (c == '\r') {
			out[k++] = '\\';
			out[k++] = 'r';
		} else if (c == '\t') {
			out[k++] = '\\';
			out[k++] = 't';
		} else if (c < 0x20) {
			memcpy(out + k, "\\u00", 4);
			out[k + 4] = hex[c >> 4];
			out[k + 5] = hex[c & 15];
			k += 6;
		} else {
			out[k++] = c;
		}
	}
	return k;
}

static int log_open(struct logfile *l)
{
	struct stat st;

	l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (l->fd < 0)
		return -1;
	l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

/* log_rotate renames LOG.i to LOG.i+1 (the oldest falls off), LOG to
 * LOG.1, and opens a new LOG; with one file it truncates LOG. */
static int log_rotate(struct logfile *l)
{
	char from[4096], to[4096];

	close(l->fd);
	l->fd = -1;
	if (l->max_file <= 1) {
		if (truncate(l->path, 0) < 0 && errno != ENOENT)
			return -1;
		return log_open(l);
	}
	for (int i = l->max_file - 1; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof from, "%s", l->path);
		else
			snprintf(from, sizeof from, "%s.%d", l->path, i - 1);
		snprintf(to, sizeof to, "%s.%d", l->path, i);
		if (rename(from, to) < 0 && errno != ENOENT)
			return -1;
	}
	return log_open(l);
}

/* log_write writes one record whole or not at all: a short write (a full
 * disk) is cut back so that the file stays valid JSON lines. */
static int log_write(struct logfile *l, const char *rec, size_t n)
{
	if (l->fd < 0 && log_open(l) < 0)
		return -1;
	if (l->max_size > 0 && l->size > 0 && l->size + (long long)n > l->max_size &&
	    log_rotate(l) < 0)
		return -1;
	ssize_t w = write(l->fd, rec, n);
	if (w == (ssize_t)n) {
		l->size += n;
		return 0;
	}
	int e = w < 0 ? errno : ENOSPC;
	if (w > 0 && ftruncate(l->fd, l->size) < 0)
		l->size += w; /* cannot cut it back: the next line starts mid-file */
	errno = e;
	return -1;
}

static void log_record(struct logfile *l, const char *stream, const char *text, size_t n)
{
	static char rec[LINE_MAX_BYTES * 6 + 128];
	char ts[64];
	size_t k;

	now_rfc3339(ts, sizeof ts);
	if (l->lost_since_note > 0) {
		char note[256];
		int m = snprintf(note, sizeof note,
				 "minimal-docker-monitor: %lld bytes of log lost: %s\n",
				 l->lost_since_note, strerror(l->lost_errno));
		k = snprintf(rec, sizeof rec, "{\"log\":\"");
		k += json_escape(rec + k, note, m);
		k += snprintf(rec + k, sizeof rec - k, "\",\"stream\":\"stderr\",\"time\":\"%s\"}\n", ts);
		if (log_write(l, rec, k) == 0)
			l->lost_since_note = 0;
	}
	k = snprintf(rec, sizeof rec, "{\"log\":\"");
	k += json_escape(rec + k, text, n);
	k += snprintf(rec + k, sizeof rec - k, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, ts);
	if (l->lost_since_note > 0 || log_write(l, rec, k) < 0) {
		if (l->lost_since_note == 0)
			l->lost_errno = errno;
		l->lost_bytes += n;
		l->lost_since_note += n;
	}
}

/* ---- stdin, the pty and the attach socket (see the header comment) ---- */

#define ATTACH_MSG_MAX 8192

struct attach {
	int listen_fd;  /* the attach socket; -1 without one */
	int console_fd; /* the console socket, until the master comes; -1 */
	int dir_fd;     /* O_PATH of the sockets' directory; -1 */
	const char *sock_name;
	int in_fd;      /* the container's stdin (pipe or pty master); -1 */
	int in_pipe;    /* the container's end of the stdin pipe until create; -1 */
	int tty_fd;     /* the pty master, for the window size; -1 */
	int *clients;
	int n_clients, cap_clients;
	size_t pending; /* input the container has not taken yet */
	char *in_buf;   /* ATTACH_MSG_MAX+1: a client's packet (and a 0); then the input pending */
	char console_path[64];
};

/* sock_at names the socket NAME of the directory a->dir_fd, short enough
 * for sun_path whatever the directory's path. */
static int sock_at(const struct attach *a, const char *name, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", a->dir_fd, name);
	return n < (int)sizeof sa->sun_path ? 0 : -1;
}

/* listen_at binds a new socket of the type to NAME in the directory. */
static int listen_at(const struct attach *a, const char *name, int type)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || sock_at(a, name, &sa) < 0)
		goto fail;
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* attach_setup opens the attach socket, the stdin pipe (--stdin, without
 * --tty) and the console socket (--tty); the runtime's create then takes
 * *stdin_fd as the container's stdin and *console as --console-socket
 * (NULL without --tty). Returns -1 with errno. */
static int attach_setup(struct attach *a, const struct opts *o, int *stdin_fd, const char **console)
{
	*console = NULL;
	if (o->attach_dir) {
		a->sock_name = o->attach_name;
		a->dir_fd = open(o->attach_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (a->dir_fd < 0 || (a->listen_fd = listen_at(a, a->sock_name, SOCK_SEQPACKET)) < 0)
			return -1;
	}
	if (o->stdin_open && !o->tty) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		a->in_pipe = *stdin_fd = p[0];
		a->in_fd = p[1];
		fcntl(a->in_fd, F_SETFL, O_NONBLOCK);
	}
	if (o->tty) {
		if (a->dir_fd < 0) {
			errno = EINVAL; /* --tty needs --attach-socket's directory */
			return -1;
		}
		if ((a->console_fd = listen_at(a, "console.sock", SOCK_STREAM)) < 0)
			return -1;
		/* the runtime connects through our descriptor of the directory */
		snprintf(a->console_path, sizeof a->console_path, "/proc/%d/fd/%d/console.sock",
			 getpid(), a->dir_fd);
		*console = a->console_path;
	}
	return 0;
}

/* create_args is the runtime's create command (argv holds 10): with
 * --console-socket when the container has a pty. */
static void create_args(const struct opts *o, const char *console, const char **argv)
{
	int n = 0;

	argv[n++] = "create";
	if (console) {
		argv[n++] = "--console-socket";
		argv[n++] = console;
	}
	const char *rest[] = { "--bundle", o->bundle, "--pid-file", o->pid_file, o->id, NULL };
	memcpy(argv + n, rest, sizeof rest);
}

/* attach_created runs once create has succeeded: the container holds its
 * end of the stdin pipe, and the runtime has sent the pty master to the
 * console socket (--tty). Returns the master (-1 without --tty or on
 * failure, errno set). */
static int attach_created(struct attach *a, const struct opts *o)
{
	if (a->in_pipe >= 0) {
		close(a->in_pipe);
		a->in_pipe = -1;
	}
	if (a->console_fd < 0)
		return -1;
	struct sockaddr_un sa;
	if (sock_at(a, "console.sock", &sa) == 0)
		unlink(sa.sun_path);
	int conn = accept4(a->console_fd, NULL, NULL, SOCK_CLOEXEC);
	close(a->console_fd);
	a->console_fd = -1;
	if (conn < 0)
		return -1;
	char name[256], cbuf[CMSG_SPACE(sizeof(int))]; /* a longer name is cut: unused */
	struct iovec iov = { name, sizeof name };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	int master = -1;
	struct timeval tv = { 30, 0 }; /* the runtime sent it before it exited */
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (recvmsg(conn, &m, MSG_CMSG_CLOEXEC) > 0) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&master, CMSG_DATA(c), sizeof master);
	}
	close(conn);
	if (master < 0) {
		errno = EPROTO;
		return -1;
	}
	fcntl(master, F_SETFL, O_NONBLOCK);
	a->tty_fd = fcntl(master, F_DUPFD_CLOEXEC, 0);
	if (o->stdin_open)
		a->in_fd = a->tty_fd;
	return master;
}

static void attach_drop(struct attach *a, int i)
{
	close(a->clients[i]);
	a->clients[i] = a->clients[--a->n_clients];
}

/* attach_broadcast sends a stream's bytes to every client, without
 * waiting: a full socket loses the packet, a broken one is dropped. */
static void attach_broadcast(struct attach *a, int id, const char *data, size_t n)
{
	unsigned char type = id;
	struct iovec iov[2] = { { &type, 1 }, { (void *)data, n } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

	for (int i = 0; i < a->n_clients; i++)
		if (sendmsg(a->clients[i], &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			attach_drop(a, i--);
}

/* attach_input writes what is pending to the container's stdin, as much
 * as it takes now. */
static void attach_input(struct attach *a)
{
	while (a->pending > 0 && a->in_fd >= 0) {
		ssize_t w = write(a->in_fd, a->in_buf, a->pending);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) { /* the reader is gone: nothing will take input again */
			if (a->in_fd != a->tty_fd)
				close(a->in_fd);
			a->in_fd = -1;
			break;
		}
		memmove(a->in_buf, a->in_buf + w, a->pending - w);
		a->pending -= w;
	}
	if (a->in_fd < 0)
		a->pending = 0;
}

/* attach_message handles a client's packet (see the header comment). */
static void attach_message(struct attach *a, int i)
{
	char *msg = a->in_buf; /* nothing is pending: the caller checked */
	ssize_t n = recv(a->clients[i], msg, ATTACH_MSG_MAX, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		attach_drop(a, i);
		return;
	}
	switch (msg[0]) {
	case 0:
		if (a->in_fd >= 0 && n > 1) {
			memmove(a->in_buf, msg + 1, n - 1);
			a->pending = n - 1;
			attach_input(a);
		}
		break;
	case 1: {
		struct winsize ws = { 0 };
		unsigned rows, cols;
		msg[n] = 0;
		if (a->tty_fd >= 0 && sscanf(msg + 1, "%u %u", &rows, &cols) == 2) {
			ws.ws_row = rows;
			ws.ws_col = cols;
			ioctl(a->tty_fd, TIOCSWINSZ, &ws);
		}
		break;
	}
	case 2:
		if (a->in_fd >= 0 && a->in_fd != a->tty_fd) {
			close(a->in_fd);
			a->in_fd = -1;
			a->pending = 0;
		}
		break;
	}
}

/* attach_poll fills fds with what the attach side waits for: the
 * listening socket, the stdin when input is pending (then no client is
 * read), and the clients. Returns how many; fds holds 2+n_clients. */
static int attach_poll(const struct attach *a, struct pollfd *fds)
{
	int n = 0;
	short client_events = a->pending > 0 ? 0 : POLLIN;

	fds[n++] = (struct pollfd){ a->listen_fd, POLLIN, 0 };
	fds[n++] = (struct pollfd){ a->pending > 0 ? a->in_fd : -1, POLLOUT, 0 };
	for (int i = 0; i < a->n_clients; i++)
		fds[n++] = (struct pollfd){ a->clients[i], client_events, 0 };
	return n;
}

/* attach_events handles what attach_poll's descriptors reported. */
static void attach_events(struct attach *a, const struct pollfd *fds, int n)
{
	if (fds[1].revents)
		attach_input(a);
	/* the clients in fds (a new client may be added below) */
	for (int k = n - 1; k >= 2; k--) {
		int i = k - 2;
		if (i >= a->n_clients || a->clients[i] != fds[k].fd)
			continue;
		if (fds[k].revents & POLLIN) {
			if (a->pending == 0) /* else the packet waits in its socket */
				attach_message(a, i);
		} else if (fds[k].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			attach_drop(a, i);
		}
	}
	if (fds[0].revents & POLLIN) {
		int c;
		while ((c = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			if (a->n_clients == a->cap_clients) {
				int cap = a->cap_clients ? 2 * a->cap_clients : 4;
				int *cl = realloc(a->clients, cap * sizeof *cl);
				if (!cl) {
					close(c);
					break;
				}
				a->clients = cl;
				a->cap_clients = cap;
			}
			a->clients[a->n_clients++] = c;
		}
	}
}

/* attach_close ends every client's connection and removes the socket. */
static void attach_close(struct attach *a)
{
	struct sockaddr_un sa;

	while (a->n_clients > 0)
		attach_drop(a, 0);
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		a->listen_fd = -1;
		if (sock_at(a, a->sock_name, &sa) == 0)
			unlink(sa.sun_path);
	}
}

/* stream_read reads what the pipe (or the pty) holds, sends it to the
 * attached clients and logs each complete line (and a line that fills the
 * buffer). Returns 1 when it read, 0 at end of file (EIO: the pty's slave
 * is closed), 2 when the pipe is empty. */
static int stream_read(struct stream *s, struct logfile *l, struct attach *a)
{
	ssize_t r = read(s->fd, s->line + s->len, sizeof s->line - s->len);

	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 2 : 0;
	if (r > 0)
		attach_broadcast(a, s->id, s->line + s->len, r);
	if (r == 0) {
		if (s->len > 0)
			log_record(l, s->name, s->line, s->len);
		s->len = 0;
		return 0;
	}
	s->len += r;
	size_t start = 0;
	for (size_t i = s->len - r; i < s->len; i++) {
		if (s->line[i] == '\n') {
			log_record(l, s->name, s->line + start, i + 1 - start);
			start = i + 1;
		}
	}
	if (start == 0 && s->len == sizeof s->line) { /* a partial record, as Docker's */
		log_record(l, s->name, s->line, s->len);
		start = s->len;
	}
	memmove(s->line, s->line + start, s->len - start);
	s->len -= start;
	return 1;
}

/* find_memory_cgroup finds the file that counts the OOM kills of the
 * container's memory cgroup from its init's /proc/PID/cgroup: v1
 * memory.oom_control, or v2 memory.events on a pure v2 host. */
static void find_memory_cgroup(pid_t pid, char *out, size_t size)
{
	char path[64], line[4096];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *ctrl = strchr(line, ':'), *cg = ctrl ? strchr(ctrl + 1, ':') : NULL;
		if (!cg)
			continue;
		*cg++ = 0;
		ctrl++;
		if (strcmp(ctrl, "memory") == 0 || strstr(ctrl, "memory,") || strstr(ctrl, ",memory")) {
			snprintf(out, size, "/sys/fs/cgroup/memory%s/memory.oom_control", cg);
			break;
		}
		if (ctrl[0] == 0 && access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
			snprintf(out, size, "/sys/fs/cgroup%s/memory.events", cg);
	}
	fclose(f);
}

/* oom_kills reads the oom_kill count of that file; -1 when unknown. */
static long oom_kills(const char *file)
{
	char line[256];
	long n = -1;
	FILE *f;

	if (!file[0] || !(f = fopen(file, "re")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "oom_kill %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static int write_exit_file(const char *path, int code, int oom, const char *started,
			   const char *finished, const struct logfile *l)
{
	char tmp[4096], buf[512];
	int n = snprintf(buf, sizeof buf,
			 "{\"exit_code\":%d,\"oom_killed\":%s,\"started_at\":\"%s\","
			 "\"finished_at\":\"%s\",\"log_lost_bytes\":%lld}\n",
			 code, oom ? "true" : "false", started, finished, l->lost_bytes);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, buf, n) != n || fsync(fd) < 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

static void usage(void)
{
	fprintf(stderr, "usage: minimal-docker-monitor --runtime PATH [--runtime-arg ARG]... "
			"--id ID --bundle DIR --pid-file FILE --log FILE [--log-max-size BYTES] "
			"[--log-max-file N] --exit-file FILE [--no-start] [--attach-socket PATH] "
			"[--stdin] [--tty]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option long_opts[] = {
		{ "runtime", 1, 0, 'r' }, { "runtime-arg", 1, 0, 'a' }, { "id", 1, 0, 'i' },
		{ "bundle", 1, 0, 'b' },  { "pid-file", 1, 0, 'p' },    { "log", 1, 0, 'l' },
		{ "log-max-size", 1, 0, 's' }, { "log-max-file", 1, 0, 'f' },
		{ "exit-file", 1, 0, 'e' }, { "no-start", 0, 0, 'n' },
		{ "attach-socket", 1, 0, 'A' }, { "stdin", 0, 0, 'I' }, { "tty", 0, 0, 'T' },
		{ 0, 0, 0, 0 },
	};
	int c;

	o->max_file = 1;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case 'r': o->runtime = optarg; break;
		case 'a':
			if (o->n_runtime_args == MAX_RUNTIME_ARGS)
				usage();
			o->runtime_args[o->n_runtime_args++] = optarg;
			break;
		case 'i': o->id = optarg; break;
		case 'b': o->bundle = optarg; break;
		case 'p': o->pid_file = optarg; break;
		case 'l': o->log = optarg; break;
		case 's': o->max_size = atoll(optarg); break;
		case 'f': o->max_file = atoi(optarg); break;
		case 'e': o->exit_file = optarg; break;
		case 'n': o->no_start = 1; break;
		case 'A': { /* split in place: no path buffer on the stack */
			char *slash = strrchr(optarg, '/');
			o->attach_dir = slash ? (slash == optarg ? "/" : optarg) : ".";
			o->attach_name = slash ? slash + 1 : optarg;
			if (slash && slash != optarg)
				*slash = 0;
			break;
		}
		case 'I': o->stdin_open = 1; break;
		case 'T': o->tty = 1; break;
		default: usage();
		}
	}
	if (!o->runtime || !o->id || !o->bundle || !o->pid_file || !o->log || !o->exit_file ||
	    o->max_file < 1 || o->max_size < 0 || optind != argc || (o->tty && !o->attach_dir))
		usage();
}

/* detach forks twice: the CLI's process waits for the monitor's word on
 * the sync pipe ("ok PID" or "error MSG") and exits with it; the monitor,
 * in a session of its own, returns the pipe's write end. */
static int detach(void)
{
	int p[2];
	char msg[1024];

	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("minimal-docker-monitor: pipe");
		exit(1);
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("minimal-docker-monitor: fork");
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		waitpid(pid, NULL, 0);
		ssize_t n = 0, r;
		while (n < (ssize_t)sizeof msg - 1 && (r = read(p[0], msg + n, sizeof msg - 1 - n)) != 0)
			if (r > 0)
				n += r;
			else if (errno != EINTR)
				break;
		msg[n] = 0;
		if (strncmp(msg, "ok ", 3) == 0) {
			printf("%s\n", msg + 3);
			exit(0);
		}
		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = 0;
		fprintf(stderr, "minimal-docker-monitor: %s\n", n > 6 ? msg + 6 : "monitor died");
		exit(1);
	}
	close(p[0]);
	if (setsid() < 0 || (pid = fork()) < 0)
		fail(p[1], "setsid/fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	return p[1];
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct logfile l = { .fd = -1 };
	static struct stream out = { .name = "stdout", .id = 1 }, err = { .name = "stderr", .id = 2 },
			     pty = { .name = "stdout", .id = 1, .fd = -1 };
	/* on the stack, the input buffer apart: a page dirtied only by input */
	static char attach_in[ATTACH_MSG_MAX + 1];
	struct attach att = { .listen_fd = -1, .console_fd = -1, .dir_fd = -1, .in_fd = -1,
			      .in_pipe = -1, .tty_fd = -1, .in_buf = attach_in };
	/* started stays empty with --no-start: the CLI that starts it keeps the time */
	char errbuf[2048], started[64] = "", finished[64], memcg[4096];
	int op[2], ep[2], status, code = -1;

	parse(argc, argv, &o);
	close_range(3, ~0U, 0); /* the CLI's descriptors are not ours to keep open */
	l.path = o.log;
	l.max_size = o.max_size;
	l.max_file = o.max_file;
	int sync = detach();

	/* stdio: /dev/null; the runtime's errors reach us through pipes */
	int devnull = open("/dev/null", O_RDWR);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		fail(sync, "/dev/null: %s", strerror(errno));
	close(devnull);
	if (chdir("/") < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fail(sync, "subreaper: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0)
		fail(sync, "pipes: %s", strerror(errno));
	if (log_open(&l) < 0)
		fail(sync, "log %s: %s", o.log, strerror(errno));
	int in = 0;
	const char *console;
	if (attach_setup(&att, &o, &in, &console) < 0)
		fail(sync, "attach socket %s/%s: %s", o.attach_dir, o.attach_name, strerror(errno));

	/* create: the runtime and the container's init get our pipes */
	const char *create[10];
	create_args(&o, console, create);
	pid_t cpid = spawn(&o, create, in, op[1], ep[1]);
	close(op[1]);
	close(ep[1]);
	if (cpid < 0)
		fail(sync, "runtime create: %s", strerror(errno));
	while (waitpid(cpid, &status, 0) < 0)
		if (errno != EINTR)
			fail(sync, "runtime create: wait: %s", strerror(errno));
	fcntl(op[0], F_SETFL, O_NONBLOCK);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ssize_t n = read(ep[0], errbuf, sizeof errbuf - 1);
		errbuf[n > 0 ? n : 0] = 0;
		fail(sync, "runtime create: %s", n > 0 ? errbuf : "failed");
	}
	int master = attach_created(&att, &o);
	if (master >= 0)
		pty.fd = master; /* else pty stays untouched: its page not dirtied */
	else if (o.tty) {
		const char *kill[] = { "delete", "--force", o.id, NULL };
		char ignored[256];
		run_runtime(&o, kill, -1, -1, ignored, sizeof ignored);
		fail(sync, "the pty master from the runtime: %s", strerror(errno));
	}
	FILE *pf = fopen(o.pid_file, "re");
	int pid = 0;
	if (!pf || fscanf(pf, "%d", &pid) != 1 || pid <= 0)
		fail(sync, "pid file %s: no pid", o.pid_file);
	fclose(pf);
	find_memory_cgroup(pid, memcg, sizeof memcg);
	long oom_before = oom_kills(memcg);

	if (!o.no_start) {
		const char *start[] = { "start", o.id, NULL };
		status = run_runtime(&o, start, -1, -1, errbuf, sizeof errbuf);
		if (status != 0) {
			const char *kill[] = { "delete", "--force", o.id, NULL };
			char ignored[256];
			run_runtime(&o, kill, -1, -1, ignored, sizeof ignored);
			fail(sync, "runtime start: %s", errbuf[0] ? errbuf : "failed");
		}
		now_rfc3339(started, sizeof started);
	}
	dprintf(sync, "ok %d", pid);
	close(sync);

	/* copy the logs and reap until the container's init has ended */
	struct stream *streams[3] = { &out, &err, &pty };
	out.fd = op[0];
	err.fd = ep[0];
	while (code < 0) {
		struct pollfd fds[6 + att.n_clients]; /* a VLA: freed each turn */
		fds[0] = (struct pollfd){ sfd, POLLIN, 0 };
		for (int i = 0; i < 3; i++)
			fds[i + 1] = (struct pollfd){ streams[i]->fd, POLLIN, 0 };
		int n = 4 + attach_poll(&att, fds + 4);
		if (poll(fds, n, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 3; i++)
			if (streams[i]->fd >= 0 && (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    stream_read(streams[i], &l, &att) == 0) {
				close(streams[i]->fd);
				streams[i]->fd = -1;
			}
		attach_events(&att, fds + 4, n - 4);
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) > 0)
				;
		}
		pid_t w;
		while ((w = waitpid(-1, &status, WNOHANG)) > 0)
			if (w == pid)
				code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (w < 0 && errno == ECHILD && code < 0)
			break; /* the init is not our child: cannot learn its status */
	}
	now_rfc3339(finished, sizeof finished);
	/* what the init wrote before it ended is in the pipes already */
	for (int i = 0; i < 3; i++) {
		while (streams[i]->fd >= 0 && stream_read(streams[i], &l, &att) == 1)
			;
		if (streams[i]->len > 0)
			log_record(&l, streams[i]->name, streams[i]->line, streams[i]->len);
	}
	long oom_after = oom_kills(memcg);
	int oom = oom_before >= 0 && oom_after > oom_before;

	write_exit_file(o.exit_file, code, oom, started, finished, &l);
	attach_close(&att); /* the clients learn the end, and read the record */
	const char *del[] = { "delete", "--force", o.id, NULL };
	run_runtime(&o, del, -1, -1, errbuf, sizeof errbuf);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return 0;
}
